#!/bin/bash
# t_miltertest.sh - the Sendmail path: miltertest speaks the milter
# protocol with Sendmail's macros ({client_addr}, {auth_authen}, i) to
# relayguard-milter, no MTA in between (tests/e2e/sendmail_macros.lua).
# Usage: tests/e2e/t_miltertest.sh [BUILD_DIR]

. "$(dirname -- "$0")/lib.sh"
. "$(dirname -- "$0")/relayguard.sh"

e2e_init
rg_miltertest sendmail_macros.lua
printf '%s\n' "$out" | grep -E '^(ok|not ok) - ' | while read -r line; do
    case $line in ok*) e2e_diag "miltertest: $line" ;; esac
done
e2e_assert_eq "$rc" 0 "miltertest script ran to the end"
e2e_assert_eq "$(printf '%s\n' "$out" | grep -c '^ok - ')" 6 "all six Sendmail-path checks passed"
[ "$rc" = 0 ] || e2e_diag "$out"
e2e_assert_true "the milter is alive after the hostile macros" e2e__alive "$RG_PID"
e2e_assert_file_match "$RG_LOG" 'SMQ2: action=quarantine rule=impossible-travel user="smuser"' \
    "the Sendmail queue id i is in the verdict line"
e2e_assert_file_match "$RG_LOG" 'SMQ4: action=tempfail rule=many-countries user="smuser"' \
    "a refusal at MAIL FROM carries Sendmail's queue id (i is known there)"
e2e_assert_false "no Sendmail verdict is logged as NOQUEUE" grep -q 'NOQUEUE: .*user="smuser"' "$RG_LOG"
e2e_assert_file_match "$RG_LOG" 'user="A{200,}\.\.\."' "the 900-byte login is logged cut with ..."
e2e_assert_false "no raw control byte reaches the log" grep -qP '[\x00-\x08\x0b-\x1f]' "$RG_LOG"
rg_stop TERM
e2e_done
