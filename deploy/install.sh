#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Installs (or re-installs) the kiosk on Raspberry Pi OS Bookworm or Trixie. Idempotent: a second
# run with the same arguments changes nothing. See deploy/README.md and docs/operations.md.
#
#   sudo deploy/install.sh --release DIR --version V [--root DIR] [--install-node] [--no-systemctl]
#
# --release DIR   the built app (must contain bin/kiosk); copied to /opt/kiosk/releases/V
# --version V     release name, e.g. 1.4.0 (letters, digits, . _ + -)
# --root DIR      install into DIR instead of / (tests, image building); no systemctl, udevadm,
#                 raspi-config or package manager is run then, and users are written into DIR/etc
# --install-node  when node >= 20.19 is missing: Trixie's own nodejs package, or Node 22 from the
#                 NodeSource apt repository on Bookworm (whose nodejs is 18)
# --no-systemctl  do not enable or start the service (e.g. before kiosk.json is filled in)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=SCRIPTDIR/lib/common.sh
. "$SCRIPT_DIR/lib/common.sh"
# shellcheck source=SCRIPTDIR/lib/accounts.sh
. "$SCRIPT_DIR/lib/accounts.sh"
# shellcheck source=SCRIPTDIR/lib/boot-config.sh
. "$SCRIPT_DIR/lib/boot-config.sh"
# shellcheck source=SCRIPTDIR/lib/udev-rules.sh
. "$SCRIPT_DIR/lib/udev-rules.sh"
# shellcheck source=SCRIPTDIR/lib/node-runtime.sh
. "$SCRIPT_DIR/lib/node-runtime.sh"
# shellcheck source=SCRIPTDIR/lib/releases.sh
. "$SCRIPT_DIR/lib/releases.sh"

ROOT=/
RELEASE=""
VERSION=""
INSTALL_NODE=0
SYSTEMCTL=1

# The comment block at the top of this file, without shellcheck directives.
usage() { awk 'NR > 1 && /^#/ { if (!/shellcheck/) { sub(/^# ?/, ""); print }; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT="${2:?--root needs a directory}"; shift 2 ;;
    --release) RELEASE="${2:?--release needs a directory}"; shift 2 ;;
    --version) VERSION="${2:?--version needs a value}"; shift 2 ;;
    --install-node) INSTALL_NODE=1; shift ;;
    --no-systemctl) SYSTEMCTL=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

[ -n "$RELEASE" ] || die "--release DIR is required"
[ -n "$VERSION" ] || die "--version V is required"
valid_version "$VERSION" || die "--version: '$VERSION' is not a release name"
[ -d "$ROOT" ] || die "--root $ROOT is not a directory"
[ -x "$RELEASE/bin/kiosk" ] || die "--release $RELEASE has no executable bin/kiosk"
RELEASE="$(cd "$RELEASE" && pwd)"
R="$(cd "$ROOT" && pwd)"
R="${R%/}"
if is_real_root; then
  am_root || die "run as root (sudo)"
else
  SYSTEMCTL=0
fi

KIOSK_USER=kiosk
GROUPS_NEEDED=(gpio i2c dialout lp)

# 1. Node.js
if is_real_root; then
  ensure_node "$INSTALL_NODE"
else
  log "node check skipped under --root"
fi

# 2. User and groups
ensure_etc_files
ensure_system_user "$KIOSK_USER" /var/lib/kiosk
for g in "${GROUPS_NEEDED[@]}"; do ensure_member "$KIOSK_USER" "$g"; done

# 3. I2C and UART
enable_i2c_and_uart
ensure_dir /etc/modules-load.d 0755 root:root
printf 'i2c-dev\n' | ensure_file_content /etc/modules-load.d/kiosk.conf 0644 root:root

# 4. The release, beside the others, and the current link. A release is never changed once
#    installed: the same version with other content is refused.
ensure_dir /opt 0755 root:root
ensure_dir /opt/kiosk 0755 root:root
ensure_dir /opt/kiosk/releases 0755 root:root
LINK_BEFORE="$(current_version)"
install_release "$RELEASE" "$VERSION"
switch_current "$VERSION"

# 5. Configuration (root writes, kiosk reads; operator files are never overwritten)
ensure_dir /etc 0755 root:root
ensure_dir /etc/kiosk 0750 root:kiosk
EXAMPLE="$RELEASE/config/example.pi.json"
[ -f "$EXAMPLE" ] || EXAMPLE="$SCRIPT_DIR/../config/example.pi.json"
[ -f "$EXAMPLE" ] || die "no config/example.pi.json in the release or beside this script"
ensure_file_once "$EXAMPLE" /etc/kiosk/kiosk.json 0640 root:kiosk
ensure_file_once "$SCRIPT_DIR/secrets.env.example" /etc/kiosk/secrets.env 0640 root:kiosk
ensure_file_once "$SCRIPT_DIR/udev/devices.env.example" /etc/kiosk/devices.env 0644 root:root

# 6. State: only the kiosk reads it (journal, outbox, refresh token, health.json)
ensure_dir /var 0755 root:root
ensure_dir /var/lib 0755 root:root
ensure_dir /var/lib/kiosk 0750 kiosk:kiosk

# 7. udev rules for the reader and printer
ensure_dir /etc/udev 0755 root:root
ensure_dir /etc/udev/rules.d 0755 root:root
RULES_BEFORE="$(file_sum /etc/udev/rules.d/99-kiosk.rules)"
# Rendered first, so a bad devices.env stops here and the rules in place stay as they are.
RULES="$(render_udev_rules /etc/kiosk/devices.env)"
printf '%s\n' "$RULES" | ensure_file_content /etc/udev/rules.d/99-kiosk.rules 0644 root:root
if is_real_root && [ "$RULES_BEFORE" != "$(file_sum /etc/udev/rules.d/99-kiosk.rules)" ]; then
  if ! { udevadm control --reload && udevadm trigger --subsystem-match=tty --subsystem-match=usbmisc; }; then
    log "warning: udev did not reload; replug the reader and printer or reboot"
  fi
fi

# 8. Tools outside the releases (a broken release must not break its own roll-back)
ensure_dir /usr 0755 root:root
ensure_dir /usr/local 0755 root:root
ensure_dir /usr/local/lib 0755 root:root
ensure_dir /usr/local/lib/kiosk 0755 root:root
ensure_dir /usr/local/lib/kiosk/lib 0755 root:root
for f in common.sh accounts.sh boot-config.sh udev-rules.sh node-runtime.sh releases.sh; do
  ensure_file_from "$SCRIPT_DIR/lib/$f" "/usr/local/lib/kiosk/lib/$f" 0644 root:root
done
ensure_file_from "$SCRIPT_DIR/kiosk-upgrade.sh" /usr/local/lib/kiosk/kiosk-upgrade.sh 0755 root:root
ensure_dir /usr/local/bin 0755 root:root
ensure_dir /usr/local/sbin 0755 root:root
ensure_file_from "$SCRIPT_DIR/lib/kiosk-command.sh" /usr/local/bin/kiosk 0755 root:root
ensure_symlink ../lib/kiosk/kiosk-upgrade.sh /usr/local/sbin/kiosk-upgrade

# 9. The service
ensure_dir /etc/systemd 0755 root:root
ensure_dir /etc/systemd/system 0755 root:root
UNIT_BEFORE="$(file_sum /etc/systemd/system/kiosk.service)"
ensure_file_from "$SCRIPT_DIR/systemd/kiosk.service" /etc/systemd/system/kiosk.service 0644 root:root
if [ "$SYSTEMCTL" -eq 1 ]; then
  UNIT_CHANGED=0
  [ "$UNIT_BEFORE" = "$(file_sum /etc/systemd/system/kiosk.service)" ] || UNIT_CHANGED=1
  [ "$UNIT_CHANGED" -eq 0 ] || systemctl daemon-reload
  systemctl enable kiosk.service
  if grep -q 'your-client-id' "$R/etc/kiosk/kiosk.json"; then
    log "kiosk.json still holds the example values: edit /etc/kiosk/kiosk.json, then: sudo systemctl restart kiosk"
  elif [ "$UNIT_CHANGED" -eq 1 ] || [ "$LINK_BEFORE" != "$VERSION" ]; then
    # Restart only when something changed: a re-run must not interrupt a customer.
    systemctl restart kiosk.service || log "warning: kiosk did not start: journalctl -u kiosk -e"
  else
    systemctl start kiosk.service || log "warning: kiosk did not start: journalctl -u kiosk -e"
  fi
else
  log "systemctl skipped (--root or --no-systemctl)"
fi

[ "$BOOT_CHANGED" -eq 0 ] || log "reboot to turn on I2C and the UART"
log "kiosk $VERSION installed under ${ROOT}"
