#!/usr/bin/env python3
"""Write the committed seed corpora of the digest, framer and ua fuzz targets.

    fuzz/mkseeds.py [FUZZ_DIR]      (default: the directory of this script)

Each seed is built from real messages (RFC 3261 §24-§25, RFC 3665, RFC 3515,
RFC 3262, RFC 2617/7616 examples) in the input layout its target documents
at the top of fuzz/<target>_fuzzer.c. Existing files of the same name are
overwritten; other files (regression inputs) are left alone.
"""
import os
import sys

CRLF = "\r\n"


def msg(*lines, body=""):
    """A SIP message from header lines; Content-Length: $L is filled in by
    the ua target (the framer and digest seeds get a real number)."""
    return CRLF.join(lines) + CRLF + CRLF + body


def sdp(sess_ver, port, extra=""):
    return CRLF.join([
        "v=0",
        "o=peer 2890844526 %d IN IP4 127.0.0.1" % sess_ver,
        "s=-",
        "c=IN IP4 127.0.0.1",
        "t=0 0",
        "m=audio %d RTP/AVP 0 8 101" % port,
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:101 telephone-event/8000",
    ]) + CRLF + extra


# ---------------------------------------------------------------- ua ----
# The peer is sip:peer@127.0.0.1:5070 (the fuzzer's raw endpoint); the UA
# listens on 5060. $T/$F/$B/$I/$C/$M/$V/$N/$K/$L are replaced by the fuzzer:
# $T is the UA's tag in dialogs the peer starts, $F in those the UA starts.

PEER_FROM = '"Peer" <sip:peer@127.0.0.1:5070>;tag=pe3r'
UA_TO = "<sip:ua@127.0.0.1:5060>"
CALLID = "a84b4c76e66710@127.0.0.1"


def via(branch):
    return "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK%s;rport" % branch


def req(method, cseq, branch, to_tag=True, extra=(), body="", ctype="application/sdp",
        callid=CALLID, ruri="sip:ua@127.0.0.1:5060"):
    lines = ["%s %s SIP/2.0" % (method, ruri), via(branch), "Max-Forwards: 70",
             "From: " + PEER_FROM,
             "To: " + UA_TO + (";tag=$T" if to_tag else ""),
             "Call-ID: " + callid, "CSeq: %d %s" % (cseq, method),
             "Contact: <sip:peer@127.0.0.1:5070>"]
    lines += list(extra)
    if body:
        lines.append("Content-Type: " + ctype)
    lines.append("Content-Length: $L")
    return msg(*lines, body=body)


def invite(branch="776asdhds", extra=(), body=None):
    return req("INVITE", 1, branch, to_tag=False,
               extra=["Supported: 100rel, replaces, timer",
                      "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REFER, NOTIFY, "
                      "PRACK, UPDATE, MESSAGE"] + list(extra),
               body=sdp(1, 49170) if body is None else body)


def ack(cseq=1, branch="ack776", body=""):
    return req("ACK", cseq, branch, body=body)


def bye(cseq=2, branch="bye9a1"):
    return req("BYE", cseq, branch)


def response(status, reason, to_tag="pe3r", body="", extra=()):
    """A response of the peer to the UA's last request."""
    lines = ["SIP/2.0 %d %s" % (status, reason),
             "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=$B;received=127.0.0.1",
             "From: <sip:ua@127.0.0.1:5060>;tag=$F",
             "To: <sip:peer@127.0.0.1:5070>" + (";tag=" + to_tag if to_tag else ""),
             "Call-ID: $I", "CSeq: $C $M", "Contact: <sip:peer@127.0.0.1:5070>"]
    lines += list(extra)
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append("Content-Length: $L")
    return msg(*lines, body=body)


def response_invite(status, reason, to_tag="pe3r", body="", extra=()):
    """A response of the peer to the UA's last INVITE (after a PRACK, say)."""
    return (response(status, reason, to_tag, body, extra)
            .replace("branch=$B", "branch=$V").replace("CSeq: $C $M", "CSeq: $N INVITE"))


def ua_input(config, steps):
    """config: None or the bytes of the first control line (config byte +
    action tape); steps: [datagram, (advance, tape), datagram, ...]."""
    out = ""
    if config is not None:
        out += "%%" + config + "\n"
    for s in steps:
        if isinstance(s, tuple):
            adv, tape = s
            out += "%%" + adv + tape + "\n"
        else:
            out += s
            if not s.endswith("\n"):
                out += "\n"
    return out.encode("latin-1")


# A (advance, tape) tuple is a control line: the clock moves by
# advance ('2' 10 ms, '3' 50 ms, '6' 500 ms, '8' 2 s, '9' 4 s, 'd' 32 s,
# 'e' 64 s) before the next datagram. Tape bytes (see ua_fuzzer.c): on_invite 0 accept, 2 183 reliable + keep,
# 3 180 + keep, 4 keep; in-dialog 0 accept, 2 keep; tick 0 nothing,
# 1 answer the oldest kept request with the next byte (0 accept, 3 NOTIFY
# for a REFER), 3 place a call to the peer.
NUL = "\x00"

UA_SEEDS = {
    # RFC 3665 §3.1 style basic call: INVITE / 200 / ACK / BYE / 200
    "call_invite_ack_bye": ua_input(None, [
        invite(), ("2", ""), ack(), ("2", ""), bye(), ("9", "")]),
    # re-INVITE with a new offer (hold), its ACK, then BYE
    "reinvite_hold": ua_input(None, [
        invite(), ("2", ""), ack(), ("3", ""),
        req("INVITE", 2, "re1nv1te", body=sdp(2, 49170, "a=sendonly\r\n")), ("2", ""),
        ack(2, "ack2re"), ("5", ""), bye(3), ("9", "")]),
    # INFO (RFC 6086) with a DTMF package, UPDATE without offer, MESSAGE, BYE
    "info_update_message": ua_input(None, [
        invite(), ("2", ""), ack(), ("2", ""),
        req("INFO", 2, "inf0", extra=["Info-Package: dtmf"],
            body="Signal=5\r\nDuration=160\r\n", ctype="application/dtmf-relay"), ("2", ""),
        req("UPDATE", 3, "upd4te"), ("2", ""),
        req("MESSAGE", 4, "m3ss", body="hello", ctype="text/plain"), ("2", ""),
        bye(5), ("9", "")]),
    # REFER (RFC 3515): accepted (and kept), the UA NOTIFYs 100 Trying; the
    # peer answers that NOTIFY, the application reports 200 (tick 1, then
    # 0x2b: notify_refer 200), the peer answers that NOTIFY too, BYE
    "refer_notify": ua_input(None, [
        invite(), ("2", ""), ack(), ("2", ""),
        req("REFER", 2, "r3fer", extra=["Refer-To: <sip:carol@127.0.0.1:5080>",
                                         "Referred-By: <sip:peer@127.0.0.1:5070>"]),
        ("2", "\x01\x2b"),
        response(200, "OK"), ("2", ""),
        response(200, "OK"), ("2", ""),
        bye(3), ("9", "")]),
    # CANCEL of a ringing INVITE (on_invite: 180 and keep): 487, ACK
    "cancel_ringing": ua_input("\x00\x03", [
        invite(), ("4", ""),
        msg("CANCEL sip:ua@127.0.0.1:5060 SIP/2.0", via("776asdhds"), "Max-Forwards: 70",
            "From: " + PEER_FROM, "To: " + UA_TO, "Call-ID: " + CALLID, "CSeq: 1 CANCEL",
            "Reason: SIP;cause=487;text=\"fuzz\"", "Content-Length: 0"),
        ("2", ""),
        msg("ACK sip:ua@127.0.0.1:5060 SIP/2.0", via("776asdhds"), "Max-Forwards: 70",
            "From: " + PEER_FROM, "To: " + UA_TO + ";tag=$T", "Call-ID: " + CALLID,
            "CSeq: 1 ACK", "Content-Length: 0"),
        ("9", "")]),
    # RFC 3262: 183 reliable with an answer, PRACK, then the kept INVITE is
    # accepted (tick 1, 0), ACK, BYE
    "prack_100rel": ua_input("\x01\x02", [
        invite(extra=["Require: 100rel"]), ("3", ""),
        req("PRACK", 2, "pr4ck", extra=["RAck: $K 1 INVITE"]), ("3", "\x01\x00"),
        ack(), ("2", ""), bye(3), ("9", "")]),
    # The peer's OPTIONS is answered (tape 0), then the UA calls the peer
    # (tick 3): 180, 200 with an answer; the UA ACKs; the peer hangs up
    "uac_call_peer_bye": ua_input("\x00\x00\x03", [
        "OPTIONS sip:ua@127.0.0.1:5060 SIP/2.0\r\n" + via("0pt") + "\r\nMax-Forwards: 70\r\n"
        "From: " + PEER_FROM + "\r\nTo: " + UA_TO + "\r\nCall-ID: opt1@127.0.0.1\r\n"
        "CSeq: 1 OPTIONS\r\nAccept: application/sdp\r\nContent-Length: 0\r\n\r\n",
        ("2", ""),
        response(180, "Ringing"), ("2", ""),
        response(200, "OK", body=sdp(1, 49172)), ("2", ""),
        msg("BYE sip:ua@127.0.0.1:5060 SIP/2.0", via("byeuac"), "Max-Forwards: 70",
            "From: <sip:peer@127.0.0.1:5070>;tag=pe3r", "To: <sip:ua@127.0.0.1:5060>;tag=$F",
            "Call-ID: $I", "CSeq: 1 BYE", "Content-Length: 0"),
        ("9", "")]),
    # The UA calls (tick 3 after a keep-alive datagram) with forks accepted:
    # two early dialogs (183 with an answer, 180), a 2xx from each
    "uac_forked": ua_input("\x10\x03", [
        "\r\n\r\n", ("2", ""),
        response(183, "Session Progress", to_tag="f1", body=sdp(1, 49172)), ("2", ""),
        response(180, "Ringing", to_tag="f2"), ("2", ""),
        response(200, "OK", to_tag="f1", body=sdp(1, 49172)), ("2", ""),
        response(200, "OK", to_tag="f2", body=sdp(1, 49174)), ("d", ""),
        response(200, "OK", to_tag="f2", body=sdp(1, 49174)), ("9", "")]),
    # The UA calls (no offer: tick 0x0b) and is rejected: 100, 486; it ACKs
    "uac_rejected": ua_input("\x00\x0b", [
        "\r\n\r\n", ("2", ""),
        response(100, "Trying", to_tag=""), ("2", ""),
        response(486, "Busy Here", extra=["Retry-After: 60"]), ("9", "")]),
    # Glare: the UA re-INVITEs from its ACK callback (0x0f: op 1) while the
    # peer's re-INVITE arrives: 491 each way, the UA retries later
    "reinvite_glare": ua_input(None, [
        invite(), ("2", "\x0f"), ack(), ("2", ""),
        req("INVITE", 2, "gl4re", body=sdp(2, 49170)), ("2", ""),
        response(491, "Request Pending"), ("2", ""),
        req("ACK", 2, "gl4re"), ("9", ""),
        bye(3), ("9", "")]),
    # RFC 3891: a second call replaces the first one (the UA BYEs it; the
    # peer answers that BYE), then ACK and BYE of the new call
    "invite_replaces": ua_input(None, [
        invite(), ("2", ""), ack(), ("2", ""),
        req("INVITE", 1, "r3pl", to_tag=False, callid="second@127.0.0.1",
            extra=["Replaces: " + CALLID + ";to-tag=$T;from-tag=pe3r", "Supported: replaces"],
            body=sdp(1, 49180)), ("2", ""),
        response(200, "OK"), ("2", ""),
        req("ACK", 1, "ackr3pl", callid="second@127.0.0.1"), ("2", ""),
        req("BYE", 2, "byer3pl", callid="second@127.0.0.1"), ("9", "")]),
    # The UA calls (100rel supported, tick 3); a reliable 183 with the
    # answer is PRACKed by the library; the peer answers the PRACK, then
    # the INVITE; the UA ACKs and hangs up (on_accept 0, then tick 2:
    # session 0, op 0 = BYE); the peer answers the BYE
    "uac_100rel_prack": ua_input("\x01\x03", [
        "\r\n\r\n", ("2", ""),
        response(183, "Session Progress", body=sdp(1, 49172),
                 extra=["Require: 100rel", "RSeq: 8014"]), ("2", ""),
        response(200, "OK"), ("2", "\x00\x02\x00\x00"),
        response_invite(200, "OK"), ("2", ""),
        response(200, "OK"), ("9", "")]),
    # Log and trace sinks on, fast timers, small limits (2 sessions): three
    # calls at once, the third one refused (503); none is ACKed, so the
    # 2xx retransmissions run out
    "limits_logged_no_ack": ua_input("\xe0", [
        invite(), ("2", ""),
        invite(branch="c2b", body=sdp(1, 49172)).replace(CALLID, "call2@127.0.0.1"),
        ("2", ""),
        invite(branch="c3b", body=sdp(1, 49174)).replace(CALLID, "call3@127.0.0.1"),
        ("e", "")]),
    # A retransmitted INVITE kept unanswered, INFO without To tag (481),
    # BYE of an unknown dialog (481), a stray ACK; then the kept INVITE is
    # accepted (tick 1, 0) and ACKed; the clock runs 64 s
    "strays_481": ua_input("\x00\x04", [
        invite(), ("0", ""), invite(), ("3", ""),
        req("INFO", 2, "n0dlg", to_tag=False, extra=["Info-Package: dtmf"]), ("2", ""),
        req("BYE", 5, "unkn0wn", callid="nosuchcall@127.0.0.1").replace(";tag=$T", ";tag=n0ne"),
        ("2", "\x01\x00"),
        req("ACK", 1, "str4y", callid="nosuchcall@127.0.0.1").replace(";tag=$T", ";tag=n0ne"),
        ("2", ""), ack(), ("e", "")]),
}

# Allocation failures ("%%!" N: the N+1th allocation from there fails) in a
# basic call and in a REFER, at a few points.
for n in (0, 3, 12, 40, 90):
    UA_SEEDS["alloc_fail_call_%d" % n] = ua_input(None, [
        "\r\n\r\n", ("!", chr(n)), invite(), ("2", ""), ack(), ("2", ""), bye(), ("9", "")])
for n in (5, 30):
    UA_SEEDS["alloc_fail_refer_%d" % n] = ua_input(None, [
        invite(), ("2", ""), ack(), ("!", chr(n)),
        req("REFER", 2, "r3fer", extra=["Refer-To: <sip:carol@127.0.0.1:5080>"]),
        ("2", "\x01\x2b"), response(200, "OK"), ("2", ""), bye(3), ("9", "")])

# ------------------------------------------------------------ digest ----
# byte 0: bits 0-2 header name (0 Authorization, 1 Proxy-Authorization,
# 2 WWW-Authenticate, 3 Proxy-Authenticate, 4 Authentication-Info, 7 one
# per line in turn), bit 3 a 401 response, bit 5 raw header lines.

DIGEST_SEEDS = {
    # RFC 3261 §25 / RFC 2617 §3.5
    "authorization_rfc2617": b"\x00" + b'Digest username="Mufasa", realm="testrealm@host.com", '
    b'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, '
    b'nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", '
    b'opaque="5ccc069c403ebaf9f0171e9517f40e41"',
    # RFC 3665 §2.1 REGISTER challenge and credentials
    "www_authenticate_401": b"\x0a" + b'Digest realm="atlanta.example.com", qop="auth", '
    b'nonce="ea9c8e88df84f1cec4341ae6cbe5a359", opaque="", stale=FALSE, algorithm=MD5',
    "proxy_authorization": b"\x01" + b'Digest username="alice", realm="atlanta.example.com", '
    b'nonce="wf84f1ceczx41ae6cbe5aea9c8e88d359", opaque="", uri="sip:bob@biloxi.example.com", '
    b'response="42ce3cef44b22f50c6a6071bc8"',
    # RFC 7616 §3.9.1 SHA-256, folded over two lines
    "proxy_authenticate_sha256": b"\x0b" + b'Digest realm="http-auth@example.org", '
    b'qop="auth, auth-int", algorithm=SHA-256,\r\n nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",'
    b'\r\n\topaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
    "authentication_info": b"\x04" + b'nextnonce="47364c23432d2e131a5fb210812c", qop=auth, '
    b'rspauth="6629fae49393a05397450978507c4ef1", cnonce="0a4f113b", nc=00000001',
    # several headers of each kind, raw lines, a Basic credential, an escaped quote
    "raw_lines_mixed": b"\x20" + b'Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\n'
    b'Proxy-Authorization: Digest username="bob\\"s", realm="biloxi.com", nonce="a,b=c", '
    b'uri="sip:bob@biloxi.com", response="00"\n'
    b'WWW-Authenticate: Digest realm="x", domain="sip:a sip:b", nonce="n"\n'
    b'Authentication-Info: rspauth="", nc=00000002\n',
    "rotating_names": b"\x07" + b'Digest realm="a", nonce="1"\nDigest realm="b", NONCE="2", '
    b'Realm="dup"\nDigest username="u", uri="sip:x", response="r"\nDigest algorithm=MD5-sess\n'
    b'nextnonce="n2"\n',
}

# ------------------------------------------------------------ framer ----
# byte 0: bits 0-2 k-1 chunk-size bytes, bits 3-4 scale, bits 5-6 limits,
# bit 7 lazy reader; then the k sizes, then the stream.


def clen(m):
    """Fill Content-Length: $L with the real body length."""
    head, _, body = m.partition(CRLF + CRLF)
    return (head.replace("$L", str(len(body.encode("latin-1")))) + CRLF + CRLF + body)


def concrete(m):
    return clen(m.replace("$T", "a6c85cf").replace("$K", "1"))


STREAM = (concrete(invite()) + CRLF + CRLF + concrete(ack()) + CRLF +
          concrete(bye())).encode("latin-1")

FRAMER_SEEDS = {
    # three pipelined messages (keep-alive CRLFCRLF and CRLF between) fed
    # in chunks of 1, 7, 64 and 3 bytes
    "pipelined_small_chunks": bytes([0x03, 0, 6, 63, 2]) + STREAM,
    # the same in 8*(n+1)-byte chunks, lazy reader, tight limits
    "pipelined_lazy_tight": bytes([0x80 | 0x20 | 0x08 | 0x01, 40, 3]) + STREAM,
    # a message cut before its body ends, then a bad Content-Length
    "truncated_then_bad_clen": bytes([0x00, 12]) + concrete(invite()).encode("latin-1")[:-20]
    + b"INFO sip:a SIP/2.0\r\nContent-Length: 1x\r\n\r\n",
    # a header section larger than the tiny (200 byte) limit
    "over_tiny_limit": bytes([0x40 | 0x08, 2]) + concrete(invite()).encode("latin-1"),
    # folded Content-Length and compact form, pings between
    "folded_clen_pings": bytes([0x02, 9, 1, 30])
    + b"\r\n\r\nOPTIONS sip:ua@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKf\r\n"
    b"From: <sip:p@127.0.0.1>;tag=1\r\nTo: <sip:ua@127.0.0.1>\r\nCall-ID: f@x\r\nCSeq: 1 OPTIONS\r\n"
    b"Max-Forwards: 70\r\nContent-Length:\r\n 5\r\n\r\nhello\r\n\r\nMESSAGE sip:ua@127.0.0.1 SIP/2.0\r\n"
    b"v: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKg\r\nf: <sip:p@127.0.0.1>;tag=1\r\n"
    b"t: <sip:ua@127.0.0.1>\r\ni: g@x\r\nCSeq: 2 MESSAGE\r\nMax-Forwards: 70\r\nc: text/plain\r\n"
    b"l: 2\r\n\r\nhi",
}


def main():
    top = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    for target, seeds in (("ua", UA_SEEDS), ("digest", DIGEST_SEEDS),
                          ("framer", FRAMER_SEEDS)):
        d = os.path.join(top, "corpus", target)
        os.makedirs(d, exist_ok=True)
        for name, data in sorted(seeds.items()):
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
        print("%s: %d seeds in %s" % (target, len(seeds), d))


if __name__ == "__main__":
    main()
