"""Fixtures and helpers of the Python binding's suite.

Run with `make test-python` (PYTHONPATH=build/python, SIPSESS_UA=the C
reference UA). Two kinds of UA pairs:

  * memnet_pair(): two UAs on one in-memory network with virtual clocks,
    driven with pump(caller, callee) (deterministic, no sockets, no sleep);
  * loopback_pair(transport, host): two UAs on real sockets, driven with
    drive(ua, ..., until=cond) which steps each UA in turn.

spawn_ua(...) starts the C tool sipsess-ua as a subprocess (ports chosen by
the tool from port 0 and read back from --print-ports), always killed at
teardown.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import sipsess

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BUILD = Path(os.environ.get("SIPSESS_BUILD") or ROOT / "build")
UA_BIN = os.environ.get("SIPSESS_UA") or str(BUILD / "bin" / "sipsess-ua")

SDP_OFFER = (b"v=0\r\n"
             b"o=alice 1 1 IN IP4 127.0.0.1\r\n"
             b"s=-\r\n"
             b"c=IN IP4 127.0.0.1\r\n"
             b"t=0 0\r\n"
             b"m=audio 49170 RTP/AVP 0\r\n"
             b"a=rtpmap:0 PCMU/8000\r\n")
SDP_ANSWER = (b"v=0\r\n"
              b"o=bob 2 2 IN IP4 127.0.0.1\r\n"
              b"s=-\r\n"
              b"c=IN IP4 127.0.0.1\r\n"
              b"t=0 0\r\n"
              b"m=audio 49180 RTP/AVP 0\r\n"
              b"a=rtpmap:0 PCMU/8000\r\n")
SDP = "application/sdp"


def sdp(direction: str = "sendrecv", version: int = 2, who: bytes = b"alice") -> bytes:
    """An SDP body with a direction attribute (hold = sendonly)."""
    return (b"v=0\r\no=" + who + b" 1 " + str(version).encode() + b" IN IP4 127.0.0.1\r\n"
            b"s=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\n"
            b"a=" + direction.encode() + b"\r\n")


# --------------------------------------------------------------------------
# driving the loop

def pump(*uas, ms: float = 10, n: int = 20) -> None:
    """Virtual clock: advance every UA by `ms`, `n` times."""
    for _ in range(n):
        for ua in uas:
            ua.advance(ms)


def pump_until(cond, *uas, ms: float = 10, limit_ms: float = 70000) -> None:
    """Virtual clock: advance until cond() holds (fails after limit_ms of
    virtual time)."""
    spent = 0.0
    while not cond():
        if spent >= limit_ms:
            raise AssertionError(f"condition not reached after {limit_ms} virtual ms")
        for ua in uas:
            ua.advance(ms)
        spent += ms


def drive(*uas, until=None, timeout: float = 5.0, step_ms: int = 2) -> None:
    """Real sockets: step every UA in turn until until() holds (or, with no
    condition, for `timeout` seconds). Fails on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        if until is not None and until():
            return
        if time.monotonic() >= deadline:
            if until is None:
                return
            raise AssertionError(f"condition not reached within {timeout} s")
        for ua in uas:
            ua.step(step_ms)


# --------------------------------------------------------------------------
# delegates that record what they see

class Recorder(sipsess.Delegate):
    """A session delegate recording (callback, ...) tuples in .events.
    Handles only what the test asks for: pass handlers={name: fn} with fn
    (session, request_or_value); without one, on_state_change and
    on_terminated are recorded and request callbacks are not installed."""

    def __init__(self, **handlers):
        self.events = []
        self.states = []
        self.cause = None
        for name, fn in handlers.items():
            setattr(self, name, self._wrap(name, fn))

    def _wrap(self, name, fn):
        def cb(session, arg):
            self.events.append((name, arg))
            return fn(session, arg)
        return cb

    def on_state_change(self, session, state):
        self.states.append(sipsess.SessionState(state))

    def on_terminated(self, session, cause):
        self.cause = sipsess.TermCause(cause)

    def names(self):
        return [e[0] for e in self.events]


class Answerer(sipsess.UADelegate):
    """UA delegate accepting every call with SDP_ANSWER (or what `answer`
    does), installing delegate_factory() on each new session."""

    def __init__(self, delegate_factory=Recorder, answer=None):
        self.delegate_factory = delegate_factory
        self.answer = answer
        self.sessions = []
        self.delegates = []
        self.requests = []

    def on_invite(self, session, request):
        d = self.delegate_factory()
        session.set_delegate(d)
        self.sessions.append(session)
        self.delegates.append(d)
        if self.answer is not None:
            return self.answer(session, request)
        request.accept(SDP_ANSWER, SDP)


def target(ua, user: str = "bob", host: str = "127.0.0.1", transport: str = "") -> str:
    h = f"[{host}]" if ":" in host else host
    params = ";transport=tcp" if transport == "tcp" else ""
    return f"sip:{user}@{h}:{ua.port()}{params}"


# --------------------------------------------------------------------------
# fixtures

@pytest.fixture
def memnet_pair():
    """make(caller_opts..., callee=dict(...)) -> (caller, callee): two UAs
    on one Memnet with virtual clocks; every UA is closed at teardown."""
    made = []

    def make(callee_delegate=None, caller_opts=None, callee_opts=None, net=None):
        net = net or sipsess.Memnet()
        a = sipsess.UA("mem:0", memnet=net, virtual_clock=True, **(caller_opts or {}))
        made.append(a)
        b = sipsess.UA("mem:0", memnet=net, virtual_clock=True,
                       delegate=callee_delegate if callee_delegate is not None else Answerer(),
                       **(callee_opts or {}))
        made.append(b)
        return a, b

    yield make
    for ua in made:
        ua.close()


@pytest.fixture
def call_pair(memnet_pair):
    """A confirmed call over memnet: (caller, callee, caller_session,
    callee_session, caller_delegate, callee_delegate, answerer).
    Delegates are Recorders with the handlers given to make(...)."""

    def make(caller_handlers=None, callee_handlers=None, caller_opts=None, callee_opts=None):
        ans = Answerer(lambda: Recorder(**(callee_handlers or {})))
        a, b = memnet_pair(ans, caller_opts, callee_opts)
        cd = Recorder(**(caller_handlers or {}))
        s = a.invite(target(b), SDP_OFFER, SDP, delegate=cd)
        pump_until(lambda: s.state == sipsess.SessionState.CONFIRMED and ans.sessions
                   and ans.sessions[0].state == sipsess.SessionState.CONFIRMED, a, b)
        return a, b, s, ans.sessions[0], cd, ans.delegates[0], ans

    return make


@pytest.fixture
def loopback_pair():
    """make(transport="udp", host="127.0.0.1", callee_delegate=None,
    **opts) -> (caller, callee) on real sockets, port 0; closed at
    teardown."""
    made = []

    def make(transport="udp", host="127.0.0.1", callee_delegate=None, caller_opts=None,
             callee_opts=None):
        h = f"[{host}]" if ":" in host else host
        a = sipsess.UA(f"{transport}:{h}:0", **(caller_opts or {}))
        made.append(a)
        b = sipsess.UA(f"{transport}:{h}:0",
                       delegate=callee_delegate if callee_delegate is not None else Answerer(),
                       **(callee_opts or {}))
        made.append(b)
        return a, b

    yield make
    for ua in made:
        ua.close()


@pytest.fixture
def unraisable(request, monkeypatch):
    """The exceptions reported through sys.unraisablehook, as a list of
    (exc_type, message, object) while the test runs (the message, not the
    exception: its traceback would keep the callback's locals alive).

    pytest's own unraisableexception plugin replaces sys.unraisablehook
    around the test's call phase; pytest_runtest_call below puts this
    fixture's hook back (with monkeypatch) inside that phase."""
    seen = []

    def hook(u):
        seen.append((u.exc_type, str(u.exc_value), u.object))

    monkeypatch.setattr(sys, "unraisablehook", hook)
    request.node._sipsess_unraisable = (monkeypatch, hook)
    return seen


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    # Runs inside the unraisableexception plugin's wrapper (tryfirst).
    patch = getattr(item, "_sipsess_unraisable", None)
    if patch is not None:
        monkeypatch, hook = patch
        monkeypatch.setattr(sys, "unraisablehook", hook)
    yield


@pytest.fixture
def alarm():
    """alarm(seconds): bound a blocking loop call (run(), step(-1)); when
    the time is up the loop call raises TimeoutError (the binding checks
    for signals after each step)."""
    def on_alarm(signum, frame):
        raise TimeoutError("alarm: a loop call did not return in time")

    old = signal.signal(signal.SIGALRM, on_alarm)
    yield lambda seconds: signal.alarm(seconds)
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


# --------------------------------------------------------------------------
# the C reference UA as a subprocess

class CUA:
    """A running sipsess-ua: .ports {"udp4": n, "tcp4": n, "udp6": ...},
    .lines (stdout lines so far), wait(timeout) -> exit status."""

    LISTEN_RE = re.compile(r"^listening (udp|tcp):(\[::1\]|[0-9.]+):(\d+)$")

    def __init__(self, args, want_listeners):
        self.args = [UA_BIN, "--print-ports", "--log-level", "warn"] + list(args)
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, bufsize=1)
        self.lines = []
        self.err = []
        self._q = queue.Queue()
        self._readers = [
            threading.Thread(target=self._read, args=(self.proc.stdout, self.lines, True),
                             daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stderr, self.err, False),
                             daemon=True),
        ]
        for t in self._readers:
            t.start()
        self.ports = {}
        deadline = time.monotonic() + 5
        while len(self.ports) < want_listeners:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None and self._q.empty():
                self.kill()
                raise AssertionError(f"sipsess-ua did not start: {self.err} {self.lines}")
            try:
                line = self._q.get(timeout=min(left, 0.2))
            except queue.Empty:
                continue
            m = self.LISTEN_RE.match(line)
            if m:
                fam = "6" if m.group(2).startswith("[") else "4"
                self.ports[m.group(1) + fam] = int(m.group(3))

    def _read(self, stream, into, announce):
        for line in stream:
            line = line.rstrip("\n")
            into.append(line)
            if announce:
                self._q.put(line)

    def poll(self):
        return self.proc.poll()

    def wait(self, timeout):
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"sipsess-ua still running after {timeout} s: "
                                 f"{self.lines[-5:]} {self.err[-5:]}")
        for t in self._readers:
            t.join(timeout=2)
        return rc

    def summary(self):
        for line in self.lines:
            if line.startswith("calls attempted"):
                return line
        return None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass


@pytest.fixture
def spawn_ua():
    """spawn_ua(*args, listeners=1) -> CUA; every process is killed at
    teardown whatever happened."""
    if not os.access(UA_BIN, os.X_OK):
        pytest.fail(f"{UA_BIN} is not built (make tools)")
    procs = []

    def spawn(*args, listeners=1):
        p = CUA(args, listeners)
        procs.append(p)
        return p

    yield spawn
    for p in procs:
        p.kill()


def sipp_path():
    return shutil.which("sipp")
