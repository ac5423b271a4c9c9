#!/usr/bin/env python3
"""scenarios - flow records of the collector's test scenarios, as lines for
ipfix_send.py: START_MS DUR_MS PROTO SRC SPORT DST DPORT PKTS BYTES RPKTS
RBYTES FLAGS.

Local networks: 10.20.0.0/16 and fd00:20::/32. The outside world uses the
documentation ranges only. Day D is 2026-11-10 (UTC).
Usage: scenarios.py history|main
  history  days D-5 .. D-1: the new mail server's 5 connections a day and
           the fan-out host's few sends
  main     day D: every scenario (see tests/collector/t_collector.sh)
"""
import random
import sys

D = 1794268800000                     # 2026-11-10T00:00:00Z in ms
DAY = 86400000
TCP, UDP = 6, 17
SYN, ACK, PSH, FIN, RST = 2, 16, 8, 1, 4
SESSION = SYN | ACK | PSH | FIN
rnd = random.Random(17)


def out(t, dur, proto, sa, sp, da, dp, pk, by, rpk=0, rby=0, fl=0):
    print(t, dur, proto, sa, sp, da, dp, pk, by, rpk, rby, fl)


def smtp(t, client, server, cbytes=1500, sbytes=900, biflow=False, swap=False):
    """one SMTP connection: two unidirectional records, or one biflow
    (swap: the record's source is the server, as some exporters do)"""
    eph = rnd.randint(1025, 65000)
    if biflow:
        if swap:
            out(t, 900, TCP, server, 25, client, eph, 10, sbytes, 12, cbytes, SESSION)
        else:
            out(t, 900, TCP, client, eph, server, 25, 12, cbytes, 10, sbytes, SESSION)
        return
    out(t, 900, TCP, client, eph, server, 25, 12, cbytes, 0, 0, SESSION)
    out(t + 5, 890, TCP, server, 25, client, eph, 10, sbytes, 0, 0, SESSION)


def legit_server(t0):
    """10.20.0.25 and fd00:20::25: whitelisted mail servers, in and out"""
    for i in range(40):
        smtp(t0 + i * 60000, "192.0.2.%d" % (10 + i % 20), "10.20.0.25")
        smtp(t0 + i * 60000 + 30000, "10.20.0.25", "203.0.113.%d" % (1 + i % 30))
        smtp(t0 + i * 60000 + 1000, "2001:db8::%x" % (0x10 + i % 5), "fd00:20::25")
    out(t0, 10, UDP, "10.20.0.25", 40000, "192.0.2.53", 53, 1, 70)   # a DNS query


def rogue_server(t0):
    """10.20.1.7 answers SMTP for external clients (unidirectional);
    10.20.1.8 too, in biflow records whose source is the server;
    fd00:20::7 over IPv6"""
    for i in range(30):
        smtp(t0 + i * 120000, "192.0.2.%d" % (50 + i % 10), "10.20.1.7")
        smtp(t0 + i * 120000 + 7, "192.0.2.%d" % (60 + i % 4), "10.20.1.8",
             biflow=True, swap=True)
        smtp(t0 + i * 120000 + 9, "2001:db8::%x" % (0x50 + i % 6), "fd00:20::7")


def resnet_pc(t0, bursts):
    """seed 000: 10.20.133.16 sends mail right after the controller
    203.0.113.100 connects to its port 7629; some web browsing around"""
    for i in range(bursts):
        t = t0 + i * 4000
        out(t, 300, TCP, "203.0.113.100", 44000 + i % 20000, "10.20.133.16", 7629,
            6, 419, 0, 0, SESSION)
        out(t + 2, 300, TCP, "10.20.133.16", 7629, "203.0.113.100", 44000 + i % 20000,
            5, 395, 0, 0, SESSION)
        smtp(t + 1000, "10.20.133.16", "198.51.100.%d" % (1 + i % 40), 1330, 2442)
        if i % 10 == 0:
            out(t + 500, 200, TCP, "10.20.133.16", 50000 + i % 9000, "192.0.2.80", 80,
                8, 700, 0, 0, SESSION)


def new_mail_server(t0, n):
    """seed 004: 10.20.2.2 serves n SMTP connections on day D"""
    for i in range(n):
        smtp(t0 + i * 3000, "198.51.100.%d" % (100 + i % 100), "10.20.2.2",
             biflow=True)


def fan_out(t0):
    """seed 004's misconfiguration: 10.20.3.3 reaches 75 external mail
    servers within 50 seconds"""
    for i in range(75):
        smtp(t0 + i * 666, "10.20.3.3", "198.51.100.%d" % (1 + i), biflow=True)


def failed_attempts(t0):
    """10.20.4.4: SYNs and RSTs below the threshold"""
    for i in range(50):
        out(t0 + i * 1000, 0, TCP, "10.20.4.4", 30000 + i, "198.51.100.200", 25,
            1, 60, 0, 0, SYN)
        out(t0 + i * 1000 + 3, 0, TCP, "198.51.100.200", 25, "10.20.4.4", 30000 + i,
            2, 80, 0, 0, RST | ACK)


def biflow_threshold(t0):
    """10.20.7.7 answers SMTP in biflow records whose forward direction is
    under the threshold and whose reverse direction is over it: nfdump's
    packets/bytes filter alone (forward only) would miss them"""
    for i in range(5):
        out(t0 + i * 60000, 800, TCP, "192.0.2.%d" % (90 + i), 40000 + i, "10.20.7.7", 25,
            2, 100, 10, 900, SESSION)


def learned_server(t0):
    """10.20.6.6: a mail server the admin whitelists with the command"""
    for i in range(12):
        smtp(t0 + i * 300000, "192.0.2.%d" % (200 + i % 3), "10.20.6.6")


def web(t0, n):
    """ordinary web traffic of local clients"""
    for i in range(n):
        host = "10.20.5.%d" % (1 + i % 50)
        eph = 49152 + i % 16000
        out(t0 + i * 997, 2000, TCP, host, eph, "192.0.2.80", 443, 20, 3000, 0, 0, SESSION)
        out(t0 + i * 997 + 2, 2000, TCP, "192.0.2.80", 443, host, eph, 30, 40000, 0, 0,
            SESSION)
    for i in range(n // 10):
        out(t0 + i * 7001, 1000, TCP, "fd00:20::9", 51000 + i, "2001:db8::80", 443,
            10, 1000, 12, 20000, SESSION)


def history():
    for day in range(5, 0, -1):
        t = D - day * DAY + 9 * 3600000
        new_mail_server(t, 5)
        smtp(t + 60000, "10.20.3.3", "198.51.100.1")


def main_day():
    t = D + 8 * 3600000
    legit_server(t)
    rogue_server(t)
    resnet_pc(t + 1800000, 2000)
    new_mail_server(t, 14000)
    fan_out(t + 3 * 3600000)
    failed_attempts(t + 4 * 3600000)
    learned_server(t)
    biflow_threshold(t)
    web(t, 3000)


if __name__ == "__main__":
    {"history": history, "main": main_day}[sys.argv[1]]()
