#!/usr/bin/env python3
"""ipfix_send - send flow records to an IPFIX collector (nfcapd) over UDP.

Reads flow lines from standard input, one per line:
  START_MS DUR_MS PROTO SRC SPORT DST DPORT PKTS BYTES RPKTS RBYTES FLAGS
FLAGS is an integer (TCP control bits). RPKTS/RBYTES > 0 make an RFC 5103
biflow record (reverse counters under private enterprise 29305).
Usage: ipfix_send.py HOST PORT [RATE_PER_S]
"""
import ipaddress
import socket
import struct
import sys
import time

PEN_REVERSE = 29305
MAX_RECORDS = 10          # records per message (well under 1,400 bytes)


def template(tid, v6):
    """the template set fields: (ie, length, enterprise)"""
    addr = [(27, 16, 0), (28, 16, 0)] if v6 else [(8, 4, 0), (12, 4, 0)]
    return tid, addr + [(7, 2, 0), (11, 2, 0), (4, 1, 0), (6, 1, 0),
                        (2, 8, 0), (1, 8, 0), (152, 8, 0), (153, 8, 0),
                        (2, 8, PEN_REVERSE), (1, 8, PEN_REVERSE)]


TEMPLATES = {False: template(256, False), True: template(257, True)}


def template_set():
    body = b""
    for tid, fields in TEMPLATES.values():
        body += struct.pack("!HH", tid, len(fields))
        for ie, ln, pen in fields:
            if pen:
                body += struct.pack("!HHI", ie | 0x8000, ln, pen)
            else:
                body += struct.pack("!HH", ie, ln)
    return struct.pack("!HH", 2, 4 + len(body)) + body


def record(f):
    start, dur, proto, sa, sp, da, dp, pk, by, rpk, rby, fl = f
    a, b = ipaddress.ip_address(sa), ipaddress.ip_address(da)
    if a.version != b.version:
        raise ValueError("mixed address families: %s %s" % (sa, da))
    return (a.version == 6, a.packed + b.packed +
            struct.pack("!HHBBQQQQQQ", sp, dp, proto, fl, pk, by,
                        start, start + dur, rpk, rby))


def message(seq, body):
    return struct.pack("!HHIII", 10, 16 + len(body), int(time.time()),
                       seq, 1) + body


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    rate = float(sys.argv[3]) if len(sys.argv) > 3 else 0
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    seq, sent, pending = 0, 0, {False: [], True: []}

    def flush(v6):
        nonlocal seq, sent
        recs = pending[v6]
        if not recs:
            return
        data = b"".join(recs)
        body = template_set() + struct.pack("!HH", TEMPLATES[v6][0],
                                            4 + len(data)) + data
        sock.sendto(message(seq, body), (host, port))
        seq += len(recs)
        sent += len(recs)
        pending[v6] = []
        if rate:
            time.sleep(len(recs) / rate)

    for line in sys.stdin:
        p = line.split()
        if not p or p[0].startswith("#"):
            continue
        f = [int(p[0]), int(p[1]), int(p[2]), p[3], int(p[4]), p[5],
             int(p[6]), int(p[7]), int(p[8]), int(p[9]), int(p[10]),
             int(p[11])]
        v6, rec = record(f)
        pending[v6].append(rec)
        if len(pending[v6]) >= MAX_RECORDS:
            flush(v6)
    flush(False)
    flush(True)
    print(sent)


if __name__ == "__main__":
    main()
