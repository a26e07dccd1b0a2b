# shellcheck shell=bash
# The kiosk's system user and its groups. On the real system (R empty) the shadow tools do the
# work (groupadd/useradd/usermod, non-interactive). Under a temporary root the entries are written
# into the root's /etc/passwd, /etc/group, /etc/shadow and /etc/gshadow directly: `useradd --root`
# needs chroot(2) (root privileges and a usable tree inside), and tests must run unprivileged.
# Needs common.sh.

SYSTEM_ID_MIN=100
SYSTEM_ID_MAX=999

# First free id in the system range, counted downwards like useradd --system does.
free_id() {
  local file="$1" id
  for ((id = SYSTEM_ID_MAX; id >= SYSTEM_ID_MIN; id--)); do
    if ! awk -F: -v i="$id" '$3 == i { found = 1 } END { exit !found }' "$R/etc/$file" 2>/dev/null; then
      printf '%s\n' "$id"
      return 0
    fi
  done
  die "no free system id in $R/etc/$file"
}

ensure_etc_files() {
  local f
  for f in passwd group shadow gshadow; do
    if [ ! -e "$R/etc/$f" ]; then
      mkdir -p "$R/etc"
      : >"$R/etc/$f"
      case "$f" in shadow | gshadow) chmod 0640 "$R/etc/$f" ;; *) chmod 0644 "$R/etc/$f" ;; esac
    fi
  done
  # A root without a root account cannot own anything: give it the usual first lines.
  grep -q '^root:' "$R/etc/passwd" || printf 'root:x:0:0:root:/root:/bin/bash\n' >>"$R/etc/passwd"
  grep -q '^root:' "$R/etc/group" || printf 'root:x:0:\n' >>"$R/etc/group"
}

ensure_group() {
  local name="$1" gid
  [ -n "$(gid_of "$name")" ] && return 0
  if is_real_root; then
    groupadd --system "$name"
  else
    gid="$(free_id group)"
    printf '%s:x:%s:\n' "$name" "$gid" >>"$R/etc/group"
    printf '%s:!::\n' "$name" >>"$R/etc/gshadow"
  fi
  log "created group $name"
}

# ensure_system_user NAME HOME: a locked system account with its own group and no login shell.
ensure_system_user() {
  local name="$1" home="$2" uid gid
  ensure_group "$name"
  [ -n "$(uid_of "$name")" ] && return 0
  if is_real_root; then
    useradd --system --gid "$name" --home-dir "$home" --no-create-home \
      --shell /usr/sbin/nologin --comment "self-service kiosk" "$name"
  else
    gid="$(gid_of "$name")"
    uid="$gid"
    if awk -F: -v i="$uid" '$3 == i { found = 1 } END { exit !found }' "$R/etc/passwd"; then
      uid="$(free_id passwd)"
    fi
    printf '%s:x:%s:%s:self-service kiosk:%s:/usr/sbin/nologin\n' "$name" "$uid" "$gid" "$home" >>"$R/etc/passwd"
    printf '%s:!*:19000::::::\n' "$name" >>"$R/etc/shadow"
  fi
  log "created user $name"
}

# True when USER is listed as a member of GROUP in the target root.
in_group() {
  awk -F: -v g="$2" -v u="$1" '$1 == g { n = split($4, m, ","); for (i = 1; i <= n; i++) if (m[i] == u) found = 1 }
    END { exit !found }' "$R/etc/group"
}

ensure_member() {
  local user="$1" group="$2" tmp
  ensure_group "$group"
  in_group "$user" "$group" && return 0
  if is_real_root; then
    usermod --append --groups "$group" "$user"
  else
    tmp="$(mktemp "$R/etc/group.XXXXXX")"
    awk -F: -v OFS=: -v g="$group" -v u="$user" '$1 == g { $4 = ($4 == "" ? u : $4 "," u) } { print }' \
      "$R/etc/group" >"$tmp"
    chmod --reference="$R/etc/group" "$tmp"
    mv -f "$tmp" "$R/etc/group"
  fi
  log "added $user to group $group"
}
