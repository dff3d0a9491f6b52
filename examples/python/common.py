"""Helpers shared by the Python examples (uas.py, hold.py, transfer.py):
SDP bodies, names for log lines, one-shot timers and a bounded loop.
They are part of the examples, not of the sipsess package; examples/c/
common.[ch] and examples/lua/common.lua are the same helpers.

The library never reads SDP, so the examples do, just enough for hold:
one audio stream whose a= direction attribute is all that changes.
"""

import heapq

import sipsess

SDP_TYPE = "application/sdp"
DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
_MIRROR = {"sendonly": "recvonly", "recvonly": "sendonly", "inactive": "inactive"}


def sdp(version, direction="sendrecv", port=4000):
    """One PCMU audio stream on loopback with an a=<direction> line."""
    return ("v=0\r\n"
            f"o=- 4242 {version} IN IP4 127.0.0.1\r\n"
            "s=-\r\n"
            "c=IN IP4 127.0.0.1\r\n"
            "t=0 0\r\n"
            f"m=audio {port} RTP/AVP 0\r\n"
            "a=rtpmap:0 PCMU/8000\r\n"
            f"a={direction}\r\n")


def direction(body):
    """The direction an SDP body asks for ("none" without a body)."""
    if not body:
        return "none"
    if isinstance(body, (bytes, bytearray)):
        body = bytes(body).decode("utf-8", "replace")
    for line in body.splitlines():
        if line.startswith("a=") and line[2:].strip() in DIRECTIONS:
            return line[2:].strip()
    return "sendrecv"


def mirror(d):
    """RFC 3264 §6.1: the answer's direction for an offer's."""
    return _MIRROR.get(d, "sendrecv")


def refer_target(value):
    """'<sip:carol@host;transport=udp?Replaces=...>;p=1' -> 'sip:carol@host;transport=udp'."""
    v = value.strip()
    if "<" in v:
        v = v[v.index("<") + 1:]
        v = v.split(">", 1)[0]
    else:
        v = v.split(";", 1)[0]
    return v.split("?", 1)[0]


def camel(name):
    """'REMOTE_BYE' -> 'RemoteBye' (the names the C and Lua examples print)."""
    return "".join(w.capitalize() for w in name.split("_"))


def state_name(state):
    return camel(sipsess.SessionState(state).name)


def cause_name(cause):
    return camel(sipsess.TermCause(cause).name)


def status_text(resp):
    """'200 OK' for a response, 'no response' for a timeout (None)."""
    return f"{resp.status} {resp.reason}" if resp is not None else "no response"


def first_line(body):
    if isinstance(body, (bytes, bytearray)):
        body = bytes(body).decode("utf-8", "replace")
    return (body or "").splitlines()[0] if body else ""


class Log:
    def __init__(self, prog):
        self.prog = prog

    def __call__(self, text):
        print(f"{self.prog}(py): {text}", flush=True)


class Loop:
    """One-shot timers on the UA's clock, and a loop that steps the UA
    until done() or max_s seconds passed. Timers also serve to act after
    a callback returned (later(0, fn)) rather than inside it."""

    def __init__(self, ua):
        self.ua = ua
        self._timers = []
        self._seq = 0

    def later(self, ms, fn, *args):
        self._seq += 1
        heapq.heappush(self._timers, (self.ua.now + ms, self._seq, fn, args))

    def run(self, done, max_s):
        """True when done() became true, False after max_s seconds."""
        end = self.ua.now + max_s * 1000
        while True:
            while self._timers and self._timers[0][0] <= self.ua.now:
                _, _, fn, args = heapq.heappop(self._timers)
                fn(*args)
            if done():
                return True
            now = self.ua.now
            if now >= end:
                return False
            wait = min(end - now, 50)
            if self._timers:
                wait = min(wait, self._timers[0][0] - now)
            self.ua.step(max(0, int(wait)))
