#!/bin/bash
# t_milter_packets.sh - relayguard-milter costs Postfix no more than a null
# milter. Postfix talks to the null milter of bench/ (connect, MAIL, RCPT
# and end-of-message callbacks answering continue) and to relayguard-milter
# on the same SMTP sessions, each through tests/e2e/milterproxy.py, which
# lists the milter packets of every connection. relayguard must answer
# with no more packets than the null milter and be sent no header, end of
# header, DATA or unknown-command step, nor the body unless a bytes rule
# exists. The bytes rule still works: with the body counted (no SIZE=),
# with the client's SIZE= (a declared size above the body counts), and
# a SIZE= below the body does not hide it; a refused message gives back.
# Usage: tests/e2e/t_milter_packets.sh [BUILD_DIR]
# e2e: hour-sensitive (1h counts and limits; run.sh starts it clear of a full hour)

. "$(dirname -- "$0")/lib.sh"
. "$(dirname -- "$0")/relayguard.sh"

NULLMILTER=$E2E_BUILD/bench/nullmilter
BYTES_RULE='
    , { name = "internal-volume"; applies_to = "internal";
        metric = "bytes"; window = "1h"; limit = 20000; action = "tempfail"; }'

e2e_init
[ -x "$NULLMILTER" ] || e2e_bail "no $NULLMILTER (make)"
command -v python3 >/dev/null || e2e_skip "missing python3"
e2e_pick_port NULL_PORT
e2e_pick_port PROXY_NULL
e2e_pick_port PROXY_RG
PKT_LOG=$E2E_DIR/packets.log

rg_prepare
e2e_bg nullmilter "$NULLMILTER" "inet:$NULL_PORT@127.0.0.1"
e2e_bg proxy python3 "$RG_SRC/tests/e2e/milterproxy.py" "$PKT_LOG" \
    "null:$PROXY_NULL:$NULL_PORT" "rg:$PROXY_RG:$MILTER_PORT"
rg_start || e2e_bail "relayguard-milter did not start: $(cat "$RG_LOG")"
e2e_wait_until 10 eval 'e2e_listening $PROXY_RG && e2e_listening $NULL_PORT' ||
    e2e_bail "null milter or proxy did not start"
# The null milter first: it sees every step relayguard lets through.
pf_create "inet:127.0.0.1:$PROXY_NULL, inet:127.0.0.1:$PROXY_RG"
pf_start || e2e_bail "private Postfix did not start"

# tokens - NAME DIR: all packets of NAME's connections in direction DIR
# (mta or milter), one per line
tokens() {
    awk -v n="$1" -v d="$2=" '$1 == n { for (i = 2; i <= NF; i++)
        if (index($i, d) == 1) { s = substr($i, length(d) + 1)
            k = split(s, t, ","); for (j = 1; j <= k; j++) if (t[j] != "") print t[j] } }' "$PKT_LOG"
}

# count - NAME DIR [ERE]: how many of those packets (matching ERE)
count() {
    tokens "$1" "$2" | grep -cE "^(${3:-.*})\$"
}

# pk__quiet - every connection the proxy accepted has its line in the log
pk__quiet() {
    local opened closed
    [ -f "$PKT_LOG.count" ] || return 0
    read -r opened closed <"$PKT_LOG.count" && [ "$opened" = "$closed" ]
}

# session - send one message; wait for both milters' connections to end.
# Each milter's connections of the session (before and after XCLIENT) end
# after swaks has its last reply, and those of an earlier SMTP session
# (pf_start's banner probe) may still be open when this one starts: the
# log is emptied once every connection so far has its line, and read once
# those of this session have theirs too.
session() {
    e2e_wait_until 20 pk__quiet || e2e_diag "proxied connections still open before the session"
    : >"$PKT_LOG"
    rg_send "$@"
    e2e_wait_until 20 pk__quiet || e2e_diag "proxied connections still open after the session"
    [ "$(grep -c "^null " "$PKT_LOG")" -ge 2 ] && [ "$(grep -c "^rg " "$PKT_LOG")" -ge 2 ] ||
        e2e_diag "proxy log: $(cat "$PKT_LOG")"
    e2e_diag "packets: $(cat "$PKT_LOG")"
}

# compare - WHAT: relayguard answers no more than the null milter; no
# step no rule needs reaches it
compare() {
    local rg_out null_out
    rg_out=$(count rg milter)
    null_out=$(count null milter)
    e2e_assert_true "$1: relayguard sends Postfix no more packets ($rg_out) than the null milter ($null_out)" \
        test "$rg_out" -gt 0 -a "$rg_out" -le "$null_out"
    e2e_assert_eq "$(count rg mta 'L|N|T|U')" 0 \
        "$1: no header, end-of-header, DATA or unknown step is sent to relayguard"
    e2e_assert_eq "$(count rg milter '[^O]')" "$(count rg mta 'M|R|E')" \
        "$1: relayguard answers only MAIL, RCPT and end of message (and the negotiation)"
}

# 1 the test rules (no bytes rule): no body either
session alice 198.18.5.10 -b "short body"
e2e_assert_reply "$SW_RESULT" 250 "the message is accepted"
compare "no bytes rule"
e2e_assert_eq "$(count rg mta 'B')" 0 "no bytes rule: no body packet to relayguard"
e2e_assert_true "the null milter got the same session" test "$(count null mta 'E')" -ge 1

# 2 a bytes rule: the body comes, without replies
rg_stop TERM
rg_config "$BYTES_RULE"
rg_start || e2e_bail "relayguard-milter did not restart: $(cat "$RG_LOG")"
session alice 198.18.5.10 -b "short body"
e2e_assert_reply "$SW_RESULT" 250 "the message is accepted"
compare "bytes rule"
e2e_assert_true "bytes rule: the body is sent to relayguard" test "$(count rg mta 'B')" -ge 1

# 3 the bytes rule without SIZE= (swaks does not send it): the body counts.
# The store counts bytes in 4 KiB units, rounded up: 10,000 bytes are
# 12,288, 2,000 are 4,096; the limit is 20,000.
lines() { local i; for ((i = 0; i < $1; i++)); do printf '%099d\n' "$i"; done; }
rg_send - 10.9.0.1 -b "$(lines 100)"
e2e_assert_reply "$SW_RESULT" 250 "no SIZE=: 10,000 bytes pass a limit of 20,000"
rg_send - 10.9.0.1 -b "$(lines 100)"
e2e_assert_reply "$SW_RESULT" "451 4.7.1" "no SIZE=: another 10,000 bytes are refused at the end of data"
rg_send - 10.9.0.1 -b "$(lines 20)"
e2e_assert_reply "$SW_RESULT" 250 "no SIZE=: the refused message gave its bytes back (2,000 more pass)"

# sizes - CLIENT SIZE:BODY...: one SMTP session through XCLIENT ADDR=CLIENT,
# one message per argument with MAIL FROM SIZE=SIZE and a body of BODY
# bytes; prints the reply code at the end of each message (or the first
# refusal)
sizes() {
    python3 - "$SMTP_PORT" "$@" <<'PY'
import smtplib, sys
port, client, msgs = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
out = []
for m in msgs:
    size, body = (int(x) for x in m.split(":"))
    s = smtplib.SMTP("127.0.0.1", port, timeout=30)
    s.ehlo("client.e2e.test")
    s.docmd("XCLIENT", "ADDR=%s NAME=[UNAVAILABLE]" % client)
    s.ehlo("client.e2e.test")
    code, _ = s.mail("sender@example.org", ["SIZE=%d" % size])
    if code == 250:
        code, _ = s.rcpt("rcpt@example.net")
    if code == 250:
        try:
            text = (b"z" * 98 + b"\r\n") * (body // 100) + b"z" * (body % 100)
            code, _ = s.data(b"Subject: size\r\n\r\n" + text + b"\r\n")
        except smtplib.SMTPDataError as e:
            code = e.smtp_code
    out.append(str(code))
    s.quit()
print(" ".join(out))
PY
}

# 4 with SIZE=: the declared size counts when it is above the body
got=$(sizes 10.9.0.2 30000:100 10000:100 10000:100 2000:100)
e2e_assert_eq "$got" "451 250 451 250" \
    "SIZE=: 30,000 declared (100 sent) is refused, then 10,000 pass, 10,000 more not, 2,000 do (the refused gave back)"
# 5 a SIZE= below the body does not hide it
got=$(sizes 10.9.0.3 10:25000)
e2e_assert_eq "$got" "451" "SIZE=10 with a 25,000-byte body is refused: the body counts"
rg_stop TERM
e2e_done
