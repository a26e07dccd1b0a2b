# shellcheck shell=bash
# Releases live side by side under /opt/kiosk/releases/<version>, root-owned and read-only for
# the kiosk; /opt/kiosk/current is a relative link to one of them. Needs common.sh.

RELEASES=/opt/kiosk/releases
CURRENT=/opt/kiosk/current

valid_version() { printf '%s' "$1" | grep -qE '^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$'; }

# The version `current` points at ("" when there is no link).
current_version() {
  local t
  t="$(readlink "$R$CURRENT" 2>/dev/null || true)"
  printf '%s\n' "${t##*/}"
}

# install_release SRC VERSION: copies SRC to releases/VERSION through a temporary directory and
# one rename, so a half-copied release never carries the final name. An installed release is
# immutable: the same version with different content is refused.
install_release() {
  local src="$1" version="$2" dest tmp
  dest="$RELEASES/$version"
  if [ -d "$R$dest" ]; then
    diff -rq --no-dereference "$src" "$R$dest" >/dev/null 2>&1 ||
      die "release $version is already installed with different content; give the new build a new version"
    return 0
  fi
  tmp="$(mktemp -d "$R$RELEASES/.incoming.XXXXXX")"
  cp -R --no-dereference --preserve=mode,timestamps,links "$src/." "$tmp/"
  chmod -R go-w "$tmp"
  chmod 0755 "$tmp"
  if am_root; then chown -R 0:0 "$tmp"; fi
  mv -T "$tmp" "$R$dest"
  log "release $version installed in $dest"
}

# switch_current VERSION: atomic (a new link renamed over the old one).
switch_current() {
  [ -d "$R$RELEASES/$1" ] || die "no release $1"
  ensure_symlink "releases/$1" "$CURRENT"
}
