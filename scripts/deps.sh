#!/bin/sh
# deps.sh - install the Debian packages relayguard needs to build, test and
# run its demo. Idempotent and non-interactive: installs only what is missing.
#   deps.sh          what make, make check and make demo need
#   deps.sh peers    also the peers of make bench-peers (postfwd,
#                    policyd-rate-limit: on a systemd host their packages
#                    start daemons, one on 127.0.0.1:10040, so they are not
#                    installed for the tests)
set -eu

PKGS="build-essential pkg-config libmilter-dev libmaxminddb-dev libconfig-dev
libssl-dev check libsubunit-dev postfix swaks miltertest mmdb-bin
libmaxmind-db-writer-perl nfdump libsqlite3-dev sqlite3 procps psmisc
iproute2 libsasl2-modules python3 chromium zlib1g-dev man-db groff-base
debhelper fakeroot dpkg-dev lintian debootstrap"
[ "${1:-}" = peers ] && PKGS="$PKGS postfwd policyd-rate-limit"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || {
        echo "deps: need root (or sudo) to install:$missing" >&2; exit 69; }
    SUDO="sudo"
fi
# Postfix must not ask questions nor start a system instance of its own.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
