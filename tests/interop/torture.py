#!/usr/bin/python3
"""Send every RFC 4475 torture message, byte for byte, to a running UA over
UDP and check what comes back against what the RFC (and the manifest's
descriptions) say a UAS must do.

usage: torture.py RFC4475_DIR HOST PORT

Responses are routed by the UA per RFC 3261 18.2.2: to the source address
(`received`) and the Via sent-by port, 5060 by default, so this script
listens on 127.0.0.1:5060 and on the two other sent-by ports the messages
use (5050, 5070).
"""
import csv
import os
import re
import select
import socket
import sys
import time

# What the reference UA without --answer must answer: OPTIONS 200, methods
# it knows but does not serve 405, unknown methods 501, and INVITE goes to
# the session layer, which with no one to answer it says 480 (the
# documented default) and to an INVITE with a To tag that matches no
# dialog 481 (RFC 3261 12.2.2). The library never reads bodies, so the
# 415/406 a UAS that checks them would send is allowed but not required.
# A set lists the acceptable statuses; None means "no response" (responses
# are dropped, unparseable requests cannot be answered).
EXPECT = {
    # invalid-parse (RFC 4475 3.1.2)
    "badinv01.dat": {400}, "clerr.dat": {400}, "ncl.dat": {400},
    "scalar02.dat": {400}, "scalarlg.dat": None, "quotbal.dat": {400},
    "ltgtruri.dat": {400}, "lwsruri.dat": {400}, "lwsstart.dat": {400},
    "trws.dat": {400}, "escruri.dat": {400}, "baddate.dat": {400},
    "regbadct.dat": {400}, "badaspec.dat": {400}, "baddn.dat": {400},
    "badvers.dat": {505}, "mismatch01.dat": {400}, "mismatch02.dat": {501},
    "bigcode.dat": None, "test.dat": None,
    # valid-but-reject (3.2, 3.3)
    "badbranch.dat": {200, 400}, "insuf.dat": {400}, "unkscm.dat": {416},
    "novelsc.dat": {416}, "unksm2.dat": {400, 405}, "bext01.dat": {420},
    "invut.dat": {405, 415, 480}, "regaut01.dat": {405}, "multi01.dat": {400},
    "mcl01.dat": {400}, "bcast.dat": None, "zeromf.dat": {200},
    "sdp01.dat": {400, 405, 406, 480},
    # valid responses are dropped by a UAS
    "unreason.dat": None, "noreason.dat": None,
    # valid requests: processed (never 400): OPTIONS 200, REGISTER and
    # MESSAGE 405 (not served), INVITE 480 (nobody answers) or 481 (To tag
    # of no dialog), unknown 501
    "wsinv.dat": {481}, "intmeth.dat": {501}, "esc01.dat": {480},
    "escnull.dat": {405}, "esc02.dat": {501}, "lwsdisp.dat": {200},
    "longreq.dat": {480}, "dblreq.dat": {405}, "semiuri.dat": {200},
    "transports.dat": {200}, "mpart01.dat": {405}, "cparam01.dat": {405},
    "cparam02.dat": {405}, "regescrt.dat": {405}, "inv2543.dat": {480},
}

CALLID_RE = re.compile(rb"^(?:call-id|i)[ \t]*:[ \t]*(\S+)", re.I | re.M)
VIA_RE = re.compile(rb"^(?:via|v)[ \t]*:(.*)$", re.I | re.M)
BRANCH_RE = re.compile(rb";[ \t]*branch[ \t]*=[ \t]*([^;, \t\r\n]+)", re.I)
SENTBY_RE = re.compile(rb"SIP[ \t]*/[ \t]*[0-9.]+[ \t]*/[ \t]*\w+[ \t]+([^;, \t\r\n]+)", re.I)


def call_id(data):
    m = CALLID_RE.search(data)
    return m.group(1) if m else None


def top_via(data):
    m = VIA_RE.search(data)
    return m.group(1) if m else b""


def branch(data):
    m = BRANCH_RE.search(top_via(data))
    return m.group(1) if m else None


def txn_key(data):
    """RFC 3261 17.2.3: a request whose top Via branch (magic cookie),
    sent-by and method equal an earlier one's IS a retransmission of it,
    and gets the earlier transaction's last response. Several RFC 4475
    messages reuse one branch, so the expectation must follow that."""
    br = branch(data)
    if not br or not br.startswith(b"z9hG4bK"):
        return None
    m = SENTBY_RE.search(top_via(data))
    sent_by = m.group(1).lower() if m else b""
    if b":" not in sent_by.split(b"]")[-1]:
        sent_by += b":5060"
    method = data.split(b" ", 1)[0]
    return (br, sent_by, method)


def response_matches(resp, req, cid):
    """A response belongs to a request by its top Via branch (copied from
    the request) and Call-ID `cid`: several messages share a branch, and a
    UAS keeps retransmitting final INVITE responses nobody ACKs here."""
    br = branch(req)
    if br and branch(resp) != br:
        return False
    return call_id(resp) == cid


def main():
    d, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rows = list(csv.DictReader(open(os.path.join(d, "MANIFEST.tsv")), delimiter="\t"))
    assert len(rows) == 50, len(rows)
    socks = []
    for p in (5060, 5050, 5070):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", p))
        except OSError as e:
            print(f"cannot bind 127.0.0.1:{p}: {e}")
            return 1
        socks.append(s)
    tx = socks[0]
    target = (host, port)
    failures = 0

    def collect(req, wait, cid=None):
        """Status codes of responses to `req` within `wait` s."""
        got = []
        end = time.monotonic() + wait
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return got
            r, _, _ = select.select(socks, [], [], left)
            for s in r:
                data, _ = s.recvfrom(70000)
                if data.startswith(b"SIP/2.0 ") and response_matches(data, req, cid or call_id(req)):
                    got.append(int(data[8:11]))
                    if got[-1] >= 200:
                        # A final answer: give stray duplicates a moment.
                        end = min(end, time.monotonic() + 0.05)

    seen = {}
    for row in rows:
        name = row["file"]
        data = open(os.path.join(d, name), "rb").read()
        exp = EXPECT[name]
        key = txn_key(data)
        note, cid = "", call_id(data)
        if key in seen:
            exp, cid, first = seen[key]
            note = f" (same transaction as {first}: its answer is resent)"
        tx.sendto(data, target)
        finals = [c for c in collect(data, 0.3 if exp is None else 2.0, cid) if c >= 200]
        if key and key not in seen and finals:
            seen[key] = ({finals[0]}, cid, name)
        if exp is None:
            ok = not finals
        else:
            ok = len(set(finals)) == 1 and finals[0] in exp
        print(f"  {'ok ' if ok else 'BAD'} {name:16s} {row['expect']:17s} "
              f"expected {sorted(exp) if exp else 'no answer'} got {finals or 'nothing'}{note}")
        failures += not ok

    # Still serving afterwards?
    probe = (b"OPTIONS sip:probe@127.0.0.1 SIP/2.0\r\n"
             b"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKtortureprobe1\r\n"
             b"Max-Forwards: 70\r\nFrom: <sip:t@127.0.0.1>;tag=1\r\n"
             b"To: <sip:probe@127.0.0.1>\r\nCall-ID: torture-probe\r\n"
             b"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
    tx.sendto(probe, target)
    finals = [c for c in collect(probe, 2.0) if c >= 200]
    alive = finals == [200]
    print(f"  {'ok ' if alive else 'BAD'} OPTIONS after the torture set: {finals}")
    failures += not alive
    print(f"torture: {len(rows) + 1 - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
