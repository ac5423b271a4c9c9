#!/bin/sh
# run-unit.sh - run every Check suite; print one closing tally line.
# usage: run-unit.sh BUILD_DIR TEST_BINARY...
set -u
build=$1; shift
export RG_BUILD="$build"
pass=0; fail=0; bad=0
for t in "$@"; do
    out=$("$t" 2>&1); rc=$?
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+%: Checks: ' | tail -n 1)
    printf '%-28s %s\n' "$(basename "$t")" "$line"
    n=$(printf '%s' "$line" | sed -n 's/.*Checks: \([0-9]*\), Failures: \([0-9]*\), Errors: \([0-9]*\).*/\1 \2 \3/p')
    if [ -n "$n" ]; then
        set -- $n "$@"
        pass=$((pass + $1 - $2 - $3)); fail=$((fail + $2 + $3)); shift 3
    fi
    if [ $rc -ne 0 ] || [ -z "$n" ]; then
        bad=$((bad + 1))
        printf '%s\n' "$out" | grep -v '^Running suite' | tail -n 40
        echo "FAILED: $t (exit $rc)"
        [ -z "$n" ] && fail=$((fail + 1))
    fi
done
echo "unit: $pass passed, $fail failed"
[ $bad -eq 0 ]
