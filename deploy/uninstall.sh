#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Removes the kiosk service, its udev rules, tools and releases. Configuration (/etc/kiosk) and
# state (/var/lib/kiosk: journal, outbox, refresh token) stay unless --purge is given, because the
# journal holds the merchant's bookkeeping. I2C/UART settings in config.txt are left as they are.
#
#   sudo deploy/uninstall.sh [--root DIR] [--purge]
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=SCRIPTDIR/lib/common.sh
. "$SCRIPT_DIR/lib/common.sh"

ROOT=/
PURGE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT="${2:?--root needs a directory}"; shift 2 ;;
    --purge) PURGE=1; shift ;;
    -h | --help) awk 'NR > 1 && /^#/ { if (!/shellcheck/) { sub(/^# ?/, ""); print }; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown argument: $1" ;;
  esac
done
[ -d "$ROOT" ] || die "--root $ROOT is not a directory"
R="$(cd "$ROOT" && pwd)"
R="${R%/}"

if is_real_root; then
  am_root || die "run as root (sudo)"
  systemctl disable --now kiosk.service 2>/dev/null || true
fi
rm -f "$R/etc/systemd/system/kiosk.service" "$R/etc/udev/rules.d/99-kiosk.rules" \
  "$R/etc/modules-load.d/kiosk.conf" "$R/usr/local/bin/kiosk" "$R/usr/local/sbin/kiosk-upgrade"
rm -rf "$R/usr/local/lib/kiosk" "$R/opt/kiosk"
if is_real_root; then
  systemctl daemon-reload
  udevadm control --reload || true
fi

if [ "$PURGE" -eq 1 ]; then
  rm -rf "$R/etc/kiosk" "$R/var/lib/kiosk"
  if is_real_root; then
    if id kiosk >/dev/null 2>&1; then userdel kiosk; fi
  else
    for f in passwd shadow group gshadow; do
      [ -f "$R/etc/$f" ] || continue
      # The user's own line, and the user in other groups' member lists.
      awk -F: -v OFS=: -v members="$([ "$f" = group ] || [ "$f" = gshadow ] && echo 1)" '$1 == "kiosk" { next }
        members && NF == 4 { n = split($NF, m, ","); out = ""; for (i = 1; i <= n; i++) if (m[i] != "kiosk") out = out (out == "" ? "" : ",") m[i]; $NF = out }
        { print }' "$R/etc/$f" >"$R/etc/$f.new"
      chmod --reference="$R/etc/$f" "$R/etc/$f.new"
      mv -f "$R/etc/$f.new" "$R/etc/$f"
    done
  fi
  log "kiosk removed, with its configuration, state and user"
else
  log "kiosk removed; /etc/kiosk and /var/lib/kiosk kept (--purge removes them)"
fi
