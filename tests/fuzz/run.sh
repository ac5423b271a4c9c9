#!/bin/sh
# run.sh - build the libFuzzer targets (tests/fuzz/fuzz_*.c) and run each.
#
#   tests/fuzz/run.sh [SECONDS] [TARGET...]      (make fuzz)
#
# SECONDS per target: the argument, else $FUZZ_SECONDS, else 60. TARGETs
# are names such as fuzz_cfg (default: every tests/fuzz/fuzz_*.c).
#
# The policy sources are compiled with clang and the same sanitizer flags
# as the targets into build/fuzz/ (never the normal build's objects). Each
# target starts from its seeds in tests/fuzz/corpus/NAME/ (read only) and
# keeps what it finds in build/fuzz/corpus/NAME/; a crash, a leak, a
# sanitizer report or a broken property is a failure, with the input in
# build/fuzz/artifacts/NAME/ and the whole output in build/fuzz/logs/.
# Per-target libFuzzer flags go in tests/fuzz/NAME.options, a dictionary
# in tests/fuzz/NAME.dict, sources from outside policy/ that a target
# needs (one path a line) in tests/fuzz/NAME.srcs; tests/fuzz/lsan.supp
# names the leaks of system libraries that are not ours. After the timed
# run every kept input is replayed once with leak detection on.
# Reproduce one with:  build/fuzz/NAME build/fuzz/artifacts/NAME/crash-...
#
# Installs clang and its libFuzzer runtime when they are missing (Debian,
# non-interactive, like scripts/deps.sh). Not part of `make check`.
set -eu
cd "$(dirname "$0")/../.."

case "${1:-}" in
    ''|*[!0-9]*) secs=${FUZZ_SECONDS:-60} ;;
    *) secs=$1; shift ;;
esac
B=build/fuzz
PKGS="libmaxminddb libconfig libcrypto"
CC=${FUZZ_CC:-clang}
SAN="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
WARN="-Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
-Wmissing-prototypes -Wpointer-arith -Wcast-qual -Wvla"

# apt_install PKG... - install Debian packages without questions
apt_install() {
    echo "fuzz: installing: $*"
    sudo=""
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null 2>&1 || {
            echo "fuzz: need root (or sudo) to install: $*" >&2; exit 69; }
        sudo="sudo"
    fi
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "$@" >/dev/null
}

# fuzzer_links - can $CC link a libFuzzer target with the sanitizers?
fuzzer_links() {
    printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
        'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
        'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)' \
        '{ (void) d; (void) n; return 0; }' >"$B/probe.c"
    "$CC" $SAN -o "$B/probe" "$B/probe.c" >/dev/null 2>&1
}

# need_tools - clang, its libFuzzer runtime, the policy libraries
need_tools() {
    command -v "$CC" >/dev/null 2>&1 || apt_install clang
    if ! fuzzer_links; then
        major=$("$CC" -dumpversion | cut -d. -f1)
        apt_install "libclang-rt-$major-dev"
        fuzzer_links || { echo "fuzz: $CC cannot link -fsanitize=fuzzer" >&2; exit 69; }
    fi
    pkg-config --exists $PKGS 2>/dev/null || scripts/deps.sh
}

# stale OBJ SRC - does OBJ need rebuilding (source, headers or flags newer)?
stale() {
    [ ! -f "$1" ] || [ "$2" -nt "$1" ] || [ "$B/flags" -nt "$1" ] \
        || [ -n "$(find policy tests/fuzz "$(dirname "$2")" -name '*.h' \
                   -newer "$1" | head -n 1)" ]
}

# extra_objs TARGET - compile the sources named in tests/fuzz/TARGET.srcs
# (front-end modules such as ctl/jread.c); print their objects
extra_objs() {
    [ -f "tests/fuzz/$1.srcs" ] || return 0
    for src in $(cat "tests/fuzz/$1.srcs"); do
        obj="$B/obj/$(echo "${src%.c}" | tr '/' '_').o"
        if stale "$obj" "$src"; then
            "$CC" $cflags -I"$(dirname "$src")" -c -o "$obj" "$src" || return 1
        fi
        echo "$obj"
    done
}

# build - the policy archive, then every target
build() {
    cflags="-std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer $SAN $WARN \
$(pkg-config --cflags $PKGS) -Ipolicy"
    libs="$(pkg-config --libs $PKGS) -lpthread -lm -lresolv"
    mkdir -p "$B/obj"
    # a change of compiler or flags rebuilds everything
    if [ "$(cat "$B/flags" 2>/dev/null)" != "$CC $cflags" ]; then
        echo "$CC $cflags" >"$B/flags"
    fi
    objs="" rearchive=0
    for src in policy/*.c; do
        obj="$B/obj/$(basename "$src" .c).o"
        objs="$objs $obj"
        if stale "$obj" "$src"; then
            "$CC" $cflags -c -o "$obj" "$src" || return 1
        fi
        [ "$obj" -nt "$B/libpolicy.a" ] && rearchive=1
    done
    # a source removed from policy/ must leave the archive too
    if [ $rearchive = 1 ] || [ "$(cat "$B/libpolicy.list" 2>/dev/null)" != "$objs" ]; then
        rm -f "$B/libpolicy.a"
        ar rcs "$B/libpolicy.a" $objs
        echo "$objs" >"$B/libpolicy.list"
    fi
    for t in $targets; do
        extra=$(extra_objs "$t") || return 1
        incs="" relink=0
        for obj in $extra; do
            [ "$obj" -nt "$B/$t" ] && relink=1
        done
        [ -f "tests/fuzz/$t.srcs" ] && for src in $(cat "tests/fuzz/$t.srcs"); do
            incs="$incs -I$(dirname "$src")"
        done
        if [ $relink = 1 ] || stale "$B/$t" "tests/fuzz/$t.c" \
            || [ "$B/libpolicy.a" -nt "$B/$t" ]; then
            "$CC" $cflags -Itests/fuzz $incs -o "$B/$t" "tests/fuzz/$t.c" \
                $extra "$B/libpolicy.a" $libs || return 1
        fi
    done
}

# stat_of NAME LOG - a value from libFuzzer's -print_final_stats lines
stat_of() {
    sed '/^== replay/q' "$2" | sed -n "s/^stat::$1: *//p" | tail -n 1
}

# san_env CMD... - run with the sanitizer settings (overridable)
san_env() {
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=tests/fuzz/lsan.supp:print_suppressions=0} \
        "$@"
}

# run_one NAME - run a target; one summary line; status 0 if clean
run_one() {
    t=$1
    work="$B/corpus/$t"
    seeds="tests/fuzz/corpus/${t#fuzz_}"
    log="$B/logs/$t.log"
    art="$B/artifacts/$t/"
    mkdir -p "$work" "$art" "$B/logs" "$seeds"
    set -- -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$art"
    [ -f "tests/fuzz/$t.dict" ] && set -- "$@" -dict="tests/fuzz/$t.dict"
    [ -f "tests/fuzz/$t.options" ] && set -- "$@" $(cat "tests/fuzz/$t.options")
    rc=0
    san_env "$B/$t" "$@" "$work" "$seeds" >"$log" 2>&1 || rc=$?
    # replay every kept input once with leak checks on: a target whose
    # .options turn them off while fuzzing (they cost an LSan scan for
    # each input that leaks in a library) is still checked for leaks
    if [ "$rc" = 0 ]; then
        echo "== replay with -detect_leaks=1" >>"$log"
        san_env "$B/$t" -runs=0 -detect_leaks=1 -artifact_prefix="$art" \
            $(cat "tests/fuzz/$t.options" 2>/dev/null | tr ' ' '\n' | grep -v detect_leaks) \
            "$work" "$seeds" >>"$log" 2>&1 || rc=$?
    fi
    last=$(sed '/^== replay/q' "$log" | grep -E '^#[0-9]+' | tail -n 1)
    cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
    ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
    corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
    if [ "$rc" = 0 ]; then
        echo "$t: ok ${secs}s runs=$(stat_of number_of_executed_units "$log")" \
             "exec/s=$(stat_of average_exec_per_sec "$log") cov=${cov:-?}" \
             "ft=${ft:-?} corpus=${corp:-?} rss=$(stat_of peak_rss_mb "$log")MB"
        return 0
    fi
    why=$(grep -m 1 -E 'ERROR: |property broken|runtime error|Assertion|Test unit written' \
          "$log" || tail -n 1 "$log")
    echo "$t: FAILED (exit $rc) $why"
    grep -o 'Test unit written to .*' "$log" | sed 's/^/    /' || true
    echo "    log: $log"
    return 1
}

targets=""
if [ $# -gt 0 ]; then
    for t in "$@"; do targets="$targets ${t%.c}"; done
else
    for f in tests/fuzz/fuzz_*.c; do targets="$targets $(basename "$f" .c)"; done
fi
mkdir -p "$B"
need_tools
echo "fuzz: building into $B/ with $CC"
build || { echo "fuzz: build failed"; echo "fuzz: 0 passed, 1 failed"; exit 1; }

pass=0 fail=0
for t in $targets; do
    if run_one "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" = 0 ]
