#!/bin/sh
# run.sh - generate the GeoIP test databases, replay every golden case.
# usage: tests/golden/run.sh BUILD_DIR [CASE...]
set -eu
build=$1; shift
here=$(dirname "$0")
geo=$(mktemp -d /tmp/rg-golden-geo.XXXXXX)
trap 'rm -rf "$geo"' EXIT INT TERM
perl "$here/../geoip/make-test-db.pl" "$geo" >/dev/null
if [ $# -eq 0 ]; then set -- "$here"/*.case; fi
"$build/tests/golden" ${GOLDEN_VERBOSE:+-v} "$geo" "$@"
