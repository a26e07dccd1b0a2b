# shellcheck shell=bash
# Helpers shared by install.sh, uninstall.sh and kiosk-upgrade.sh. Every helper is idempotent:
# it looks first and touches a file only when its content, mode or owner differs, so a second
# run leaves every mtime as it was.
#
# All paths are given WITHOUT the root prefix; the helpers add "$R" (the target root without its
# trailing slash: empty for /). Owners are resolved in the target root's /etc/passwd and
# /etc/group, so a temporary root gets its own numeric ids.

R="${R:-}"

log() { printf '%s\n' "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

is_real_root() { [ -z "$R" ]; }
am_root() { [ "$(id -u)" -eq 0 ]; }

# Numeric uid of a user in the target root ("" when absent).
uid_of() { awk -F: -v n="$1" '$1 == n { print $3; exit }' "$R/etc/passwd" 2>/dev/null || true; }
# Numeric gid of a group in the target root ("" when absent).
gid_of() { awk -F: -v n="$1" '$1 == n { print $3; exit }' "$R/etc/group" 2>/dev/null || true; }

# Sets owner (user:group names, resolved in the target root) and mode of one path, only if they
# differ. Ownership is skipped (with one warning) when not running as root, so tests can run
# unprivileged against a temporary root.
set_meta() {
  local path="$1" mode="$2" owner="$3"
  local user="${owner%%:*}" group="${owner##*:}" uid gid want cur
  [ "$(stat -c '%a' "$R$path")" = "$(printf '%o' "$((8#$mode))")" ] || chmod "$mode" "$R$path"
  am_root || {
    warn_once_chown
    return 0
  }
  uid="$(uid_of "$user")"
  gid="$(gid_of "$group")"
  [ -n "$uid" ] || die "no user $user in $R/etc/passwd"
  [ -n "$gid" ] || die "no group $group in $R/etc/group"
  want="$uid:$gid"
  cur="$(stat -c '%u:%g' "$R$path")"
  [ "$cur" = "$want" ] || chown -h "$want" "$R$path"
}

CHOWN_WARNED=0
warn_once_chown() {
  if [ "$CHOWN_WARNED" -eq 0 ]; then
    log "note: not running as root: owners are left as they are"
    CHOWN_WARNED=1
  fi
}

# ensure_dir PATH MODE USER:GROUP
ensure_dir() {
  [ -d "$R$1" ] || mkdir -p "$R$1"
  set_meta "$1" "$2" "$3"
}

# ensure_file_content PATH MODE USER:GROUP < content
# Replaces the file only when its content differs (write to a temporary file beside it, then
# rename, so a reader never sees half a file).
ensure_file_content() {
  local path="$1" mode="$2" owner="$3" cand tmp
  # The candidate is compared outside the target directory, so an unchanged file leaves even its
  # directory's mtime alone.
  cand="$(mktemp)"
  cat >"$cand"
  if [ -f "$R$path" ] && cmp -s "$cand" "$R$path"; then
    rm -f "$cand"
  else
    tmp="$(mktemp "$R$path.XXXXXX")"
    cat "$cand" >"$tmp"
    rm -f "$cand"
    chmod "$mode" "$tmp"
    mv -f "$tmp" "$R$path"
  fi
  set_meta "$path" "$mode" "$owner"
}

# ensure_file_from SRC PATH MODE USER:GROUP
ensure_file_from() { ensure_file_content "$2" "$3" "$4" <"$1"; }

# ensure_file_once SRC PATH MODE USER:GROUP: copies only if PATH is absent (operator-owned
# files such as kiosk.json and secrets.env are never overwritten); mode and owner are enforced.
ensure_file_once() {
  if [ ! -e "$R$2" ]; then
    ensure_file_content "$2" "$3" "$4" <"$1"
  else
    set_meta "$2" "$3" "$4"
  fi
}

# file_sum PATH: a checksum of the file, "" when absent (to tell whether a step changed it).
file_sum() {
  if [ -f "$R$1" ]; then cksum <"$R$1"; fi
}

# ensure_symlink TARGET PATH: atomically (temporary link + rename) when it must change.
ensure_symlink() {
  local target="$1" path="$2"
  if [ -L "$R$path" ] && [ "$(readlink "$R$path")" = "$target" ]; then
    return 0
  fi
  ln -sfn "$target" "$R$path.new"
  mv -T "$R$path.new" "$R$path"
}

# ensure_line FILE LINE [REGEX]: makes sure LINE is in FILE. A line matching REGEX (e.g. the same
# key with another value, or commented out) is replaced; otherwise LINE is appended.
ensure_line() {
  local file="$1" line="$2" regex="${3:-}" tmp
  [ -f "$R$file" ] || return 1
  grep -qxF -- "$line" "$R$file" && return 0
  tmp="$(mktemp "$R$file.XXXXXX")"
  if [ -n "$regex" ] && grep -qE -- "$regex" "$R$file"; then
    awk -v re="$regex" -v l="$line" 'done == 0 && $0 ~ re { print l; done = 1; next } { print }' "$R$file" >"$tmp"
  else
    cat "$R$file" >"$tmp"
    [ -z "$(tail -c1 "$R$file")" ] || printf '\n' >>"$tmp"
    printf '%s\n' "$line" >>"$tmp"
  fi
  chmod --reference="$R$file" "$tmp"
  mv -f "$tmp" "$R$file"
}
