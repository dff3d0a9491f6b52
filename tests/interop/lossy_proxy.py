#!/usr/bin/python3
"""A UDP relay on loopback that loses datagrams: put between our UA and a
peer, it drops PERCENT % of what passes in each direction (seeded, so a
run can be repeated), which exercises the UA's retransmissions on the real
UDP path.

usage: lossy_proxy.py PEER_PORT PERCENT SEED MAX_SECONDS

It listens on 127.0.0.1 on a free port, prints "proxy port N", and relays:
what arrives there from the client (the first sender, our UA) goes to
127.0.0.1:PEER_PORT from a second socket, and what the peer sends to that
socket goes back to the client. The peer must send its in-dialog requests
to the proxy port too (a Contact naming it), so every message crosses the
proxy. It stops on SIGTERM or after MAX_SECONDS and prints one line:
"proxy c2p N dropped D p2c N dropped D" (datagrams client to peer and back,
and how many of each were dropped).
"""
import random
import select
import signal
import socket
import sys
import time

HOST = "127.0.0.1"


def main():
    peer_port, percent, seed, max_s = (int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]),
                                       float(sys.argv[4]))
    rng = random.Random(seed)
    front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    front.bind((HOST, 0))
    back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    back.bind((HOST, 0))
    for s in (front, back):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    print(f"proxy port {front.getsockname()[1]}", flush=True)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    client = None
    counts = {"c2p": [0, 0], "p2c": [0, 0]}
    end = time.monotonic() + max_s
    while not stop and time.monotonic() < end:
        try:
            ready, _, _ = select.select([front, back], [], [], 0.2)
        except InterruptedError:
            continue
        for s in ready:
            data, src = s.recvfrom(65535)
            if s is front:
                if client is None:
                    client = src
                way, out, dst = "c2p", back, (HOST, peer_port)
            else:
                if client is None:
                    continue
                way, out, dst = "p2c", front, client
            counts[way][0] += 1
            if rng.random() * 100 < percent:
                counts[way][1] += 1
                continue
            out.sendto(data, dst)
    print(f"proxy c2p {counts['c2p'][0]} dropped {counts['c2p'][1]} "
          f"p2c {counts['p2c'][0]} dropped {counts['p2c'][1]}", flush=True)


if __name__ == "__main__":
    main()
