#!/usr/bin/env bash
# /usr/local/bin/kiosk: the technician's entry point on the Pi. `kiosk upgrade PKG` runs the
# root-owned upgrader (kept outside the releases so a broken release can still be rolled back);
# every other command goes to the current release's bin/kiosk. Run as root (sudo kiosk pair), it
# loads /etc/kiosk/secrets.env and drops to the kiosk user, so files it writes (refresh token,
# journal exports) belong to the kiosk as they would when the service writes them.
set -euo pipefail

BIN=/opt/kiosk/current/bin/kiosk
SECRETS=/etc/kiosk/secrets.env
export KIOSK_CONFIG="${KIOSK_CONFIG:-/etc/kiosk/kiosk.json}"

if [ "${1:-}" = upgrade ]; then
  shift
  exec /usr/local/sbin/kiosk-upgrade "$@"
fi

[ -x "$BIN" ] || {
  echo "error: no current release ($BIN missing): run install.sh" >&2
  exit 1
}

if [ "$(id -u)" -eq 0 ]; then
  # KEY=value lines as systemd reads them; the file is parsed, never executed.
  if [ -r "$SECRETS" ]; then
    while IFS= read -r line || [ -n "$line" ]; do
      case "$line" in '' | '#'*) continue ;; esac
      key="${line%%=*}"
      [[ "$key" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || continue
      value="${line#*=}"
      [ -z "$value" ] || export "$key=$value"
    done <"$SECRETS"
  fi
  exec runuser -u kiosk -- "$BIN" "$@"
fi
exec "$BIN" "$@"
