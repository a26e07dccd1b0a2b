# shellcheck shell=bash
# Turns on I2C and the UART without questions. On a Raspberry Pi OS system raspi-config does it
# (it knows the firmware files of every model); elsewhere, and under a temporary root, the
# firmware's config.txt and cmdline.txt are edited directly and idempotently. Needs common.sh.

# Read by install.sh: 1 when a reboot is needed.
# shellcheck disable=SC2034
BOOT_CHANGED=0

boot_dir() {
  if [ -f "$R/boot/firmware/config.txt" ]; then
    printf '/boot/firmware\n' # Bookworm and later
  elif [ -f "$R/boot/config.txt" ]; then
    printf '/boot\n' # Bullseye and older
  fi
}

enable_i2c_and_uart() {
  if is_real_root && command -v raspi-config >/dev/null 2>&1; then
    raspi-config nonint do_i2c 0
    # Bookworm's raspi-config splits the serial setting in two; older ones know only do_serial.
    if ! { raspi-config nonint do_serial_hw 0 && raspi-config nonint do_serial_cons 1; }; then
      raspi-config nonint do_serial 2
    fi
    log "I2C and UART enabled with raspi-config (takes effect after a reboot)"
    return 0
  fi
  local dir before after
  dir="$(boot_dir)"
  if [ -z "$dir" ]; then
    log "warning: no boot/firmware/config.txt under ${R:-/}: I2C and UART left as they are"
    return 0
  fi
  before="$(cat "$R$dir/config.txt" "$R$dir/cmdline.txt" 2>/dev/null | cksum)"
  ensure_line "$dir/config.txt" 'dtparam=i2c_arm=on' '^[#[:space:]]*dtparam=i2c_arm='
  ensure_line "$dir/config.txt" 'enable_uart=1' '^[#[:space:]]*enable_uart='
  # The UART carries the card reader or printer, not a login console.
  if [ -f "$R$dir/cmdline.txt" ] && grep -qE 'console=(serial0|ttyAMA0|ttyS0),[0-9]+' "$R$dir/cmdline.txt"; then
    local tmp
    tmp="$(mktemp "$R$dir/cmdline.txt.XXXXXX")"
    sed -E 's/console=(serial0|ttyAMA0|ttyS0),[0-9]+[[:space:]]*//g; s/[[:space:]]+$//' "$R$dir/cmdline.txt" >"$tmp"
    chmod --reference="$R$dir/cmdline.txt" "$tmp"
    mv -f "$tmp" "$R$dir/cmdline.txt"
  fi
  after="$(cat "$R$dir/config.txt" "$R$dir/cmdline.txt" 2>/dev/null | cksum)"
  if [ "$before" != "$after" ]; then
    # shellcheck disable=SC2034
    BOOT_CHANGED=1
    log "I2C and UART enabled in $dir/config.txt (takes effect after a reboot)"
  fi
}
