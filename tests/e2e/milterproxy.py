#!/usr/bin/env python3
"""milterproxy - count the milter packets between Postfix and milters.

Usage: milterproxy.py LOG NAME:LISTEN_PORT:MILTER_PORT ...

Listens on 127.0.0.1:LISTEN_PORT for each NAME, relays every connection
to 127.0.0.1:MILTER_PORT byte for byte, and splits both directions into
milter packets (a 4-byte big-endian length, then the command letter and
its data). When a relayed connection ends, one line is appended to LOG:

    NAME mta=O,D/C,C,D/H,H,... milter=O,c,...

LOG.count holds "OPENED CLOSED", the connections accepted so far and those
whose line is written: equal, no connection is still to be logged.

mta= lists the packets Postfix sent (a macro packet D as D/ and the step
it is for), milter= the packets the milter sent back. The relay does not
change, delay or reorder anything; it exists only so that a test can
compare what two milters cost Postfix on the same SMTP session.
"""
import os
import socket
import sys
import threading

LOCK = threading.Lock()
COUNTS = {"opened": 0, "closed": 0}


def note(log, key):
    """Count a connection opened or logged; LOG.count replaced whole."""
    with LOCK:
        COUNTS[key] += 1
        with open(log + ".count.new", "w") as f:
            f.write("%d %d\n" % (COUNTS["opened"], COUNTS["closed"]))
        os.rename(log + ".count.new", log + ".count")


def frames(sock_in, sock_out, out):
    """Relay sock_in to sock_out; append each packet's token to out."""
    buf = b""
    while True:
        try:
            data = sock_in.recv(65536)
        except OSError:
            data = b""
        if not data:
            break
        try:
            sock_out.sendall(data)
        except OSError:
            break
        buf += data
        while len(buf) >= 5:
            n = int.from_bytes(buf[:4], "big")
            if len(buf) < 4 + n:
                break
            cmd = chr(buf[4])
            if cmd == "D" and n >= 2:
                cmd = "D/" + chr(buf[5])
            out.append(cmd)
            buf = buf[4 + n:]
    try:
        sock_out.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def relay(log, name, client, port):
    """One MTA connection: both directions, then its line in log."""
    mta, milter = [], []
    try:
        up = socket.create_connection(("127.0.0.1", port))
    except OSError:
        client.close()
        note(log, "closed")
        return
    back = threading.Thread(target=frames, args=(up, client, milter))
    back.start()
    frames(client, up, mta)
    back.join()
    client.close()
    up.close()
    with LOCK, open(log, "a") as f:
        f.write("%s mta=%s milter=%s\n" % (name, ",".join(mta), ",".join(milter)))
    note(log, "closed")


def serve(log, name, listen, port):
    """Accept loop of one NAME."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", listen))
    srv.listen(64)
    while True:
        client, _ = srv.accept()
        note(log, "opened")
        threading.Thread(target=relay, args=(log, name, client, port),
                         daemon=True).start()


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: milterproxy.py LOG NAME:LISTEN_PORT:MILTER_PORT ...")
    log = sys.argv[1]
    threads = []
    for spec in sys.argv[2:]:
        name, listen, port = spec.split(":")
        t = threading.Thread(target=serve, args=(log, name, int(listen), int(port)),
                             daemon=True)
        t.start()
        threads.append(t)
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
