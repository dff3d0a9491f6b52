"""Exceptions in callbacks: reported through sys.unraisablehook (the
request gets 500 when unanswered, the session and the loop go on), or with
raise_errors=True raised from the loop call that ran the callback."""

import asyncio

import pytest

import sipsess
from conftest import (SDP, SDP_ANSWER, SDP_OFFER, Answerer, Recorder, drive, pump, pump_until,
                      sdp, target)

S = sipsess.SessionState
T = sipsess.TermCause


class Boom(Exception):
    pass


def first_time_raises(answer=None):
    """A request callback raising Boom the first time; answering (or
    leaving the default) after that."""
    calls = []

    def cb(session, request):
        calls.append(request.method_name)
        if len(calls) == 1:
            raise Boom(f"boom in {request.method_name}")
        if answer is not None:
            answer(session, request)
    cb.calls = calls
    return cb


REQUEST_CALLBACKS = [
    ("on_info", lambda s: s.info(b"x", "text/plain"), 200),
    ("on_message", lambda s: s.message("x"), 200),
    ("on_update", lambda s: s.update(), 200),
    ("on_refer", lambda s: s.refer("sip:carol@127.0.0.1:9"), 603),
    ("on_invite", lambda s: s.invite(sdp("sendonly"), SDP), 488),
    ("on_request", lambda s: s.request("FOO"), 501),
]


@pytest.mark.parametrize("name,send,after", REQUEST_CALLBACKS,
                         ids=[c[0] for c in REQUEST_CALLBACKS])
def test_request_callback_exception(call_pair, unraisable, name, send, after):
    cb = first_time_raises()
    a, b, s, bs, cd, bd, ans = call_pair(callee_handlers={name: cb})
    out = send(s)
    pump(a, b)
    assert out.result().status == 500
    assert len(unraisable) == 1
    typ, msg, where = unraisable[0]
    assert typ is Boom and msg.startswith("boom in")
    # the session and the loop go on: the same request now gets its
    # normal answer (the callback returns without answering: default)
    assert s.state == S.CONFIRMED and bs.state == S.CONFIRMED
    out = send(s)
    pump(a, b)
    assert out.result().status == after and len(cb.calls) == 2
    info = s.info(b"y", "text/plain")
    pump(a, b)
    assert info.result().status in (200, 469)
    assert len(unraisable) == 1


def test_ua_on_invite_exception_rejects_500_and_next_call_works(memnet_pair, unraisable):
    n = []

    def answer(session, request):
        n.append(1)
        if len(n) == 1:
            raise Boom("no")
        request.accept(SDP_ANSWER, SDP)

    a, b = memnet_pair(Answerer(answer=answer))
    s1 = a.invite(target(b), SDP_OFFER, SDP)
    pump(a, b)
    assert s1.invitation.result().status == 500 and s1.term_cause == T.REJECTED
    assert [u[0] for u in unraisable] == [Boom]
    s2 = a.invite(target(b), SDP_OFFER, SDP)
    pump(a, b)
    assert s2.state == S.CONFIRMED


def test_ua_on_request_exception_gets_500(unraisable):
    from test_out_of_dialog import raw_request

    class D(sipsess.UADelegate):
        def on_request(self, request):
            raise Boom("ood")

    with sipsess.UA("udp:127.0.0.1:0", delegate=D()) as ua:
        assert raw_request(ua, "MESSAGE", b"x", "text/plain")[0] == 500
        assert raw_request(ua, "OPTIONS")[0] == 500
    assert [u[0] for u in unraisable] == [Boom, Boom]


def test_on_state_change_exception(memnet_pair, unraisable):
    class D(Recorder):
        def on_state_change(self, session, state):
            super().on_state_change(session, state)
            raise Boom(f"state {state}")

    ans = Answerer(D)
    a, b = memnet_pair(ans)
    cd = D()
    s = a.invite(target(b), SDP_OFFER, SDP, delegate=cd)
    pump(a, b)
    assert s.state == S.CONFIRMED and ans.sessions[0].state == S.CONFIRMED
    assert cd.states == [S.CONFIRMED] and ans.delegates[0].states == [S.ACK_WAIT, S.CONFIRMED]
    assert [u[0] for u in unraisable] == [Boom] * 3
    out = s.info(b"x", "text/plain")
    pump(a, b)
    assert out.result().status == 469
    s.bye()
    pump(a, b)
    assert cd.cause == T.LOCAL_BYE and ans.delegates[0].cause == T.REMOTE_BYE
    assert len(unraisable) == 5  # the two Terminated changes too


def test_on_terminated_exception(memnet_pair, unraisable):
    class D(Recorder):
        def on_terminated(self, session, cause):
            super().on_terminated(session, cause)
            raise Boom("terminated")

    ans = Answerer(D)
    a, b = memnet_pair(ans)
    for i in range(2):  # the loop goes on: a second call works the same
        s = a.invite(target(b), SDP_OFFER, SDP, delegate=D())
        pump(a, b)
        assert s.state == S.CONFIRMED
        s.bye()
        pump(a, b)
        assert ans.delegates[i].cause == T.REMOTE_BYE and ans.sessions[i].state == S.TERMINATED
        assert len(unraisable) == 2 * (i + 1)
    assert {u[0] for u in unraisable} == {Boom}


@pytest.mark.parametrize("form", ["function", "object"])
def test_response_handler_exception(call_pair, memnet_pair, unraisable, form):
    def fn(session, resp):
        raise Boom(f"handler {resp.status}")

    class Obj:
        def on_accept(self, session, resp):
            raise Boom("accept")

    handler = fn if form == "function" else Obj()
    a, b = memnet_pair()
    s = a.invite(target(b), SDP_OFFER, SDP, handler=handler)
    pump(a, b)
    # the 2xx was ACKed all the same and the Outgoing completed
    assert s.state == S.CONFIRMED and s.invitation.result().status == 200
    assert [u[0] for u in unraisable] == [Boom]
    out = s.info(b"x", "text/plain", handler=handler)
    pump(a, b)
    assert out.result().status == 469
    assert len(unraisable) == (2 if form == "function" else 1)
    out = s.info(b"x", "text/plain")
    pump(a, b)
    assert out.done


@pytest.mark.parametrize("hook", ["log", "trace"])
def test_log_and_trace_hook_exceptions(unraisable, hook):
    calls = []

    def bad(*args):
        calls.append(args)
        raise Boom(hook)

    net = sipsess.Memnet()
    opts = {"log": bad, "log_level": sipsess.LogLevel.DEBUG} if hook == "log" else {"trace": bad}
    ans = Answerer()
    with sipsess.UA("mem:0", memnet=net, virtual_clock=True, **opts) as a, \
            sipsess.UA("mem:0", memnet=net, virtual_clock=True, delegate=ans) as b:
        s = a.invite(target(b), SDP_OFFER, SDP)
        pump(a, b)
        assert s.state == S.CONFIRMED
        out = s.info(b"x", "text/plain")
        pump(a, b)
        assert out.result().status == 469
        s.bye()
        pump(a, b)
        assert ans.delegates[0].cause == T.REMOTE_BYE
    assert calls, "the hook was never called"
    if hook == "trace":
        # INVITE, 200, ACK, INFO, 469, BYE, 200: every message still traced
        assert len(calls) == 7
        assert calls[0][0] == 1 and calls[0][1] == "MEM" and calls[0][4].startswith(b"INVITE ")
    else:
        assert all(isinstance(c[0], int) and isinstance(c[1], str) for c in calls)
    assert len(unraisable) == len(calls) and {u[0] for u in unraisable} == {Boom}


def test_memnet_filter_exception_and_loss(unraisable):
    """A filter that raises is reported and the datagram is delivered; a
    filter returning True drops it (the request is retransmitted)."""
    net = sipsess.Memnet()
    seen = []
    mode = {"raise": True, "drop_info": 0}

    def filt(frm, to, data):
        seen.append((frm, to, data[:10]))
        if mode["raise"]:
            raise Boom("filter")
        if data.startswith(b"INFO ") and mode["drop_info"] > 0:
            mode["drop_info"] -= 1
            return True
        return False

    net.set_filter(filt)
    ans = Answerer(lambda: Recorder(on_info=lambda s, r: r.accept()))
    with sipsess.UA("mem:0", memnet=net, virtual_clock=True) as a, \
            sipsess.UA("mem:0", memnet=net, virtual_clock=True, delegate=ans) as b:
        s = a.invite(target(b), SDP_OFFER, SDP)
        pump(a, b)
        assert s.state == S.CONFIRMED
        assert len(unraisable) == len(seen) == 3  # INVITE, 200, ACK
        assert seen[0][0] == f"mem:{a.port()}" and seen[0][1] == f"mem:{b.port()}"
        mode["raise"] = False
        mode["drop_info"] = 2
        out = s.info(b"x", "text/plain")
        pump(a, b, n=10)
        assert not out.done  # the first two INFOs were lost
        pump_until(lambda: out.done, a, b)
        assert out.result().status == 200 and ans.delegates[0].names() == ["on_info"]
        assert len(unraisable) == 3
        net.set_filter(None)


# --------------------------------------------------------------------------
# raise_errors

def test_raise_errors_from_advance(call_pair):
    cb = first_time_raises(lambda s, r: r.accept())
    a, b, s, bs, cd, bd, ans = call_pair(callee_handlers={"on_info": cb},
                                         callee_opts={"raise_errors": True})
    assert b.raise_errors == 1
    out = s.info(b"x", "text/plain")
    a.advance(10)
    with pytest.raises(Boom, match="boom in INFO"):
        b.advance(10)
    pump(a, b)
    assert out.result().status == 500  # answered by the library all the same
    out = s.info(b"y", "text/plain")  # the loop goes on after the raise
    pump(a, b)
    assert out.result().status == 200


def test_raise_errors_from_step(loopback_pair):
    cb = first_time_raises(lambda s, r: r.accept())
    ans = Answerer(lambda: Recorder(on_info=cb))
    a, b = loopback_pair(callee_delegate=ans, callee_opts={"raise_errors": True})
    s = a.invite(target(b), SDP_OFFER, SDP)
    drive(a, b, until=lambda: s.state == S.CONFIRMED and ans.sessions
          and ans.sessions[0].state == S.CONFIRMED)
    out = s.info(b"x", "text/plain")
    with pytest.raises(Boom):
        drive(a, b, until=lambda: False, timeout=5)
    drive(a, b, until=lambda: out.done)
    assert out.result().status == 500
    out = s.info(b"y", "text/plain")
    drive(a, b, until=lambda: out.done)
    assert out.result().status == 200


def test_raise_errors_hooks_and_state_change(unraisable):
    """raise_errors covers every kind of callback, not only requests: a
    raising trace hook is raised from advance()."""
    net = sipsess.Memnet()
    n = []

    def trace(*args):
        n.append(args)
        if len(n) == 2:
            raise Boom("trace")

    with sipsess.UA("mem:0", memnet=net, virtual_clock=True, trace=trace,
                    raise_errors=True) as a, \
            sipsess.UA("mem:0", memnet=net, virtual_clock=True, delegate=Answerer()) as b:
        s = a.invite(target(b), SDP_OFFER, SDP)
        b.advance(10)
        with pytest.raises(Boom):
            a.advance(10)
        pump(a, b)
        assert s.state == S.CONFIRMED
    assert unraisable == []


def test_raise_errors_from_serve():
    class D(sipsess.UADelegate):
        def on_invite(self, session, request):
            raise Boom("sync under asyncio")

    async def main():
        with sipsess.UA("udp:127.0.0.1:0") as a, \
                sipsess.UA("udp:127.0.0.1:0", delegate=D(), raise_errors=True) as b:
            ta = asyncio.create_task(a.serve())
            tb = asyncio.create_task(b.serve())
            out = a.call(target(b), SDP_OFFER, SDP)
            with pytest.raises(Boom):
                await tb
            assert (await out).status == 500
            a.stop()
            await ta

    asyncio.run(asyncio.wait_for(main(), 10))


def test_raise_errors_run_returns(loopback_pair, alarm):
    """run() returns with the exception (it does not keep running)."""
    class D(sipsess.UADelegate):
        def on_invite(self, session, request):
            raise Boom("run")

    a, b = loopback_pair(callee_delegate=D(), callee_opts={"raise_errors": True})
    a.invite(target(b), SDP_OFFER, SDP)
    alarm(5)  # a run() that never returned fails with TimeoutError
    with pytest.raises(Boom):
        b.run()
