#!/bin/bash
# deb-check.sh - the Debian package as an admin gets it, without systemd on
# the host: lintian; a clean Debian 12 chroot made by debootstrap (cached
# as a tarball in build/pkgtest); a first install, its purge, then an
# upgrade from 0.1.0 (built from git, commit RG_OLD_COMMIT) to this tree's
# package and on to a rebuilt copy of it, with systemctl replaced by a
# recorder (tests/pkg/systemctl-recorder) that proves what the maintainer
# scripts start, restart and stop; the milter started from the installed
# files with the shipped configuration, its socket reached by Postfix's
# user through the group only; systemd-analyze verify and security on the
# installed units.
#
# Usage: tests/pkg/deb-check.sh [NEW.deb]   (as root; network for
# debootstrap and the first build of the old package, unless cached)
#   RG_OLD_COMMIT    the 0.1.0 package's commit (default: the last commit
#                    before the 0.1.1 packaging)
#   RG_MIRROR        Debian mirror for debootstrap (default: the first
#                    one apt is configured with on this machine)
# Prints "ok - ..." / "not ok - ..." and "pkg: N passed, M failed".
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cache=${RG_PKGTEST_CACHE:-$top/build/pkgtest}
old_commit=${RG_OLD_COMMIT:-4b04661}
# apt_mirror - the first Debian archive apt uses here (deb822 or one-line)
apt_mirror() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] && awk '/^URIs:/ && $2 !~ /security/ { print $2; exit }' "$f"
    done
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        awk '$1 == "deb" && $0 ~ /bookworm/ && $3 !~ /security/ { print $2; exit }'
}
mirror=${RG_MIRROR:-$(apt_mirror | head -n 1)}
suite=bookworm
base_pkgs=adduser,init-system-helpers,libmilter1.0.1,libmaxminddb0,libconfig9,libssl3,libsqlite3-0,zlib1g,perl-base,util-linux

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
nok() { failed=$((failed + 1)); echo "not ok - $1"; [ $# -gt 1 ] && printf '  # %s\n' "${@:2}"; }
check() { local d=$1; shift; if "$@" >/dev/null 2>&1; then ok "$d"; else nok "$d" "command: $*"; fi; }
check_not() { local d=$1; shift; if "$@" >/dev/null 2>&1; then nok "$d" "command succeeded: $*"; else ok "$d"; fi; }
eq() { if [ "$1" = "$2" ]; then ok "$3"; else nok "$3" "got '$1'" "want '$2'"; fi; }
bail() { echo "deb-check: $*" >&2; exit 1; }
[ -n "$mirror" ] || bail "no Debian archive found in apt's sources; set RG_MIRROR"

[ "$(id -u)" = 0 ] || bail "needs root (debootstrap, chroot, dpkg)"
for tool in debootstrap lintian; do
    command -v "$tool" >/dev/null || bail "missing $tool (make deps)"
done
mkdir -p "$cache"
work=$(mktemp -d /tmp/rg-pkgtest.XXXXXX)
root=$work/root
milter_pid=""
# kill_in_root SIGNAL - every process whose root is the chroot (a daemon
# started there outlives the shell functions that started it)
kill_in_root() {
    local p
    for p in /proc/[0-9]*; do
        [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && kill "-$1" "${p#/proc/}" 2>/dev/null
    done
}
cleanup() {
    [ -n "$milter_pid" ] && kill "$milter_pid" 2>/dev/null
    kill_in_root KILL
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# --- the base chroot, in the background while the packages are built -----
base=$cache/$suite-minbase.tar
make_base() {
    local r=$work/debootstrap
    debootstrap --variant=minbase --include="$base_pkgs" "$suite" "$r" "$mirror" \
        >"$work/debootstrap.log" 2>&1 &&
        tar -C "$r" -cf "$base.tmp" . && mv "$base.tmp" "$base" && rm -rf "$r"
}
base_pid=""
if [ ! -s "$base" ]; then
    make_base &
    base_pid=$!
fi

# --- packages ---------------------------------------------------------------
new_deb=${1:-}
if [ -z "$new_deb" ]; then
    "$top/scripts/build-deb.sh" "$work/new" >"$work/build-new.log" 2>&1 ||
        { tail -n 30 "$work/build-new.log"; bail "building this tree's package failed"; }
    new_deb=$(ls "$work"/new/relayguard_*.deb)
fi
[ -f "$new_deb" ] || bail "no package $new_deb"
new_ver=$(dpkg-deb -f "$new_deb" Version)

old_deb=$(ls "$cache"/old-"$old_commit"/relayguard_*.deb 2>/dev/null | head -n 1)
if [ -z "$old_deb" ]; then
    git -C "$top" rev-parse -q --verify "$old_commit^{commit}" >/dev/null ||
        bail "commit $old_commit (the 0.1.0 package) is not in this repository's history"
    mkdir -p "$work/oldsrc" "$cache/old-$old_commit"
    git -C "$top" archive "$old_commit" | tar -x -C "$work/oldsrc"
    DEB_BUILD_OPTIONS="nocheck" "$work/oldsrc/scripts/build-deb.sh" "$cache/old-$old_commit" \
        >"$work/build-old.log" 2>&1 ||
        { tail -n 30 "$work/build-old.log"; bail "building the 0.1.0 package of $old_commit failed"; }
    old_deb=$(ls "$cache"/old-"$old_commit"/relayguard_*.deb | head -n 1)
fi
old_ver=$(dpkg-deb -f "$old_deb" Version)

# The next upgrades: the same package as version NEW+pkgtestN.
mkdir -p "$work/next"
dpkg-deb -R "$new_deb" "$work/next/tree"
for n in 1 2; do
    sed -i "s/^Version: .*/Version: $new_ver+pkgtest$n/" "$work/next/tree/DEBIAN/control"
    dpkg-deb -b "$work/next/tree" "$work/next/relayguard_next$n.deb" >/dev/null ||
        bail "could not repack the package as $new_ver+pkgtest$n"
done
echo "# packages: $old_ver (commit $old_commit) -> $new_ver -> $new_ver+pkgtest1"

# --- lintian ----------------------------------------------------------------
# Errors fail; a warning fails unless README.md's "Debian package" section
# justifies it (none today). no-manual-page is tolerated only while
# debian/relayguard.manpages does not exist yet.
lint=$(lintian "$new_deb" 2>&1 | grep -v '^running with root privileges')
allowed='^$'
[ -f "$top/debian/relayguard.manpages" ] || allowed='no-manual-page'
errors=$(printf '%s\n' "$lint" | grep '^E:')
warnings=$(printf '%s\n' "$lint" | grep '^W:' | grep -Ev "$allowed")
eq "$errors" "" "lintian: no errors"
eq "$warnings" "" "lintian: no warnings"
printf '%s\n' "$lint" | grep -E '^[EW]:' | sed 's/^/  # lintian: /'

# --- the chroot -------------------------------------------------------------
if [ -n "$base_pid" ]; then
    wait "$base_pid" || { tail -n 20 "$work/debootstrap.log"; bail "debootstrap failed"; }
fi
mkdir -p "$root"
tar -C "$root" -xf "$base"
install -m 0755 "$top/tests/pkg/systemctl-recorder" "$root/usr/bin/systemctl"
# systemd-sysctl is not in the chroot (nor would it be safe: it would set
# the host's kernel); a stand-in records its calls in the same log
install -d "$root/lib/systemd"
printf '#!/bin/sh\necho "systemd-sysctl $*" >>/var/log/systemctl.log\n' >"$root/lib/systemd/systemd-sysctl"
chmod 755 "$root/lib/systemd/systemd-sysctl"
mkdir -p "$root/run/systemd/system"       # what the maintainer scripts test for systemd
# Postfix's user, group and queue directory as Debian's postfix package
# makes them (the package test does not need Postfix itself).
chroot "$root" groupadd --system postfix
chroot "$root" useradd --system -g postfix -d /var/spool/postfix -s /usr/sbin/nologin postfix
install -d -m 0755 "$root/var/spool/postfix"
cp "$old_deb" "$root/tmp/old.deb"
cp "$new_deb" "$root/tmp/new.deb"
cp "$work/next/relayguard_next1.deb" "$root/tmp/next.deb"
cp "$work/next/relayguard_next2.deb" "$root/tmp/next2.deb"

in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
mark() { echo "== $1" >>"$root/var/log/systemctl.log"; }
# phase_log NAME - the recorder's lines after the mark NAME (up to the next)
phase_log() { sed -n "/^== $1\$/,/^== /p" "$root/var/log/systemctl.log" | grep -v '^== '; }
active() { [ -e "$root/var/lib/systemctl-recorder/$1" ]; }
enabled() { ls "$root"/etc/systemd/system/*.wants/"$1" >/dev/null 2>&1; }
mode_of() { in_root stat -c '%a %U %G' "$1" 2>/dev/null; }

# --- 1. a first install ------------------------------------------------------
mark install
out=$(in_root dpkg -i /tmp/new.deb 2>&1)
eq "$?" 0 "dpkg -i $new_ver on a clean Debian 12 (its dependencies only)"
echo "$out" | grep -q "DRY RUN" && ok "postinst says it is a dry run and how to leave it" ||
    nok "postinst says it is a dry run" "$out"

pw=$(in_root getent passwd relayguard)
IFS=: read -r _ _ uid _ _ home shell <<<"$pw"
check "user relayguard exists" test -n "$pw"
check "it is a system user (uid $uid < 1000)" test "${uid:-1000}" -lt 1000
eq "$home $shell" "/run/relayguard /usr/sbin/nologin" "its home is /run/relayguard, no login shell"
check "group relayguard exists" in_root getent group relayguard
eq "$(in_root id -gn relayguard)" relayguard "relayguard's primary group is relayguard"
check "postfix is in the group relayguard" sh -c "chroot '$root' id -nG postfix | tr ' ' '\n' | grep -qx relayguard"

eq "$(in_root dpkg-query -W -f='${Conffiles}' relayguard | awk 'NF { print $1 }')" \
    /etc/relayguard/relayguard.conf "the one conffile is /etc/relayguard/relayguard.conf"
eq "$(mode_of /etc/relayguard/relayguard.conf)" "644 root root" "relayguard.conf: 0644 root:root"
eq "$(mode_of /etc/relayguard)" "755 root root" "/etc/relayguard: 0755 root:root"
check "the shipped configuration is a dry run" grep -Eq '^[[:space:]]*dry_run = true;' "$root/etc/relayguard/relayguard.conf"
# its comments point to the rationale (why: docs/POLICY-RATIONALE.md#NAME):
# shipped as a document (dh_compress gzips it)
check "the policy rationale is shipped" sh -c "test -f '$root/usr/share/doc/relayguard/POLICY-RATIONALE.md.gz' || test -f '$root/usr/share/doc/relayguard/POLICY-RATIONALE.md'"
eq "$(mode_of /var/spool/postfix/relayguard)" "750 relayguard relayguard" \
    "the socket directory in Postfix's chroot: 0750 relayguard:relayguard"
for p in relayguard-milter relayguard-policyd relayguard-collector relayguardctl; do
    eq "$(mode_of /usr/sbin/$p)" "755 root root" "/usr/sbin/$p: 0755 root:root"
done
for u in relayguard-milter.service relayguard-policyd.service relayguard-collector.service run-relayguard.mount; do
    eq "$(mode_of /lib/systemd/system/$u)" "644 root root" "unit $u installed"
done
sysctl=/usr/lib/sysctl.d/30-relayguard-collector.conf
eq "$(mode_of $sysctl)" "644 root root" "the collector's sysctl file in /usr/lib/sysctl.d: 0644 root:root"
eq "$(grep -E '^[a-z]' "$root$sysctl" | tr -d ' ')" "net.unix.max_dgram_qlen=512
net.core.rmem_max=16777216" "... net.unix.max_dgram_qlen = 512, net.core.rmem_max = 16777216"
check "... and the postinst applies it" grep -qx 'systemd-sysctl 30-relayguard-collector.conf' <<<"$(phase_log install)"
check "relayguard-milter.service is enabled" enabled relayguard-milter.service
check_not "relayguard-policyd.service is not enabled" enabled relayguard-policyd.service
check_not "relayguard-collector.service is not enabled" enabled relayguard-collector.service
check_not "run-relayguard.mount is not enabled" enabled run-relayguard.mount
log=$(phase_log install)
check "the milter is started on a first install" grep -qx 'start relayguard-milter.service' <<<"$log"
check_not "policyd and the collector are not started" grep -Eq 'start .*relayguard-(policyd|collector)' <<<"$log"
check_not "the state mount is not touched" grep -q 'run-relayguard.mount' <<<"$log"

# man pages: every page debian/relayguard.manpages names, and every
# Documentation=man: of the units, installed
if [ -f "$top/debian/relayguard.manpages" ]; then
    while read -r page; do
        [ -n "$page" ] || continue
        name=$(basename "$page")
        sec=${name##*.}
        check "man page $name installed" test -f "$root/usr/share/man/man$sec/$name.gz"
    done <"$top/debian/relayguard.manpages"
    for ref in $(grep -ho 'man:[^ ]*' "$root"/lib/systemd/system/relayguard-* | sort -u); do
        ref=${ref#man:}
        name=${ref%(*}
        sec=${ref#*(}
        sec=${sec%)}
        check "Documentation=man:$ref resolves" test -f "$root/usr/share/man/man$sec/$name.$sec.gz"
    done
else
    echo "# man pages: debian/relayguard.manpages does not exist yet; installed:" \
        $(cd "$root/usr/share/man" && ls -d man*/relayguard* 2>/dev/null)
fi

# --- 2. the socket, as shipped ---------------------------------------------
# The installed milter with the installed configuration, run as its unit
# runs it (no sandbox here): the directories RuntimeDirectory= and
# StateDirectory= make, then ExecStartPre= and ExecStart= as User=/Group=
# with UMask=. Its socket in /var/spool/postfix/relayguard is reached by
# the postfix user through its group only.
unit=$root/lib/systemd/system/relayguard-milter.service
u_user=$(sed -n 's/^User=//p' "$unit")
u_group=$(sed -n 's/^Group=//p' "$unit")
u_umask=$(sed -n 's/^UMask=//p' "$unit")
u_pre=$(sed -n 's/^ExecStartPre=//p' "$unit")
u_start=$(sed -n 's/^ExecStart=//p' "$unit")
as_unit() { in_root sh -c "umask ${u_umask:-0022}; exec setpriv --reuid='$u_user' --regid='$u_group' --init-groups $*"; }
in_root install -d -o "$u_user" -g "$u_group" -m 0750 /run/relayguard /var/lib/relayguard
check "ExecStartPre (relayguard-milter -n) accepts the shipped configuration as $u_user" as_unit "$u_pre"
sock=/var/spool/postfix/relayguard/milter.sock
as_unit "$u_start" >"$work/milter.log" 2>&1 &
milter_pid=$!
# at most 60 s: it makes the shipped state table (~140 MB) first
for _ in $(seq 600); do [ -S "$root$sock" ] && break; sleep 0.1; done
check "the shipped milter creates $sock" test -S "$root$sock"
eq "$(mode_of $sock)" "660 relayguard relayguard" "the socket is 0660 relayguard:relayguard"
connect='use IO::Socket::UNIX; exit(IO::Socket::UNIX->new(Peer => $ARGV[0]) ? 0 : 1)'
check "postfix (a member of the group) connects" \
    in_root setpriv --reuid=postfix --regid=postfix --init-groups perl -e "$connect" "$sock"
check_not "nobody cannot connect" \
    in_root setpriv --reuid=nobody --regid=nogroup --clear-groups perl -e "$connect" "$sock"
kill_in_root TERM
wait "$milter_pid" 2>/dev/null
milter_pid=""
grep -q "listening on unix:$sock (dry run)" "$work/milter.log" && ok "it says it listens in dry run" ||
    nok "it says it listens in dry run" "$(cat "$work/milter.log")"
rm -f "$root/run/relayguard/state"      # ~140 MB of table

# relayguard-policyd as its unit runs it, with the shipped configuration
# (inet:10040@127.0.0.1), in a network namespace of its own so that the
# port is ours: a request gets an answer.
unit=$root/lib/systemd/system/relayguard-policyd.service
u_pre=$(sed -n 's/^ExecStartPre=//p' "$unit")
u_start=$(sed -n 's/^ExecStart=//p' "$unit")
check "ExecStartPre (relayguard-policyd -n) accepts the shipped configuration" as_unit "$u_pre"
ask='use IO::Socket::INET; my $s; for (1 .. 600) { last if $s = IO::Socket::INET->new("127.0.0.1:10040"); select(undef, undef, undef, 0.1) }
exit 2 unless $s; print $s "request=smtpd_access_policy\nprotocol_state=RCPT\nsasl_username=alice\nclient_address=192.0.2.1\ninstance=1.1\nrecipient=b\@example.org\n\n";
my $a = <$s>; print $a // ""; exit(defined $a && $a =~ /^action=/ ? 0 : 1)'
answer=$(export -f as_unit in_root; export root u_user u_group u_umask u_start ask
    unshare --net bash -c 'ip link set lo up
        as_unit "$u_start" >"'"$work"'/policyd.log" 2>&1 & pid=$!
        in_root perl -e "$ask"; rc=$?; kill -TERM $pid; wait $pid; exit $rc' 2>&1)
eq "$?" 0 "the shipped relayguard-policyd answers a request ($answer)"
kill_in_root TERM

# --- 3. purge ------------------------------------------------------------
mark purge
check "dpkg --purge" in_root dpkg --purge relayguard
check "remove stops the milter" grep -Eq '^stop .*relayguard-milter.service' <<<"$(phase_log purge)"
check_not "purge removes /var/lib/relayguard" test -e "$root/var/lib/relayguard"
check_not "purge removes the socket directory" test -e "$root/var/spool/postfix/relayguard"
check_not "purge removes the conffile" test -e "$root/etc/relayguard/relayguard.conf"
check_not "purge removes the sysctl file" test -e "$root$sysctl"
check "the user stays (Debian policy)" in_root getent passwd relayguard

# --- 4. upgrade 0.1.0 -> new ----------------------------------------------
mark install-old
check "dpkg -i $old_ver" in_root dpkg -i /tmp/old.deb
# the admin started it (0.1.0 did not) and changed the configuration
in_root systemctl start relayguard-milter.service run-relayguard.mount
echo '# local change' >>"$root/etc/relayguard/relayguard.conf"
mark upgrade-old
out=$(in_root dpkg --force-confold -i /tmp/new.deb 2>&1)
eq "$?" 0 "upgrade $old_ver -> $new_ver"
log=$(phase_log upgrade-old)
echo "$log" | grep -E '^(start|stop|restart)' | sed "s/^/  # recorded: /"
check "the milter is restarted after the upgrade" grep -qx 'restart relayguard-milter.service' <<<"$log"
check "the milter is running afterwards" active relayguard-milter.service
check_not "policyd and the collector were not started" grep -Eq '(start|restart) .*relayguard-(policyd|collector)' <<<"$log"
check "the admin's change to the conffile is kept" grep -qx '# local change' "$root/etc/relayguard/relayguard.conf"
check "the new conffile is beside it as .dpkg-dist" test -f "$root/etc/relayguard/relayguard.conf.dpkg-dist"
check "relayguard-milter.service is still enabled" enabled relayguard-milter.service

# --- 5. upgrade new -> next: nothing stops ------------------------------------
in_root systemctl start relayguard-policyd.service      # running, not enabled
mark upgrade-next
check "upgrade $new_ver -> $new_ver+pkgtest1" in_root dpkg --force-confold -i /tmp/next.deb
log=$(phase_log upgrade-next)
echo "$log" | grep -E '^(start|stop|restart)' | sed "s/^/  # recorded: /"
check_not "no unit is stopped during the upgrade" grep -q '^stop' <<<"$log"
check_not "the state mount is not touched" grep -q 'run-relayguard.mount' <<<"$log"
check "the milter is restarted" grep -qx 'restart relayguard-milter.service' <<<"$log"
check "a running (not enabled) policyd is restarted" grep -Eq '^restart .*relayguard-policyd.service' <<<"$log"
check_not "a stopped, disabled collector stays stopped" active relayguard-collector.service
check "the milter runs" active relayguard-milter.service

# --- 6. upgrade with a configuration the new binary refuses ------------------
# (an admin's typo, a key a new version drops): the running milter is
# left serving instead of being stopped for a start that fails.
conf=$root/etc/relayguard/relayguard.conf
cp "$conf" "$work/conf.good"
sed -i 's/^  dry_run = [a-z]*;$/&\n  no_such_key = 1;/' "$conf"
check_not "the changed configuration is refused by -n" in_root relayguard-milter -n -c /etc/relayguard/relayguard.conf
mark upgrade-broken
out=$(in_root dpkg --force-confold -i /tmp/next2.deb 2>&1)
eq "$?" 0 "upgrade to $new_ver+pkgtest2 with that configuration succeeds"
log=$(phase_log upgrade-broken)
check_not "the milter is neither stopped nor restarted" grep -Eq '^(stop|restart|start) .*relayguard-milter' <<<"$log"
check "the milter still runs" active relayguard-milter.service
grep -q "relayguard-milter.service was not restarted" <<<"$out" &&
    ok "postinst says it was not restarted, and why" || nok "postinst says it was not restarted" "$out"
cp "$work/conf.good" "$conf"

# --- 7. the units: systemd-analyze -------------------------------------------
# verify needs systemd's own units and the commands the units name: a
# root of the host's units with the package on top.
vr=$work/verify
mkdir -p "$vr/lib/systemd" "$vr/bin"
cp -a /lib/systemd/system "$vr/lib/systemd/"
dpkg-deb -x "$new_deb" "$vr"
cp /bin/kill "$vr/bin/"
units="/lib/systemd/system/relayguard-milter.service /lib/systemd/system/relayguard-policyd.service
/lib/systemd/system/relayguard-collector.service /lib/systemd/system/run-relayguard.mount"
vout=$(MANPATH=$vr/usr/share/man systemd-analyze verify --root="$vr" $units 2>&1)
if [ ! -f "$top/debian/relayguard.manpages" ]; then
    echo "$vout" | grep "Command 'man " | sed 's/^/  # not yet (no man pages): /'
    vout=$(echo "$vout" | grep -v "Command 'man ")
fi
eq "$vout" "" "systemd-analyze verify: the units are clean"
for u in relayguard-milter relayguard-policyd relayguard-collector; do
    score=$(systemd-analyze security --offline=yes --root="$vr" "$u.service" 2>/dev/null |
        sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
    check "systemd-analyze security $u: ${score:-?} < 3" awk -v s="${score:-99}" 'BEGIN { exit !(s < 3) }'
    grep -q "^ExecStartPre=/usr/sbin/$u -n " "$vr/lib/systemd/system/$u.service" &&
        ok "$u.service checks its configuration with -n first" ||
        nok "$u.service checks its configuration with -n first"
done

# the collector yields to mail (Nice=, CPUSchedulingPolicy=): a process
# started with the installed unit's settings, as the benchmarks start it
# (bench/collector_unit.sh), runs at nice 10 under SCHED_BATCH
UNIT_FILE=$vr/lib/systemd/system/relayguard-collector.service
. "$top/bench/collector_unit.sh"
$UNIT_SCHED sleep 30 &
sp=$!
# read once the last exec is done (nice, chrt and ionice each set theirs
# and exec the next): not at a fixed time
for _ in $(seq 200); do [ "$(cat "/proc/$sp/comm" 2>/dev/null)" = sleep ] && break; sleep 0.1; done
sched=$(sed 's/^.*) //' "/proc/$sp/stat" | awk '{ print "nice=" $17, "policy=" $39 }')
kill "$sp" 2>/dev/null
wait "$sp" 2>/dev/null
eq "$sched" "nice=10 policy=3" "relayguard-collector.service runs it at nice 10, SCHED_BATCH"

echo "pkg: $passed passed, $failed failed"
[ "$failed" = 0 ]
