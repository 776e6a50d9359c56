#!/usr/bin/python3
"""A checksummed TCP transfer for network tests (run each side in its namespace).

  tcp_transfer.py serve ADDR PORT BYTES [TIMEOUT [PACE]]
      listens on ADDR:PORT, accepts one connection, sends BYTES random octets, closes;
      prints "SHA256-HEX BYTES". With PACE (seconds, > 0): in 64 KiB writes, PACE
      seconds apart, so that the transfer lasts a while.
  tcp_transfer.py fetch ADDR PORT SRC [TIMEOUT]
      connects from SRC to ADDR:PORT (retrying while refused or unreachable, so it may
      start before the server listens), reads until EOF; prints "SHA256-HEX BYTES".

Both sides print what they saw: the transfer is good when the two lines are equal.
Exits 1 on a timeout or a socket error.
"""
import hashlib
import os
import socket
import sys
import time


def serve(addr, port, size, limit, pace=0.0):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(1)
    s.settimeout(limit)
    c, _ = s.accept()
    c.settimeout(limit)
    h = hashlib.sha256()
    left = size
    step = 1 << 16 if pace > 0 else 1 << 20
    while left:
        chunk = os.urandom(min(left, step))
        h.update(chunk)
        c.sendall(chunk)
        left -= len(chunk)
        if pace > 0:
            time.sleep(pace)
    c.shutdown(socket.SHUT_WR)
    # Wait for the client's close, so that everything was read before we report.
    while c.recv(4096):
        pass
    c.close()
    return h.hexdigest(), size


def fetch(addr, port, src, limit):
    end = time.monotonic() + limit
    while True:
        try:
            c = socket.create_connection((addr, port), timeout=limit, source_address=(src, 0))
            break
        except (ConnectionRefusedError, OSError) as e:
            if time.monotonic() > end or isinstance(e, socket.timeout):
                raise
            time.sleep(0.05)
    h = hashlib.sha256()
    n = 0
    while True:
        b = c.recv(1 << 16)
        if not b:
            break
        h.update(b)
        n += len(b)
    c.close()
    return h.hexdigest(), n


def main(argv):
    if len(argv) < 5 or argv[1] not in ("serve", "fetch"):
        sys.exit(__doc__)
    limit = float(argv[5]) if len(argv) > 5 else 20.0
    try:
        if argv[1] == "serve":
            pace = float(argv[6]) if len(argv) > 6 else 0.0
            digest, n = serve(argv[2], int(argv[3]), int(argv[4]), limit, pace)
        else:
            digest, n = fetch(argv[2], int(argv[3]), argv[4], limit)
    except OSError as e:
        print("tcp_transfer %s: %s" % (argv[1], e), file=sys.stderr)
        sys.exit(1)
    print(digest, n)


if __name__ == "__main__":
    main(sys.argv)
