"""asyncio mode: UAs on real sockets under `await ua.serve()`, awaitable
outgoing requests, `async def` callbacks that await before answering."""

import asyncio
import socket
import time

import pytest

import sipsess
from conftest import SDP, SDP_ANSWER, SDP_OFFER, target

S = sipsess.SessionState
T = sipsess.TermCause


def run(coro, timeout=10):
    async def bounded():
        return await asyncio.wait_for(coro, timeout)
    return asyncio.run(bounded())


class AsyncCallee(sipsess.Delegate):
    """In-dialog callbacks that await before answering."""

    def __init__(self):
        self.infos = []
        self.cause = None
        self.terminated = None

    async def on_info(self, session, request):
        assert request.valid  # kept by the binding while the task runs
        await asyncio.sleep(0.05)
        self.infos.append(request.body)
        request.accept(b"async:" + request.body, "text/plain")

    def on_terminated(self, session, cause):
        self.cause = T(cause)
        if self.terminated is not None and not self.terminated.done():
            self.terminated.set_result(cause)


class AsyncAnswerer(sipsess.UADelegate):
    def __init__(self):
        self.delegates = []
        self.sessions = []

    async def on_invite(self, session, request):
        d = AsyncCallee()
        d.terminated = asyncio.get_running_loop().create_future()
        session.set_delegate(d)
        self.delegates.append(d)
        self.sessions.append(session)
        request.progress(180)
        await asyncio.sleep(0.05)
        request.accept(SDP_ANSWER, SDP)


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_two_uas_under_serve(transport):
    async def main():
        ans = AsyncAnswerer()
        with sipsess.UA(f"{transport}:127.0.0.1:0") as a, \
                sipsess.UA(f"{transport}:127.0.0.1:0", delegate=ans) as b:
            ta = asyncio.create_task(a.serve())
            tb = asyncio.create_task(b.serve())
            out = a.call(target(b, transport=transport), SDP_OFFER, SDP)
            resp = await out
            assert resp.status == 200 and resp.body == SDP_ANSWER
            assert [m.status for m in out.provisional][-1] == 180
            s = out.session
            assert s.state == S.CONFIRMED
            # concurrent INFOs, each answered by an awaiting callback
            r1, r2 = await asyncio.gather(s.info(b"one", "text/plain"),
                                          s.info(b"two", "text/plain"))
            assert (r1.status, r1.body) == (200, b"async:one")
            assert (r2.status, r2.body) == (200, b"async:two")
            assert sorted(ans.delegates[0].infos) == [b"one", b"two"]
            bye = await s.bye()
            assert bye.status == 200
            assert await ans.delegates[0].terminated == T.REMOTE_BYE
            a.stop()
            b.stop()
            await asyncio.gather(ta, tb)
            assert ta.done() and tb.done()
    run(main())


def test_serve_returns_on_close():
    async def main():
        ua = sipsess.UA("udp:127.0.0.1:0")
        t = asyncio.create_task(ua.serve())
        await asyncio.sleep(0.05)
        assert not t.done()
        ua.close()
        await t
        assert ua.closed
    run(main())


def test_async_callback_unanswered_gets_500():
    class D(sipsess.Delegate):
        async def on_info(self, session, request):
            await asyncio.sleep(0.01)  # returns without answering

    class A(sipsess.UADelegate):
        def on_invite(self, session, request):
            session.set_delegate(D())
            request.accept(SDP_ANSWER, SDP)

    async def main():
        with sipsess.UA("udp:127.0.0.1:0") as a, sipsess.UA("udp:127.0.0.1:0",
                                                               delegate=A()) as b:
            ts = [asyncio.create_task(u.serve()) for u in (a, b)]
            out = a.call(target(b), SDP_OFFER, SDP)
            await out
            s = out.session
            r = await s.info(b"x", "text/plain")
            assert r.status == 500
            a.stop()
            b.stop()
            await asyncio.gather(*ts)
    run(main())


def test_async_callback_error_reported_and_raised(unraisable):
    class D(sipsess.Delegate):
        async def on_info(self, session, request):
            await asyncio.sleep(0)
            raise KeyError("async boom")

    class A(sipsess.UADelegate):
        def on_invite(self, session, request):
            session.set_delegate(D())
            request.accept(SDP_ANSWER, SDP)

    async def main(raise_errors):
        with sipsess.UA("udp:127.0.0.1:0") as a, \
                sipsess.UA("udp:127.0.0.1:0", delegate=A(), raise_errors=raise_errors) as b:
            ta = asyncio.create_task(a.serve())
            tb = asyncio.create_task(b.serve())
            out = a.call(target(b), SDP_OFFER, SDP)
            await out
            r = await out.session.info(b"x", "text/plain")
            assert r.status == 500  # the task ended with the request unanswered
            if raise_errors:
                with pytest.raises(KeyError, match="async boom"):
                    await tb
            else:
                # still serving: another INFO gets its answer too
                r = await out.session.info(b"y", "text/plain")
                assert r.status == 500
                b.stop()
                await tb
            a.stop()
            await ta

    run(main(False))
    assert [u[0] for u in unraisable] == [KeyError, KeyError]
    unraisable.clear()
    run(main(True))
    assert unraisable == []


def test_async_callback_without_asyncio_is_an_error(call_pair, unraisable):
    """An async def callback under the plain loop calls cannot run: it is
    reported (RuntimeError) and the request gets 500."""
    from conftest import pump

    class D(sipsess.Delegate):
        async def on_info(self, session, request):
            request.accept()

    a, b, s, bs, cd, bd, ans = call_pair()
    bs.set_delegate(D())
    out = s.info(b"x", "text/plain")
    pump(a, b)
    assert out.result().status == 500
    assert len(unraisable) == 1 and unraisable[0][0] is RuntimeError
    assert "coroutine" in str(unraisable[0][1])


def test_send_from_a_task_arms_the_timers():
    """An INVITE sent from a task (outside the loop calls) to a socket that
    never answers: the adapter must learn of the new timers (the binding
    wakes its fd) so the INVITE is retransmitted and times out after 64*T1
    (t1=20 ms: 1.28 s) with nothing else happening on the UA."""
    async def main():
        hole = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        hole.bind(("127.0.0.1", 0))
        hole.setblocking(False)
        try:
            with sipsess.UA("udp:127.0.0.1:0", t1=20) as a:
                t = asyncio.create_task(a.serve())
                await asyncio.sleep(0.05)  # the adapter is idle, no timer armed
                assert a.next_timeout == -1
                t0 = time.monotonic()
                out = a.call(f"sip:nobody@127.0.0.1:{hole.getsockname()[1]}", SDP_OFFER, SDP)
                with pytest.raises(sipsess.Timeout):
                    await out
                elapsed = time.monotonic() - t0
                assert out.session.term_cause == T.TIMEOUT
                a.stop()
                await t
        finally:
            got = 0
            try:
                while hole.recv(65536).startswith(b"INVITE "):
                    got += 1
            except BlockingIOError:
                pass
            hole.close()
        assert 1.0 < elapsed < 5.0
        assert got >= 5  # first INVITE and its retransmissions (T1 doubling)
    run(main())
