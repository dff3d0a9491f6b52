#!/usr/bin/python3
"""Two limits of a live sipsess-ua seen from outside, on 127.0.0.1.

usage: limits.py udp-size UDP_PORT LIMIT
       limits.py tcp-conns TCP_PORT LIMIT

udp-size: the UA runs with --limit msg_size=LIMIT. MESSAGE datagrams
under the limit get the UA's ordinary answer (405: it serves no MESSAGE
outside a dialog); over it, 513 Message Too Large (RFC 3261 §21.5.14): the
datagram is cut at the limit, but what a response needs comes first.

tcp-conns: the UA runs with --limit tcp_connections=LIMIT. LIMIT + 3
connections are opened together and each sends an OPTIONS: LIMIT of them
get 200 and the other 3 are closed unanswered (the library accepts and
closes past its limit); once they are all closed, a new connection is
served again.

Prints what it saw and "limits: N passed, N failed".
"""
import select
import socket
import sys
import time

HOST = "127.0.0.1"


def options(tag, port, proto="TCP", method=b"OPTIONS", body=b""):
    return (method + b" sip:bob@127.0.0.1 SIP/2.0\r\n"
            b"Via: SIP/2.0/" + proto.encode() + b" 127.0.0.1:%d;branch=z9hG4bK%s;rport\r\n"
            b"Max-Forwards: 70\r\nFrom: <sip:lim@127.0.0.1>;tag=%s\r\n"
            b"To: <sip:bob@127.0.0.1>\r\nCall-ID: %s@lim\r\nCSeq: 1 " % (port, tag, tag, tag) +
            method + b"\r\n" + (b"Content-Type: text/plain\r\n" if body else b"") +
            b"Content-Length: %d\r\n\r\n" % len(body) + body)


def udp_size(port, limit):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((HOST, 0))
    me = s.getsockname()[1]
    results = []
    for size in (limit // 2, limit, limit + 1, 4 * limit, 65000):
        head = options(b"sz%d" % size, me, "UDP", b"MESSAGE", b"x")
        body = b"x" * (size - len(head) + 1)
        msg = options(b"sz%d" % size, me, "UDP", b"MESSAGE", body)
        while len(msg) > size:  # the Content-Length digits
            body = body[:-1]
            msg = options(b"sz%d" % size, me, "UDP", b"MESSAGE", body)
        s.sendto(msg, (HOST, port))
        r, _, _ = select.select([s], [], [], 2)
        got = int(s.recv(70000)[8:11]) if r else None
        want = 405 if len(msg) <= limit else 513
        results.append((len(msg), want, got))
    return results


def tcp_conns(port, limit):
    n = limit + 3
    socks = []
    for i in range(n):
        c = socket.create_connection((HOST, port))
        socks.append(c)
        time.sleep(0.02)  # accepted in this order
    for i, c in enumerate(socks):
        try:
            c.sendall(options(b"c%d" % i, port))
        except OSError:
            pass
    answered = closed = 0
    for c in socks:
        c.settimeout(2)
        try:
            d = c.recv(4096)
            if d.startswith(b"SIP/2.0 200"):
                answered += 1
            elif not d:
                closed += 1
        except (socket.timeout, OSError):
            closed += 1
    for c in socks:
        c.close()
    time.sleep(0.3)
    c = socket.create_connection((HOST, port))
    c.settimeout(2)
    c.sendall(options(b"after", port))
    try:
        again = c.recv(4096).startswith(b"SIP/2.0 200")
    except OSError:
        again = False
    c.close()
    return answered, closed, again


def main():
    mode, port, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    ok = bad = 0
    if mode == "udp-size":
        for size, want, got in udp_size(port, limit):
            good = got == want
            ok, bad = ok + good, bad + (not good)
            print(f"  {'ok ' if good else 'BAD'} {size}-byte datagram (limit {limit}): "
                  f"expected {want} got {got}")
    else:
        answered, closed, again = tcp_conns(port, limit)
        good = answered == limit and closed == 3
        ok, bad = ok + good, bad + (not good)
        print(f"  {'ok ' if good else 'BAD'} {limit + 3} connections at a limit of {limit}: "
              f"{answered} answered 200, {closed} closed unanswered")
        ok, bad = ok + again, bad + (not again)
        print(f"  {'ok ' if again else 'BAD'} a new connection afterwards is served: {again}")
    print(f"limits: {ok} passed, {bad} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
