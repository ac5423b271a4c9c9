#!/bin/sh
# check-install.sh - "make install" into a temporary DESTDIR twice: the
# first puts the programs, the man pages (found by man -w) and the
# configuration in place; the second must keep a configuration the admin
# edited and put the shipped one beside it as relayguard.conf.dist.
#
# usage: check-install.sh [MAKE [MAKE-ARGS...]]   (from the source top)
set -u
make=${1:-make}
[ $# -gt 0 ] && shift
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail=0

# no - one failed assertion
no() { echo "install: FAILED: $*" >&2; fail=$((fail + 1)); }

# install_once - make install into $t; its output in $t/log
install_once() {
    "$make" --no-print-directory -s "$@" install DESTDIR="$t/root" \
        PREFIX=/usr >"$t/log" 2>&1 || { cat "$t/log" >&2; no "make install failed"; }
}

conf="$t/root/etc/relayguard/relayguard.conf"
install_once "$@"
[ -x "$t/root/usr/sbin/relayguardctl" ] || no "relayguardctl not installed"
cmp -s etc/relayguard.conf "$conf" || no "first install: no relayguard.conf"
[ -e "$conf.dist" ] && no "first install: a .dist beside a new file"
for page in relayguard.conf.5 relayguard-milter.8 relayguard-policyd.8 \
            relayguardctl.8 relayguard-collector.8; do
    sec=${page##*.}
    f="$t/root/usr/share/man/man$sec/$page"
    [ -f "$f" ] || { no "man page $page not installed"; continue; }
    found=$(MANPATH="$t/root/usr/share/man" man -w "$sec" "${page%.*}" 2>/dev/null)
    [ "$found" = "$f" ] || no "man -w $sec ${page%.*}: \"$found\""
done

# the admin edits the file; a second install must keep it
echo "# edited by the admin" >>"$conf"
cp "$conf" "$t/edited"
install_once "$@"
cmp -s "$t/edited" "$conf" || no "second install overwrote the edited relayguard.conf"
cmp -s etc/relayguard.conf "$conf.dist" || no "second install: no relayguard.conf.dist"
grep -q "kept" "$t/log" || no "second install did not say it kept the file"

[ $fail -eq 0 ] && echo "install: programs, 5 man pages, an edited relayguard.conf kept (.dist beside it)"
[ $fail -eq 0 ]
