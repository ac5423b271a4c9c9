#!/bin/sh
# mkflows.sh - flows of a scenario into an nfcapd file, through the real
# nfcapd: scenarios.py SCENARIO | ipfix_send.py -> nfcapd -w DIR.
# Usage: mkflows.sh SCENARIO DIR   (prints the number of records sent)
# MKFLOWS_X=CMD passes "-x CMD" to nfcapd (run on each file it closes).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
scenario=$1 dir=$2
mkdir -p "$dir"

# a free UDP port on loopback
port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp)
# nfcapd -t 3600 closes its file at every full hour: flows sent across one
# land in two files, and the tests read each file alone (the collector's
# run) or the first only. Less than HOUR_MARGIN_S before the hour, start
# after it.
HOUR_MARGIN_S=60
left=$((3600 - $(date +%s) % 3600))
[ "$left" -le "$HOUR_MARGIN_S" ] && sleep "$left"
if [ -n "${MKFLOWS_X:-}" ]; then
    nfcapd -b 127.0.0.1 -p "$port" -w "$dir" -t 3600 -B 16000000 -x "$MKFLOWS_X" >"$log" 2>&1 &
else
    nfcapd -b 127.0.0.1 -p "$port" -w "$dir" -t 3600 -B 16000000 >"$log" 2>&1 &
fi
pid=$!
# queued - bytes that wait in nfcapd's socket for it to read ("" when it
# does not listen)
queued() {
    ss -Hlun "( sport = :$port )" 2>/dev/null | awk '$4 == "127.0.0.1:'"$port"'" { print $2 }'
}
# wait until nfcapd listens (at most 30 s: a loaded machine)
i=0
while [ -z "$(queued)" ]; do
    i=$((i + 1)); [ $i -gt 600 ] && { cat "$log" >&2; kill $pid; exit 1; }
    sleep 0.05
done
sent=$(python3 "$here/scenarios.py" "$scenario" | python3 "$here/ipfix_send.py" 127.0.0.1 "$port" 200000)
# SIGTERM only once nfcapd has read every datagram: what still waits in
# its socket then is lost. A fixed pause (it was 0.3 s) is too short when
# nfcapd is slow to run, and the count below then fails.
i=0
while [ "$(queued)" != 0 ]; do
    i=$((i + 1)); [ $i -gt 600 ] && break	# 30 s; the count below tells
    sleep 0.05
done
kill -TERM $pid
wait $pid || true
got=$(sed -n 's/.*Flows: \([0-9]*\),.*/\1/p' "$log" | tail -1)
rm -f "$log"
if [ "$got" != "$sent" ]; then
    echo "mkflows: sent $sent records, nfcapd stored ${got:-none}" >&2
    exit 1
fi
echo "$sent"
