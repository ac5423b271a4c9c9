#!/bin/sh
# build-deb.sh - build the Debian package from a copy of this tree, so the
# work tree stays clean. The .deb files land in OUTDIR (default build/deb).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/build/deb}
missing=""
for p in debhelper fakeroot dpkg-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    [ "$(id -u)" = 0 ] || { echo "build-deb: need root to install:$missing" >&2; exit 69; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
fi
work=$(mktemp -d /tmp/rg-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
mkdir -p "$work/relayguard" "$out"
(cd "$top" && tar --exclude=./build --exclude=./.git -cf - .) | tar -xf - -C "$work/relayguard"
(cd "$work/relayguard" && dpkg-buildpackage -us -uc -b -J"$(nproc)" >"$work/build.log" 2>&1) || {
    tail -n 40 "$work/build.log"; exit 1; }
cp "$work"/*.deb "$out"/
dpkg-deb -c "$out"/relayguard_*.deb | awk '{ print "  " $6 }'
echo "build-deb: $(ls "$out"/relayguard_*.deb)"
