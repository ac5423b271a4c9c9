#!/usr/bin/env python3
"""collector_flows - the benchmark's flows, sent as IPFIX to nfcapd.

N records over one day: ~90 % web (local clients 10.20.0.0/16 to the
documentation ranges on 80/443), ~2 % SMTP (mostly the four mail servers
10.20.0.25-28 in and out, some 20 direct senders), the rest DNS; ~5 % of
all over IPv6 (fd00:20::/32 and 2001:db8::/32). Records are packed here directly (no text) for speed.
Usage: collector_flows.py HOST PORT N
"""
import random
import socket
import struct
import sys
import time

sys.path.insert(0, sys.path[0] + "/../tests/collector")
import ipfix_send as ix  # noqa: E402

T0 = 1794268800000
rnd = random.Random(4)


def v4(a, b, c, d):
    return bytes((a, b, c, d))


def flush(sock, host, port, tmpl, pend, v6, seq):
    """send the pending records of one family; the new sequence number"""
    data = b"".join(pend[v6])
    body = tmpl + struct.pack("!HH", ix.TEMPLATES[v6][0], 4 + len(data)) + data
    sock.sendto(ix.message(seq, body), (host, port))
    seq += len(pend[v6])
    pend[v6] = []
    if seq % 20000 < ix.MAX_RECORDS:
        time.sleep(0.02)                       # let nfcapd keep up
    return seq


def main():
    host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    tmpl = ix.template_set()
    fmt = struct.Struct("!HHBBQQQQQQ")
    pend = {False: [], True: []}
    seq = 0
    for i in range(n):
        r = rnd.random()
        t = T0 + rnd.randrange(86400000)
        v6 = rnd.random() < 0.05
        lh = rnd.randrange(1, 4000)
        if r < 0.02:                            # SMTP
            sp, dp = rnd.randrange(1025, 65535), 25
            pk, by, fl = 12, rnd.randrange(400, 20000), 27
            lh = 25 + rnd.randrange(4) if r < 0.019 else 3000 + rnd.randrange(20)
            if r < 0.01:                        # inbound to a mail server
                v6 = False
                ra = v4(192, 0, 2, rnd.randrange(1, 255))
                rec = ra + v4(10, 20, 0, lh) + fmt.pack(sp, dp, 6, fl, pk, by, t, t + 500, 0, 0)
                pend[v6].append(rec)
                if len(pend[v6]) == ix.MAX_RECORDS:
                    seq = flush(sock, host, port, tmpl, pend, v6, seq)
                continue
        elif r < 0.92:                          # web
            sp, dp = rnd.randrange(32768, 61000), rnd.choice((80, 443))
            pk, by, fl = rnd.randrange(3, 40), rnd.randrange(200, 50000), 27
        else:                                   # DNS
            sp, dp = rnd.randrange(1025, 65535), 53
            pk, by, fl = 1, 70, 0
        if v6:
            la = b"\xfd\x00\x00\x20" + bytes(10) + struct.pack("!H", lh)
            ra = b"\x20\x01\x0d\xb8" + bytes(10) + struct.pack("!H", rnd.randrange(1, 500))
        else:
            la = v4(10, 20, lh >> 8, lh & 255)
            ra = v4(rnd.choice((192, 198, 203)), 0, 2, rnd.randrange(1, 255))
        proto = 17 if dp == 53 else 6
        rec = la + ra + fmt.pack(sp, dp, proto, fl, pk, by, t, t + 500, 0, 0)
        pend[v6].append(rec)
        if len(pend[v6]) == ix.MAX_RECORDS:
            seq = flush(sock, host, port, tmpl, pend, v6, seq)
    for v6 in (False, True):
        if pend[v6]:
            seq = flush(sock, host, port, tmpl, pend, v6, seq)
    print(seq)


if __name__ == "__main__":
    main()
