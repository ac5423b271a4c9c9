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
if [ -n "${MKFLOWS_X:-}" ]; then
    nfcapd -b 127.0.0.1 -p "$port" -w "$dir" -t 3600 -B 16000000 -x "$MKFLOWS_X" >"$log" 2>&1 &
else
    nfcapd -b 127.0.0.1 -p "$port" -w "$dir" -t 3600 -B 16000000 >"$log" 2>&1 &
fi
pid=$!
# wait until nfcapd listens
i=0
while ! ss -lun 2>/dev/null | grep -q "127.0.0.1:$port "; do
    i=$((i + 1)); [ $i -gt 100 ] && { cat "$log" >&2; kill $pid; exit 1; }
    sleep 0.05
done
sent=$(python3 "$here/scenarios.py" "$scenario" | python3 "$here/ipfix_send.py" 127.0.0.1 "$port" 200000)
sleep 0.3
kill -TERM $pid
wait $pid || true
got=$(sed -n 's/.*Flows: \([0-9]*\),.*/\1/p' "$log" | tail -1)
rm -f "$log"
if [ "$got" != "$sent" ]; then
    echo "mkflows: sent $sent records, nfcapd stored ${got:-none}" >&2
    exit 1
fi
echo "$sent"
