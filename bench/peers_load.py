#!/usr/bin/env python3
"""peers_load - the SMTP load of bench/peers.sh.

Usage: peers_load.py PORT SESSIONS CONCURRENCY USERS SEED

SESSIONS SMTP sessions to 127.0.0.1:PORT, CONCURRENCY at a time, one
message each: EHLO, XCLIENT ADDR= LOGIN= (a login drawn from USERS, each
login always from its own address), EHLO, MAIL, RCPT, DATA, QUIT. Prints
one JSON object: messages accepted, failures (any other reply), the wall
time, this process's CPU time (to check that the load generator is not
the bottleneck) and each accepted message's latency in milliseconds
(connect to the reply at the end of data).
"""
import asyncio
import json
import random
import resource
import sys
import time

BODY = ("Subject: peers bench\r\nFrom: <{u}>\r\nTo: <rcpt@example.net>\r\n\r\n"
        + "A line of an ordinary short message body, nothing more.\r\n" * 12)


def user_addr(i):
    """The login i and its one address (13 rows of the test GeoIP plan,
    254 hosts each: about three logins share an address)."""
    return ("user%05d@example.org" % i,
            "198.18.%d.%d" % (1 + i % 13, 1 + (i // 13) % 254))


async def reply(reader):
    """One SMTP reply (the last line's code)."""
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("connection closed")
        if len(line) < 4 or line[3:4] != b"-":
            return line[:3]


async def step(reader, writer, text, want):
    writer.write(text.encode())
    code = await reply(reader)
    if code != want:
        raise ValueError("%s -> %s" % (text.split()[0], code.decode()))


async def session(port, i, lat, fails):
    login, addr = user_addr(i)
    t0 = time.monotonic()
    writer = None
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        if await reply(reader) != b"220":
            raise ValueError("banner")
        await step(reader, writer, "EHLO load.bench.test\r\n", b"250")
        await step(reader, writer, "XCLIENT ADDR=%s LOGIN=%s NAME=[UNAVAILABLE]\r\n"
                   % (addr, login), b"220")
        await step(reader, writer, "EHLO load.bench.test\r\n", b"250")
        await step(reader, writer, "MAIL FROM:<%s>\r\n" % login, b"250")
        await step(reader, writer, "RCPT TO:<rcpt@example.net>\r\n", b"250")
        await step(reader, writer, "DATA\r\n", b"354")
        await step(reader, writer, BODY.format(u=login) + ".\r\n", b"250")
        lat.append((time.monotonic() - t0) * 1000.0)
        writer.write(b"QUIT\r\n")
        await reply(reader)
    except (OSError, ValueError, ConnectionError) as e:
        fails.append(str(e))
    finally:
        if writer is not None:
            writer.close()


async def run(port, sessions, conc, users, seed):
    rnd = random.Random(seed)
    todo = [rnd.randrange(users) for _ in range(sessions)]
    lat, fails = [], []

    async def worker():
        while todo:
            await session(port, todo.pop(), lat, fails)

    await asyncio.gather(*(worker() for _ in range(conc)))
    return lat, fails


def main():
    port, sessions, conc, users, seed = (int(x) for x in sys.argv[1:6])
    c0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.monotonic()
    lat, fails = asyncio.run(run(port, sessions, conc, users, seed))
    wall = time.monotonic() - t0
    c1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)
    print(json.dumps({"ok": len(lat), "fail": len(fails),
                      "first_fail": fails[0] if fails else "",
                      "wall": wall, "cpu": cpu, "lat": lat}))


if __name__ == "__main__":
    main()
