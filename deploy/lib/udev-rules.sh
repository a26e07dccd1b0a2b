# shellcheck shell=bash
# Renders /etc/udev/rules.d/99-kiosk.rules from /etc/kiosk/devices.env. udev cannot read an
# environment file, so the installer writes the values into the rules; re-run install.sh after
# editing devices.env. Values are checked against strict patterns before they reach a rule, and a
# device whose ids are empty gets a commented-out rule instead of one that matches everything.
# Needs common.sh.

# devices_env_get FILE KEY: the value of KEY=value (quotes stripped; the file is never sourced).
devices_env_get() {
  awk -F= -v k="$2" '$1 == k { v = substr($0, length(k) + 2); gsub(/^["'\'']|["'\'']$/, "", v); print v; exit }' \
    "$R$1" 2>/dev/null || true
}

check_value() {
  local key="$1" value="$2" pattern="$3"
  [ -z "$value" ] || printf '%s' "$value" | grep -qE "^($pattern)\$" || die "devices.env: $key=\"$value\" is not valid ($pattern)"
}

# usb_match VENDOR PRODUCT SERIAL: the ATTRS part of a rule.
usb_match() {
  local m="ATTRS{idVendor}==\"$1\", ATTRS{idProduct}==\"$2\""
  [ -z "$3" ] || m="$m, ATTRS{serial}==\"$3\""
  printf '%s' "$m"
}

render_udev_rules() {
  local env="$1"
  local rv rp rs kind pv pp ps uart
  rv="$(devices_env_get "$env" KIOSK_READER_VENDOR)"
  rp="$(devices_env_get "$env" KIOSK_READER_PRODUCT)"
  rs="$(devices_env_get "$env" KIOSK_READER_SERIAL)"
  kind="$(devices_env_get "$env" KIOSK_PRINTER_KIND)"
  pv="$(devices_env_get "$env" KIOSK_PRINTER_VENDOR)"
  pp="$(devices_env_get "$env" KIOSK_PRINTER_PRODUCT)"
  ps="$(devices_env_get "$env" KIOSK_PRINTER_SERIAL)"
  uart="$(devices_env_get "$env" KIOSK_PRINTER_UART)"
  local hex='[0-9a-fA-F]{4}' serial='[A-Za-z0-9_.:-]{1,64}'
  check_value KIOSK_READER_VENDOR "$rv" "$hex"
  check_value KIOSK_READER_PRODUCT "$rp" "$hex"
  check_value KIOSK_READER_SERIAL "$rs" "$serial"
  check_value KIOSK_PRINTER_KIND "$kind" 'usblp|tty|uart'
  check_value KIOSK_PRINTER_VENDOR "$pv" "$hex"
  check_value KIOSK_PRINTER_PRODUCT "$pp" "$hex"
  check_value KIOSK_PRINTER_SERIAL "$ps" "$serial"
  check_value KIOSK_PRINTER_UART "$uart" 'ttyAMA[0-9]{1,2}|ttyS[0-9]'

  printf '# Written by kiosk install.sh from /etc/kiosk/devices.env: edit that file and re-run install.sh.\n'
  printf '# Stable names for the kiosk devices, readable and writable by their groups (the kiosk user is in both).\n\n'
  if [ -n "$rv" ] && [ -n "$rp" ]; then
    printf 'SUBSYSTEM=="tty", %s, SYMLINK+="kiosk-reader", GROUP="dialout", MODE="0660"\n' "$(usb_match "$rv" "$rp" "$rs")"
  else
    printf '# reader not configured (set KIOSK_READER_VENDOR and KIOSK_READER_PRODUCT):\n'
    printf '# SUBSYSTEM=="tty", ATTRS{idVendor}=="VVVV", ATTRS{idProduct}=="PPPP", SYMLINK+="kiosk-reader", GROUP="dialout", MODE="0660"\n'
  fi
  case "${kind:-usblp}" in
    usblp | tty)
      if [ -n "$pv" ] && [ -n "$pp" ]; then
        if [ "${kind:-usblp}" = usblp ]; then
          printf 'SUBSYSTEM=="usbmisc", KERNEL=="lp[0-9]*", %s, SYMLINK+="kiosk-printer", GROUP="lp", MODE="0660"\n' \
            "$(usb_match "$pv" "$pp" "$ps")"
        else
          printf 'SUBSYSTEM=="tty", %s, SYMLINK+="kiosk-printer", GROUP="dialout", MODE="0660"\n' "$(usb_match "$pv" "$pp" "$ps")"
        fi
      else
        printf '# printer not configured (set KIOSK_PRINTER_VENDOR and KIOSK_PRINTER_PRODUCT):\n'
        printf '# SUBSYSTEM=="usbmisc", KERNEL=="lp[0-9]*", ATTRS{idVendor}=="VVVV", ATTRS{idProduct}=="PPPP", SYMLINK+="kiosk-printer", GROUP="lp", MODE="0660"\n'
      fi
      ;;
    uart)
      [ -n "$uart" ] || die "devices.env: KIOSK_PRINTER_KIND=uart needs KIOSK_PRINTER_UART (ttyAMA0 on a Pi 4/5)"
      printf 'SUBSYSTEM=="tty", KERNEL=="%s", SYMLINK+="kiosk-printer", GROUP="dialout", MODE="0660"\n' "$uart"
      ;;
  esac
}
