#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Upgrades the kiosk to a signed release package and rolls back by itself when the new release is
# not healthy in time. Installed as /usr/local/sbin/kiosk-upgrade (`kiosk upgrade PKG` calls it).
#
#   kiosk-upgrade [options] kiosk-1.5.0.tar.gz
#
# Beside the package: PKG.sha256 (sha256sum format) and PKG.sig (signature of the package by the
# release key, see deploy/upgrade/pack-release.sh). The package holds the release tree with a
# VERSION file and bin/kiosk at its top.
#
# --root DIR            operate on DIR instead of / (tests)
# --pubkey FILE         release public key (default /etc/kiosk/release-pubkey.pem, under --root)
# --health-timeout S    how long the new release has to report healthy (default 120)
# --busy-wait S         how long to wait for a paying customer to finish (default 120; 0: refuse at once)
# --restart-cmd CMD     how to restart the kiosk (default: systemctl reset-failed + restart kiosk;
#                       under --root nothing is restarted unless CMD is given). Runs with
#                       KIOSK_ROOT and KIOSK_VERSION in its environment.
#
# Exit codes: 0 upgraded (or already at that version), 1 usage or internal error, 2 package refused
# (checksum, signature, content), 3 refused because a customer is being served, 4 rolled back to
# the previous release, 5 roll-back failed too or impossible: the kiosk needs a technician.
set -euo pipefail

SELF="$(readlink -f "${BASH_SOURCE[0]}")"
LIB="$(dirname "$SELF")/lib"
# shellcheck source=SCRIPTDIR/lib/common.sh
. "$LIB/common.sh"
# shellcheck source=SCRIPTDIR/lib/releases.sh
. "$LIB/releases.sh"

EXIT_USAGE=1 EXIT_PACKAGE=2 EXIT_BUSY=3 EXIT_ROLLED_BACK=4 EXIT_STUCK=5

ROOT=/
PUBKEY=""
HEALTH_TIMEOUT=120
BUSY_WAIT=120
RESTART_CMD=""
PKG=""
POLL_S="${KIOSK_UPGRADE_POLL_S:-2}"
# A busy flag older than this is from a kiosk that stopped writing: not a customer being served.
BUSY_STALE_MS="${KIOSK_BUSY_STALE_MS:-120000}"
NODE="${KIOSK_NODE:-node}"

# The comment block at the top of this file, without shellcheck directives.
usage() { awk 'NR > 1 && /^#/ { if (!/shellcheck/) { sub(/^# ?/, ""); print }; next } NR > 1 { exit }' "$SELF"; }
fail() {
  printf 'kiosk-upgrade: %s\n' "$2" >&2
  exit "$1"
}

while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT="${2:?}"; shift 2 ;;
    --pubkey) PUBKEY="${2:?}"; shift 2 ;;
    --health-timeout) HEALTH_TIMEOUT="${2:?}"; shift 2 ;;
    --busy-wait) BUSY_WAIT="${2:?}"; shift 2 ;;
    --restart-cmd) RESTART_CMD="${2:?}"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    -*) usage >&2; fail "$EXIT_USAGE" "unknown option $1" ;;
    *) [ -z "$PKG" ] || fail "$EXIT_USAGE" "one package only"; PKG="$1"; shift ;;
  esac
done
[ -n "$PKG" ] || { usage >&2; fail "$EXIT_USAGE" "which package?"; }
[ -d "$ROOT" ] || fail "$EXIT_USAGE" "--root $ROOT is not a directory"
R="$(cd "$ROOT" && pwd)"
R="${R%/}"
PUBKEY="${PUBKEY:-$R/etc/kiosk/release-pubkey.pem}"
STATE=/var/lib/kiosk
HEALTH="$STATE/health.json"
if [ -z "$RESTART_CMD" ] && is_real_root; then
  RESTART_CMD='systemctl reset-failed kiosk.service; systemctl restart kiosk.service'
fi

now_ms() { date +%s%3N; }

# One upgrade at a time.
mkdir -p "$R/run/lock"
exec 9>"$R/run/lock/kiosk-upgrade.lock"
flock -n 9 || fail "$EXIT_USAGE" "another upgrade is running"

# --- 1. Verify the package: checksum (a broken download), then signature (who made it) -------
[ -f "$PKG" ] || fail "$EXIT_PACKAGE" "no package $PKG"
[ -f "$PKG.sha256" ] || fail "$EXIT_PACKAGE" "no checksum file $PKG.sha256"
[ -f "$PKG.sig" ] || fail "$EXIT_PACKAGE" "no signature file $PKG.sig"
[ -f "$PUBKEY" ] || fail "$EXIT_PACKAGE" "no release public key $PUBKEY"
want_sum="$(awk 'NR == 1 { print tolower($1) }' "$PKG.sha256")"
have_sum="$(sha256sum "$PKG" | awk '{ print $1 }')"
[ "$want_sum" = "$have_sum" ] || fail "$EXIT_PACKAGE" "checksum mismatch: $PKG is damaged (want $want_sum, have $have_sum)"
if openssl pkey -pubin -in "$PUBKEY" -noout -text 2>/dev/null | head -n1 | grep -qi 'ED25519'; then
  # Ed25519 signs the message itself (no pre-hash): openssl dgst cannot verify it, pkeyutl can.
  openssl pkeyutl -verify -pubin -inkey "$PUBKEY" -rawin -in "$PKG" -sigfile "$PKG.sig" >/dev/null 2>&1 ||
    fail "$EXIT_PACKAGE" "bad signature: $PKG was not signed by the release key"
else
  openssl dgst -sha256 -verify "$PUBKEY" -signature "$PKG.sig" "$PKG" >/dev/null 2>&1 ||
    fail "$EXIT_PACKAGE" "bad signature: $PKG was not signed by the release key"
fi
log "package verified: checksum and signature good"

# --- 2. Unpack beside the other releases ---------------------------------------------------------
mkdir -p "$R$RELEASES"
UNPACK="$(mktemp -d "$R$RELEASES/.unpack.XXXXXX")"
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() { rm -rf "$UNPACK"; rm -f "$R$STATE/maintenance-request.json"; }
trap cleanup EXIT
tar -xzf "$PKG" -C "$UNPACK" --no-same-owner || fail "$EXIT_PACKAGE" "cannot unpack $PKG"
[ -f "$UNPACK/VERSION" ] || fail "$EXIT_PACKAGE" "package has no VERSION file"
NEW="$(head -n1 "$UNPACK/VERSION" | tr -d '[:space:]')"
valid_version "$NEW" || fail "$EXIT_PACKAGE" "package VERSION '$NEW' is not a release name"
[ -x "$UNPACK/bin/kiosk" ] || fail "$EXIT_PACKAGE" "package has no executable bin/kiosk"
OLD="$(current_version)"
if [ "$OLD" = "$NEW" ]; then
  log "already at $NEW: nothing to do"
  exit 0
fi
if [ -d "$R$RELEASES/$NEW" ]; then
  diff -rq --no-dereference "$UNPACK" "$R$RELEASES/$NEW" >/dev/null 2>&1 ||
    fail "$EXIT_PACKAGE" "release $NEW is already installed with different content"
else
  chmod -R go-w "$UNPACK"
  chmod 0755 "$UNPACK"
  if am_root; then chown -R 0:0 "$UNPACK"; fi
  mv -T "$UNPACK" "$R$RELEASES/$NEW"
  log "release $NEW unpacked in $RELEASES/$NEW"
fi

# --- 3. Never while a customer is paying -----------------------------------------------------------
# The app writes health.json (src/ops/health-file.ts); busy:true means a customer session is open.
# maintenance-request.json asks the app to take no new customer until the upgrade is over.
health_query() { # health_query busy | healthy VERSION SINCE_MS
  KIOSK_BUSY_STALE_MS="$BUSY_STALE_MS" "$NODE" -e '
    const fs = require("node:fs");
    const [file, what, version, since] = process.argv.slice(1);
    const staleMs = Number(process.env.KIOSK_BUSY_STALE_MS);
    let h;
    try { h = JSON.parse(fs.readFileSync(file, "utf8")); } catch { process.exit(1); }
    const ts = Number(h.ts);
    if (what === "busy") process.exit(h.busy === true && Date.now() - ts < staleMs ? 0 : 1);
    const bad = ["starting", "stopping", "failed"];
    process.exit(h.version === version && ts >= Number(since) && !bad.includes(h.state) ? 0 : 1);
  ' "$R$HEALTH" "$@"
}

if [ -d "$R$STATE" ]; then
  printf '{"reason":"upgrade","version":"%s","ts":%s}\n' "$NEW" "$(now_ms)" >"$R$STATE/maintenance-request.json"
  chmod 0644 "$R$STATE/maintenance-request.json"
fi
deadline=$(($(date +%s) + BUSY_WAIT))
while health_query busy; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    fail "$EXIT_BUSY" "refused: a customer is being served (try again later; release $NEW stays unpacked)"
  fi
  sleep "$POLL_S"
done

# --- 4. Switch, restart, watch; roll back when the new release is not healthy in time ------------
record() { # record RESULT
  if [ -d "$R$STATE" ]; then
    printf '{"from":"%s","to":"%s","result":"%s","ts":%s}\n' "$OLD" "$NEW" "$1" "$(now_ms)" >"$R$STATE/last-upgrade.json.tmp"
    chmod 0644 "$R$STATE/last-upgrade.json.tmp"
    mv -f "$R$STATE/last-upgrade.json.tmp" "$R$STATE/last-upgrade.json"
  fi
}

restart() { # restart VERSION
  if [ -n "$RESTART_CMD" ]; then
    KIOSK_ROOT="$R" KIOSK_VERSION="$1" bash -c "$RESTART_CMD" || log "warning: restart command failed"
  else
    log "no restart command under --root: not restarting"
  fi
}

wait_healthy() { # wait_healthy VERSION SINCE_MS
  local until=$(($(date +%s) + HEALTH_TIMEOUT))
  while :; do
    if health_query healthy "$1" "$2"; then
      if ! is_real_root || systemctl is-active --quiet kiosk.service; then return 0; fi
    fi
    [ "$(date +%s)" -lt "$until" ] || return 1
    sleep "$POLL_S"
  done
}

since="$(now_ms)"
switch_current "$NEW"
log "switched current: ${OLD:-none} -> $NEW; restarting"
restart "$NEW"
if wait_healthy "$NEW" "$since"; then
  record upgraded
  # Keep the current, the previous and one more; older releases go.
  keep="$NEW $OLD"
  n=0
  while IFS= read -r dir; do
    v="${dir##*/}"
    case " $keep " in *" $v "*) continue ;; esac
    n=$((n + 1))
    [ "$n" -le 1 ] || rm -rf "${R:?}$RELEASES/$v"
  done < <(find "$R$RELEASES" -mindepth 1 -maxdepth 1 -type d ! -name '.*' -printf '%C@ %p\n' | sort -rn | cut -d' ' -f2-)
  log "upgraded to $NEW"
  exit 0
fi

log "release $NEW did not become healthy within ${HEALTH_TIMEOUT}s"
if [ -z "$OLD" ] || [ ! -d "$R$RELEASES/$OLD" ]; then
  record failed_no_previous
  fail "$EXIT_STUCK" "no previous release to roll back to: the kiosk needs a technician"
fi
since="$(now_ms)"
switch_current "$OLD"
log "rolled back: current -> $OLD; restarting"
restart "$OLD"
if wait_healthy "$OLD" "$since"; then
  record rolled_back
  fail "$EXIT_ROLLED_BACK" "rolled back to $OLD (release $NEW kept in $RELEASES/$NEW for diagnosis)"
fi
record rollback_unhealthy
fail "$EXIT_STUCK" "rolled back to $OLD, but it is not healthy either: the kiosk needs a technician"
