#!/usr/bin/python3
"""Malformed and hostile traffic to a live sipsess-ua, over UDP and TCP on
loopback: the RFC 4475 torture messages, hand-made broken messages whose
answer is known, and a few thousand seeded random variants of valid
requests (truncated, bytes replaced or inserted, lines deleted, repeated
or swapped, values replaced by junk, CRLF turned into LF, huge fields,
random Content-Length).

usage: malformed.py RFC4475_DIR UDP_PORT TCP_PORT UA_PID UA_OUT
                    [--seed N] [--udp N] [--tcp N]

The UA must run with --answer --mem-stats on 127.0.0.1 (UDP_PORT and
TCP_PORT) and write its output to UA_OUT: after each batch this script
sends it SIGUSR1 and reads its "stats" line (live library blocks), reads
VmRSS from /proc/UA_PID/status, and checks that it still answers OPTIONS
with 200 over UDP and over TCP.

What is checked:
- the UA process is alive after every batch and answers the OPTIONS probes;
- hand-made messages get exactly the answer RFC 3261 asks for (400 for a
  malformed request, 505 for another SIP version, 513 for a message over
  a size limit, 414 for a Request-URI over the URI limit, 416, 420...),
  or none where no response can be routed; over TCP, the connection is
  closed where the framing is lost and otherwise keeps serving;
- the RFC 4475 messages over TCP get the answer torture.py expects over
  UDP (an INVITE may be answered, as this UA answers calls), or none when
  their framing does not hold on a stream;
- every answer to a random variant is a final status this UA may give
  (never 500 or 503), one status per request;
- VmRSS stays under a bound (RSS_BOUND_KB) and the library's live blocks
  go back to their level before the run once the last transactions end.

Every message is sent to 127.0.0.1 only. The INVITEs carry a Contact on
localhost, which no mutation touches: the UA sends its BYE (after the ACK
it never gets) nowhere else. Responses go back to the source address.
"""
import argparse
import os
import random
import re
import select
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torture  # noqa: E402  (its RFC 4475 expectations)

HOST = "127.0.0.1"
RSS_BOUND_KB = 128 * 1024
# Finals a UAS may give these requests: OPTIONS 200, an INVITE 200 or 486
# (--max-concurrent) or 488 or 504 (session.h: a reliable 1xx never
# PRACKed), out-of-dialog methods 405/481/501/603, the §8.2 checks
# 400/416/420/482, limits 414/513, version 505.
ALLOWED = {200, 400, 405, 414, 415, 416, 420, 480, 481, 482, 483, 486, 488, 501, 505, 513,
           603,
           504}  # an INVITE that asked for 100rel whose reliable 180 nobody PRACKs
SDP = (b"v=0\r\no=gen 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       b"m=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")

RESP_CALLID = re.compile(rb"^(?:call-id|i)[ \t]*:[ \t]*(\S+)", re.I | re.M)
RESP_CSEQ = re.compile(rb"^cseq[ \t]*:[ \t]*([^\r\n]+)", re.I | re.M)


def resp_key(data):
    """(Call-ID, CSeq, top branch) of a response: one request's answers."""
    m = RESP_CALLID.search(data)
    c = RESP_CSEQ.search(data)
    return (m.group(1) if m else b"", c.group(1).strip() if c else b"", torture.branch(data))


class Ctx:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.udp.bind((HOST, 0))
        self.port = self.udp.getsockname()[1]
        self.target_u = (HOST, args.udp_port)
        self.target_t = (HOST, args.tcp_port)
        self.n = 0
        self.checks = 0
        self.failures = 0
        self.hist = {}
        self.noanswer = 0
        self.sent = {"udp": 0, "tcp": 0}
        self.rss = []

    def uid(self, tag):
        self.n += 1
        return tag + f"{self.n}x{self.args.seed}".encode()

    def check(self, ok, what):
        self.checks += 1
        if not ok:
            self.failures += 1
            print(f"  BAD {what}", flush=True)
        return ok

    def note(self, codes):
        if not codes:
            self.noanswer += 1
        for c in codes:
            self.hist[c] = self.hist.get(c, 0) + 1


def request(ctx, method, cid, proto="UDP", ruri=b"sip:bob@127.0.0.1", extra=b"", body=b"",
            ctype=None, to_tag=False, vias=None, clen=None, first=b""):
    """A request from this script: Via to our UDP port with rport (TCP:
    the same sent-by; the answer comes on the connection)."""
    br = b"z9hG4bK" + cid
    via = vias if vias is not None else (
        b"Via: SIP/2.0/" + proto.encode() + b" 127.0.0.1:%d;branch=%s;rport\r\n" % (ctx.port, br))
    head = (method + b" " + ruri + b" SIP/2.0\r\n" + first + via +
            b"Max-Forwards: 70\r\n"
            b"From: <sip:gen@localhost>;tag=f" + cid + b"\r\n"
            b"To: <sip:bob@127.0.0.1>" + (b";tag=t" + cid if to_tag else b"") + b"\r\n"
            b"Call-ID: " + cid + b"@gen\r\n"
            b"CSeq: 1 " + method + b"\r\n")
    if method == b"INVITE":
        head += b"Contact: <sip:gen@localhost:%d>\r\n" % ctx.port
    if ctype:
        head += b"Content-Type: " + ctype + b"\r\n"
    cl = clen if clen is not None else str(len(body)).encode()
    return head + extra + b"Content-Length: " + cl + b"\r\n\r\n" + body


# ---------------------------------------------------------------- probes

def udp_collect(ctx, wait, cid=None):
    """Responses on the UDP socket within `wait` s: {key: [status...]};
    with `cid`, done 50 ms after a final answer to that Call-ID tag."""
    got = {}
    end = time.monotonic() + wait
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return got
        r, _, _ = select.select([ctx.udp], [], [], left)
        if not r:
            continue
        data = ctx.udp.recv(70000)
        if not data.startswith(b"SIP/2.0 "):
            continue  # a BYE from the UA for an INVITE nobody ACKed
        k = resp_key(data)
        got.setdefault(k, []).append(int(data[8:11]))
        if cid is not None and int(data[8:11]) >= 200 and k[0].startswith(cid):
            end = min(end, time.monotonic() + 0.05)


def answers_to(got, cid):
    """Finals to the request of Call-ID tag `cid` (by Call-ID, or by its
    branch when the request had no Call-ID)."""
    br = b"z9hG4bK" + cid
    return finals([c for k, v in got.items() if k[0].startswith(cid) or k[2] == br for c in v])


def finals(codes):
    return sorted({c for c in codes if c >= 200})


def tcp_exchange(ctx, msgs, wait=1.0, want=None):
    """Each message on its own connection, all at once. Returns, per
    message, (final statuses, closed): closed means the UA ended the
    connection (EOF or reset). With `want` (per message: the number of
    finals after which it is done, or None to wait for the close), it ends
    as soon as every message is done."""
    socks = []
    for m in msgs:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(ctx.target_t)
        except BlockingIOError:
            pass
        socks.append([s, m, 0, b"", False])
    ctx.sent["tcp"] += len(msgs)
    end = time.monotonic() + wait

    def done(i, e):
        if e[4]:
            return True
        if want is None or want[i] is None:
            return False
        return len(re.findall(rb"(?:^|\r\n)SIP/2\.0 [2-6]\d\d ", e[3])) >= want[i]
    while time.monotonic() < end:
        if all(done(i, e) for i, e in enumerate(socks)):
            end = min(end, time.monotonic() + 0.02)
        wr = [e[0] for e in socks if e[2] < len(e[1]) and not e[4]]
        rd = [e[0] for e in socks if not e[4]]
        if not rd:
            break
        r, w, _ = select.select(rd, wr, [], 0.05)
        for e in socks:
            s = e[0]
            if s in w:
                try:
                    e[2] += s.send(e[1][e[2]:e[2] + 65536])
                except BlockingIOError:
                    pass
                except OSError:
                    e[2] = len(e[1])
            if s in r:
                try:
                    d = s.recv(65536)
                    if d:
                        e[3] += d
                    else:
                        e[4] = True
                except BlockingIOError:
                    pass
                except OSError:
                    e[4] = True
    out = []
    for s, m, _, data, closed in socks:
        s.close()
        codes = [int(x) for x in re.findall(rb"(?:^|\r\n)SIP/2\.0 (\d\d\d) ", data)]
        out.append((finals(codes), closed))
    return out


def probe(ctx, label):
    """OPTIONS over UDP and TCP must get 200; RSS and library blocks."""
    cid = ctx.uid(b"probe")
    ctx.udp.sendto(request(ctx, b"OPTIONS", cid), ctx.target_u)
    u = answers_to(udp_collect(ctx, 2.0, cid), cid)
    t, _ = tcp_exchange(ctx, [request(ctx, b"OPTIONS", ctx.uid(b"probe"), "TCP")], 2.0, [1])[0]
    alive = os.path.exists(f"/proc/{ctx.args.ua_pid}")
    rss = vmrss(ctx.args.ua_pid)
    ctx.rss.append(rss)
    ok = ctx.check(alive and u == [200] and t == [200],
                   f"after {label}: alive {alive}, OPTIONS udp {u} tcp {t}")
    print(f"  {'ok ' if ok else 'BAD'} after {label}: OPTIONS udp {u} tcp {t}, "
          f"VmRSS {rss} kB", flush=True)


def vmrss(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def ua_stats(ctx):
    """Ask the UA for its stats line; returns a dict of its numbers."""
    with open(ctx.args.ua_out, "rb") as f:
        before = f.read().count(b"\nstats ")
    os.kill(ctx.args.ua_pid, signal.SIGUSR1)
    end = time.monotonic() + 3
    while time.monotonic() < end:
        with open(ctx.args.ua_out, "rb") as f:
            text = f.read()
        lines = [x for x in text.split(b"\n") if x.startswith(b"stats ")]
        if text.count(b"\nstats ") > before and lines:
            w = lines[-1].decode().split()[1:]
            return {w[i]: int(w[i + 1]) for i in range(0, len(w) - 1, 2)}
        time.sleep(0.05)
    return {}


# ----------------------------------------------------------- RFC 4475

def rfc4475(ctx):
    """Every torture message byte for byte over UDP (survival; torture.py
    checks those answers) and over TCP, one connection each (answers)."""
    d = ctx.args.rfc4475
    rows = [line.split("\t")[0] for line in open(os.path.join(d, "MANIFEST.tsv"))][1:]
    msgs = [(name, open(os.path.join(d, name), "rb").read()) for name in rows]
    for _, data in msgs:
        ctx.udp.sendto(data, ctx.target_u)
        ctx.sent["udp"] += 1
        time.sleep(0.002)
    udp_collect(ctx, 0.5)
    res = tcp_exchange(ctx, [m for _, m in msgs], 1.5)
    for (name, data), (codes, closed) in zip(msgs, res):
        exp = torture.EXPECT[name]
        allowed = set(exp or ())
        if data.startswith(b"INVITE") and 480 in allowed:
            allowed |= {200, 486, 488}  # this UA answers calls
        most = 1
        if name == "dblreq.dat":
            # On a stream the bytes after the REGISTER are the next
            # message: an INVITE, which this UA answers.
            allowed |= {200, 486, 488}
            most = 2
        ok = len(codes) <= most and all(c in allowed for c in codes)
        ctx.note(codes)
        ctx.check(ok, f"rfc4475 {name} over tcp: expected {sorted(allowed) or 'none'} got {codes}")
    print(f"  rfc4475: {len(msgs)} messages over udp and over tcp", flush=True)


# ---------------------------------------------------------- hand-made

def handmade(ctx):
    """Broken messages whose answer is known. Each case: a builder (Call-ID
    tag, transport) -> bytes, the finals expected over UDP (None: no answer;
    the case is not sent over UDP when `udp` is False) and over TCP, and
    what becomes of the TCP connection: "open" (an OPTIONS after it on the
    same connection gets 200), "closed", or None (either)."""
    def R(*a, **k):
        return request(ctx, *a, **k)

    def vias(c, p, n):
        return b"".join(b"Via: SIP/2.0/%s 127.0.0.1:%d;branch=z9hG4bK%sv%d;rport\r\n" %
                        (p.encode(), ctx.port, c, i) for i in range(n))

    def via_values(c, p, n):
        return b"Via: " + b",".join(b"SIP/2.0/%s 127.0.0.1:%d;branch=z9hG4bK%sw%d;rport" %
                                     (p.encode(), ctx.port, c, i) for i in range(n)) + b"\r\n"

    def vias_after_fields(c, p):
        # The fields a response needs first, then 2,000 more Via lines:
        # 110 KB, over the size limit before its end.
        lower = b"".join(b"Via: SIP/2.0/TCP 127.0.0.%d:5060;branch=z9hG4bKz%d\r\n" %
                         (2 + i % 250, i) for i in range(2000))
        return R(b"OPTIONS", c, p).replace(b"Content-Length:", lower + b"Content-Length:", 1)

    def ver(v):
        return lambda c, p: R(b"OPTIONS", c, p).replace(b" SIP/2.0\r\n", v, 1)

    cases = [
        # name, builder, udp finals, tcp finals, tcp connection afterwards
        ("SIP/3.0", ver(b" SIP/3.0\r\n"), {505}, {505}, "open"),
        ("SIP/2.1", ver(b" SIP/2.1\r\n"), {505}, {505}, "open"),
        ("no SIP version", ver(b"\r\n"), None, None, None),
        ("two spaces in the start line",
         lambda c, p: R(b"OPTIONS", c, p).replace(b"OPTIONS sip", b"OPTIONS  sip", 1),
         {400}, {400}, "open"),
        ("a lower-case method (an extension)",
         lambda c, p: R(b"OPTIONS", c, p).replace(b"OPTIONS sip", b"options sip", 1),
         {501}, {501}, "open"),
        ("binary bytes before the start line",
         lambda c, p: b"\x00\x01\x02\xff\xfe" + R(b"OPTIONS", c, p), None, None, None),
        ("an unknown URI scheme", lambda c, p: R(b"OPTIONS", c, p, ruri=b"xyz:bob"),
         {416}, {416}, "open"),
        ("Require: an unknown extension",
         lambda c, p: R(b"OPTIONS", c, p, extra=b"Require: nosuchext\r\n"), {420}, {420}, "open"),
        ("Max-Forwards 0 (a UAS still answers)",
         lambda c, p: R(b"OPTIONS", c, p).replace(b"Max-Forwards: 70", b"Max-Forwards: 0"),
         {200}, {200}, "open"),
        ("no Call-ID", lambda c, p: re.sub(rb"Call-ID: [^\r]*\r\n", b"", R(b"OPTIONS", c, p)),
         {400}, {400}, "open"),
        ("two CSeq", lambda c, p: R(b"OPTIONS", c, p, extra=b"CSeq: 2 OPTIONS\r\n"),
         {400}, {400}, "open"),
        ("CSeq method mismatch",
         lambda c, p: R(b"OPTIONS", c, p).replace(b"CSeq: 1 OPTIONS", b"CSeq: 1 INFO"),
         {400}, {400}, "open"),
        ("bare LF line ends", lambda c, p: R(b"OPTIONS", c, p).replace(b"\r\n", b"\n"),
         {200}, {200}, "open"),
        ("folded header lines",
         lambda c, p: R(b"OPTIONS", c, p, extra=b"Subject: a\r\n b\r\n\tc\r\n"),
         {200}, {200}, "open"),
        ("a NUL in a header value",
         lambda c, p: R(b"OPTIONS", c, p, extra=b"X-A: a\x00b\r\n"), None, None, "open"),
        ("Content-Length 99999999 (UDP: past the datagram; TCP: past the size limit)",
         lambda c, p: R(b"MESSAGE", c, p, body=b"abc", ctype=b"text/plain", clen=b"99999999"),
         {400}, {513}, "closed"),
        ("Content-Length 2^64",
         lambda c, p: R(b"MESSAGE", c, p, body=b"abc", ctype=b"text/plain",
                        clen=b"18446744073709551616"), {400}, None, "closed"),
        ("Content-Length -1",
         lambda c, p: R(b"MESSAGE", c, p, body=b"abc", ctype=b"text/plain", clen=b"-1"),
         {400}, None, "closed"),
        ("900 Via lines (57 KB)", lambda c, p: R(b"OPTIONS", c, p, vias=vias(c, p, 900)),
         {513}, {513}, "open"),
        ("1,000 Via values on one line",
         lambda c, p: R(b"OPTIONS", c, p, vias=via_values(c, p, 1000)), {513}, {513}, "open"),
        ("a 180 KB Via line (TCP: the fields a response needs lie past the size limit)",
         lambda c, p: R(b"OPTIONS", c, p, vias=via_values(c, p, 3000)), False, None, "closed"),
        ("1,000 header fields",
         lambda c, p: R(b"OPTIONS", c, p, extra=b"".join(b"X-H%d: v\r\n" % i for i in range(1000))),
         {513}, {513}, "open"),
        ("a 20 KB header line",
         lambda c, p: R(b"OPTIONS", c, p, extra=b"X-Long: " + b"a" * 20000 + b"\r\n"),
         {513}, {513}, "open"),
        ("a 5 KB Request-URI",
         lambda c, p: R(b"OPTIONS", c, p, ruri=b"sip:" + b"u" * 5000 + b"@127.0.0.1"),
         {414}, {414}, "open"),
        ("a 20 KB Call-ID (a field the response copies)",
         lambda c, p: R(b"OPTIONS", c, p).replace(b"Call-ID: ", b"Call-ID: " + b"i" * 20000, 1),
         None, None, "open"),
        ("a 60 KB body (under the size limit)",
         lambda c, p: R(b"MESSAGE", c, p, body=b"x" * 60000, ctype=b"text/plain"),
         {405}, {405}, "open"),
        ("a 70 KB message (TCP: no datagram is that long)",
         lambda c, p: R(b"MESSAGE", c, p, body=b"x" * 70000, ctype=b"text/plain"),
         False, {513}, "closed"),
        ("2,000 Via lines after the fields a response needs (110 KB, TCP)",
         vias_after_fields, False, {513}, "closed"),
    ]
    n = 0
    for name, build, udp_exp, _, _ in cases:
        if udp_exp is False:
            continue
        cid = ctx.uid(b"hm")
        data = build(cid, "UDP")
        ctx.udp.sendto(data, ctx.target_u)
        ctx.sent["udp"] += 1
        codes = answers_to(udp_collect(ctx, 1.0 if udp_exp else 0.3, cid), cid)
        ctx.note(codes)
        want = sorted(udp_exp or ())
        ctx.check(codes == want, f"udp {name}: expected {want or 'none'} got {codes}")
        n += 1
    for name, build, _, tcp_exp, conn in cases:
        cid = ctx.uid(b"hm")
        follow = request(ctx, b"OPTIONS", ctx.uid(b"follow"), "TCP") if conn == "open" else b""
        want = sorted(set(tcp_exp or ()) | ({200} if follow else set()))
        need = None if conn == "closed" or not want else len(want)
        codes, closed = tcp_exchange(ctx, [build(cid, "TCP") + follow], 1.0, [need])[0]
        ok = codes == want and (conn != "closed" or closed)
        ctx.note(codes)
        ctx.check(ok, f"tcp {name}: expected {want or 'none'}"
                      f"{' then a close' if conn == 'closed' else ''}, got {codes}"
                      f"{' and a close' if closed else ''}")
        n += 1
    print(f"  hand-made: {n} cases ({len(cases)} kinds) over udp and tcp", flush=True)


# -------------------------------------------------------------- random

def bases(ctx, cid, proto):
    R = lambda *a, **k: request(ctx, *a, proto=proto, **k)  # noqa: E731
    return [
        R(b"OPTIONS", cid),
        R(b"INVITE", cid, body=SDP, ctype=b"application/sdp",
          extra=b"Supported: 100rel, timer\r\nAllow: INVITE, ACK, BYE, CANCEL\r\n"),
        R(b"MESSAGE", cid, body=b"hello", ctype=b"text/plain"),
        R(b"REGISTER", cid, extra=b"Expires: 60\r\n"),
        R(b"INFO", cid, to_tag=True, body=b"x", ctype=b"text/plain"),
        R(b"BYE", cid, to_tag=True),
        R(b"CANCEL", cid),
        R(b"UPDATE", cid, to_tag=True),
        R(b"SUBSCRIBE", cid, extra=b"Event: presence\r\n"),
        R(b"REFER", cid, extra=b"Refer-To: <sip:carol@localhost>\r\n"),
        R(b"PRACK", cid, to_tag=True, extra=b"RAck: 1 1 INVITE\r\n"),
    ]


def mutate(rng, msg):
    """1 to 3 random damages. The From and Contact lines are never touched
    (a truncation may cut them short): they name where the UA sends its
    in-dialog requests (a BYE for an INVITE nobody ACKs), localhost, and
    no damage must make another host of it."""
    lines = msg.split(b"\r\n")
    keep = {i for i, ln in enumerate(lines) if ln.lower().startswith((b"contact", b"from"))}
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(10)
        free = [i for i in range(len(lines)) if i not in keep]
        if op == 0:  # truncate
            flat = b"\r\n".join(lines)
            return flat[:rng.randrange(len(flat))]
        i = rng.choice(free)
        ln = bytearray(lines[i])
        if op == 1 and ln:  # replace bytes
            for _ in range(rng.randint(1, 5)):
                ln[rng.randrange(len(ln))] = rng.randrange(256)
        elif op == 2:  # insert bytes
            at = rng.randrange(len(ln) + 1)
            ln[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 3 and i > 0:  # delete the line
            del lines[i]
            keep = {k - (k > i) for k in keep}
            continue
        elif op == 4:  # repeat the line
            lines.insert(i, bytes(ln))
            keep = {k + (k >= i) for k in keep}
        elif op == 5 and len(free) > 2:  # swap two lines
            j = rng.choice(free)
            lines[i], lines[j] = lines[j], lines[i]
            continue
        elif op == 6 and b":" in ln:  # junk value
            name = bytes(ln).split(b":", 1)[0]
            junk = bytes(rng.choice(b"<>;,=\"\\@:/ abcAZ09%\t") for _ in range(rng.randint(0, 40)))
            ln = bytearray(name + b":" + junk)
        elif op == 7:  # bare LF line ends
            return b"\n".join(lines[:i]) + b"\n" + b"\r\n".join(lines[i:])
        elif op == 8:  # a huge field
            lines.insert(max(1, i), b"X-Big: " + b"b" * rng.choice([100, 5000, 9000, 30000]))
            keep = {k + (k >= max(1, i)) for k in keep}
            continue
        elif op == 9:  # a random Content-Length
            lines = [b"Content-Length: %d" % rng.choice([0, 1, 10, 500, 70000, 2 ** 32, 2 ** 40])
                     if x.lower().startswith(b"content-length") else x for x in lines]
            continue
        lines[i] = bytes(ln)
    return b"\r\n".join(lines)


def random_batch(ctx, count, proto):
    rng = ctx.rng
    msgs = []
    for _ in range(count):
        cid = ctx.uid(b"rnd" + proto.encode())
        msgs.append(mutate(rng, rng.choice(bases(ctx, cid, proto.upper()))))
    codes_by_key = {}
    if proto == "udp":
        for m in msgs:
            try:
                ctx.udp.sendto(m, ctx.target_u)
            except OSError:
                pass  # over the datagram size: nothing sent
            ctx.sent["udp"] += 1
            time.sleep(0.0005)
        got = udp_collect(ctx, 1.0)
        for k, v in got.items():
            codes_by_key[k] = finals(v)
    else:
        for at in range(0, len(msgs), 100):
            for i, (codes, _) in enumerate(tcp_exchange(ctx, msgs[at:at + 100], 0.5)):
                codes_by_key[("tcp", at + i)] = codes
    answered = 0
    for k, codes in codes_by_key.items():
        ctx.note(codes)
        answered += bool(codes)
        ctx.check(len(codes) <= 1 and all(c in ALLOWED for c in codes),
                  f"{proto} random variant {k}: finals {codes}")
    print(f"  random {proto}: {count} variants, {answered} answered", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("rfc4475")
    ap.add_argument("udp_port", type=int)
    ap.add_argument("tcp_port", type=int)
    ap.add_argument("ua_pid", type=int)
    ap.add_argument("ua_out")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--udp", type=int, default=2500)
    ap.add_argument("--tcp", type=int, default=1000)
    args = ap.parse_args()
    ctx = Ctx(args)
    t0 = time.monotonic()
    base = ua_stats(ctx)
    probe(ctx, "start")
    for label, batch in (("the RFC 4475 messages", lambda: rfc4475(ctx)),
                         ("the hand-made messages", lambda: handmade(ctx)),
                         (f"{args.udp} random variants over udp",
                          lambda: random_batch(ctx, args.udp, "udp")),
                         (f"{args.tcp} random variants over tcp",
                          lambda: random_batch(ctx, args.tcp, "tcp"))):
        t = time.monotonic()
        batch()
        probe(ctx, f"{label} ({time.monotonic() - t:.1f} s)")
    peak = max(ctx.rss)
    ctx.check(0 < peak <= RSS_BOUND_KB, f"VmRSS peak {peak} kB over {RSS_BOUND_KB} kB")
    # Transactions and the sessions of INVITEs nobody ACKs end within a
    # few 64*T1 (the UA runs with a short T1): then the library holds what
    # it held before the run.
    t = time.monotonic()
    end = t + 20
    st = ua_stats(ctx)
    while time.monotonic() < end and st.get("lib_blocks", 0) > base.get("lib_blocks", 0) + 64:
        time.sleep(0.5)
        st = ua_stats(ctx)
    ctx.check(st.get("lib_blocks", 1 << 30) <= base.get("lib_blocks", 0) + 64,
              f"library blocks {st.get('lib_blocks')} after the run, {base.get('lib_blocks')} "
              f"before")
    print(f"  drained in {time.monotonic() - t:.1f} s", flush=True)
    print(f"malformed: sent udp {ctx.sent['udp']} tcp {ctx.sent['tcp']} in "
          f"{time.monotonic() - t0:.1f} s; finals {dict(sorted(ctx.hist.items()))}, "
          f"unanswered {ctx.noanswer}; VmRSS start {ctx.rss[0]} peak {peak} kB; library "
          f"blocks {base.get('lib_blocks')} before, {st.get('lib_blocks')} after "
          f"({st.get('trimmed_rss_kb')} kB RSS trimmed)")
    print(f"malformed: {ctx.checks - ctx.failures} passed, {ctx.failures} failed")
    return 1 if ctx.failures else 0


if __name__ == "__main__":
    sys.exit(main())
