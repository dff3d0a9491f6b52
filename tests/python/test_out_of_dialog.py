"""UA delegate on_request: requests outside a dialog (OPTIONS, MESSAGE,
unknown methods).

The binding has no way to *send* an out-of-dialog request from Python
(the C API's sipsess_ua_request is not bound; UA has only invite()), so
the requests come from a plain UDP socket (hand-written SIP) and from the
C tool `sipsess-ua --options`."""

import socket
import uuid

import pytest

import sipsess
from conftest import drive


def raw_request(ua, method, body=b"", ctype=None, extra=""):
    """Send one out-of-dialog request over UDP to `ua` (127.0.0.1) from a
    plain socket and return the final response's status line and text,
    stepping `ua` while waiting."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    try:
        lport = sock.getsockname()[1]
        port = ua.port()
        branch = "z9hG4bK" + uuid.uuid4().hex
        lines = [
            f"{method} sip:bob@127.0.0.1:{port} SIP/2.0",
            f"Via: SIP/2.0/UDP 127.0.0.1:{lport};branch={branch}",
            "Max-Forwards: 70",
            f"From: <sip:alice@127.0.0.1:{lport}>;tag={uuid.uuid4().hex[:8]}",
            f"To: <sip:bob@127.0.0.1:{port}>",
            f"Call-ID: {uuid.uuid4().hex}@127.0.0.1",
            f"CSeq: 1 {method}",
            f"Contact: <sip:alice@127.0.0.1:{lport}>",
        ]
        if extra:
            lines.append(extra)
        if ctype:
            lines.append(f"Content-Type: {ctype}")
        lines.append(f"Content-Length: {len(body)}")
        data = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        sock.sendto(data, ("127.0.0.1", port))
        got = []

        def final():
            try:
                while True:
                    pkt = sock.recv(65536).decode("utf-8", "replace")
                    status = int(pkt.split(" ", 2)[1])
                    if status >= 200:
                        got.append(pkt)
            except BlockingIOError:
                pass
            return bool(got)

        drive(ua, until=final, timeout=5)
        first = got[0].split("\r\n", 1)[0]
        return int(first.split(" ", 2)[1]), got[0]
    finally:
        sock.close()


def test_out_of_dialog_defaults_without_delegate():
    with sipsess.UA("udp:127.0.0.1:0") as ua:
        assert raw_request(ua, "OPTIONS")[0] == 200
        assert raw_request(ua, "MESSAGE", b"hi", "text/plain")[0] == 405
        assert raw_request(ua, "FOO")[0] == 501


def test_ua_on_request_options_message_unknown():
    class D(sipsess.UADelegate):
        def __init__(self):
            self.seen = []

        def on_request(self, request):
            self.seen.append((request.method, request.method_name, request.body,
                              request.content_type, request.session()))
            if request.method == sipsess.Method.OPTIONS:
                request.reply(200, headers={"X-Py": "options"})
            elif request.method_name == "FOO":
                request.reject(488, "Not Here")
            # MESSAGE: left unanswered, the library's default (200 with a callback)

    d = D()
    with sipsess.UA("udp:127.0.0.1:0", delegate=d) as ua:
        st, text = raw_request(ua, "OPTIONS")
        assert st == 200 and "X-Py: options" in text
        assert raw_request(ua, "MESSAGE", b"hello", "text/plain")[0] == 200
        st, text = raw_request(ua, "FOO")
        assert st == 488 and "Not Here" in text.split("\r\n", 1)[0]
    M = sipsess.Method
    assert d.seen == [(M.OPTIONS, "OPTIONS", b"", None, None),
                      (M.MESSAGE, "MESSAGE", b"hello", "text/plain", None),
                      (M.OTHER, "FOO", b"", None, None)]


def test_ua_on_request_kept_and_answered_later():
    kept = []

    class D(sipsess.UADelegate):
        def on_request(self, request):
            request.keep()
            kept.append(request)

    with sipsess.UA("udp:127.0.0.1:0", delegate=D()) as ua:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(0)
        lport = sock.getsockname()[1]
        msg = (f"MESSAGE sip:bob@127.0.0.1:{ua.port()} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP 127.0.0.1:{lport};branch=z9hG4bK{uuid.uuid4().hex}\r\n"
               "Max-Forwards: 70\r\n"
               f"From: <sip:a@127.0.0.1:{lport}>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\n"
               f"Call-ID: {uuid.uuid4().hex}\r\nCSeq: 1 MESSAGE\r\n"
               "Content-Length: 0\r\n\r\n").encode()
        sock.sendto(msg, ("127.0.0.1", ua.port()))
        drive(ua, until=lambda: kept, timeout=5)
        drive(ua, timeout=0.05)
        with pytest.raises(BlockingIOError):
            sock.recv(65536)  # nothing final yet (a 100 is not sent for non-INVITE)
        kept[0].reply(299, "Later")
        drive(ua, timeout=0.05)
        assert sock.recv(65536).startswith(b"SIP/2.0 299 Later")
        sock.close()


def test_c_tool_options_against_python_ua(spawn_ua):
    """sipsess-ua --options sends 20 OPTIONS; the Python UA's on_request
    answers each (the C tool counts only 2xx)."""
    count = []

    class D(sipsess.UADelegate):
        def on_request(self, request):
            count.append(request.method)
            request.accept()

    with sipsess.UA("udp:127.0.0.1:0", delegate=D()) as ua:
        p = spawn_ua("--listen", "udp:127.0.0.1:0",
                     "--options", f"sip:bob@127.0.0.1:{ua.port()}", "--count", "20")
        drive(ua, until=lambda: p.poll() is not None, timeout=15)
        assert p.wait(5) == 0, p.err
        assert "options sent 20 ok 20 failed 0" in p.lines
    assert count == [sipsess.Method.OPTIONS] * 20
