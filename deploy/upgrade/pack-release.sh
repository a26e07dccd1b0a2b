#!/usr/bin/env bash
# Packs a built release tree into what kiosk-upgrade accepts: kiosk-V.tar.gz with a VERSION file,
# kiosk-V.tar.gz.sha256 and kiosk-V.tar.gz.sig (signed with the release private key, which never
# goes onto a kiosk; the kiosk holds only the public key in /etc/kiosk/release-pubkey.pem).
#
#   deploy/upgrade/pack-release.sh --dir BUILD --version V --key release-key.pem --out DIR
#
# Keys: RSA (openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072) or Ed25519
# (openssl genpkey -algorithm ed25519); public half: openssl pkey -in KEY -pubout.
set -euo pipefail

DIR="" VERSION="" KEY="" OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) DIR="${2:?}"; shift 2 ;;
    --version) VERSION="${2:?}"; shift 2 ;;
    --key) KEY="${2:?}"; shift 2 ;;
    --out) OUT="${2:?}"; shift 2 ;;
    -h | --help) sed -n '2,9s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "pack-release: unknown argument $1" >&2; exit 1 ;;
  esac
done
if ! [ -d "$DIR" ] || [ -z "$VERSION" ] || ! [ -f "$KEY" ] || [ -z "$OUT" ]; then
  echo "pack-release: --dir, --version, --key and --out are required" >&2
  exit 1
fi
[ -x "$DIR/bin/kiosk" ] || { echo "pack-release: $DIR has no executable bin/kiosk" >&2; exit 1; }

mkdir -p "$OUT"
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
cp -R --preserve=mode,timestamps,links "$DIR/." "$STAGE/"
printf '%s\n' "$VERSION" >"$STAGE/VERSION"
PKG="$OUT/kiosk-$VERSION.tar.gz"
tar -czf "$PKG" --owner=0 --group=0 --numeric-owner -C "$STAGE" .
(cd "$OUT" && sha256sum "kiosk-$VERSION.tar.gz" >"kiosk-$VERSION.tar.gz.sha256")
if openssl pkey -in "$KEY" -noout -text 2>/dev/null | head -n1 | grep -qi 'ED25519'; then
  openssl pkeyutl -sign -inkey "$KEY" -rawin -in "$PKG" -out "$PKG.sig"
else
  openssl dgst -sha256 -sign "$KEY" -out "$PKG.sig" "$PKG"
fi
printf '%s\n' "$PKG"
