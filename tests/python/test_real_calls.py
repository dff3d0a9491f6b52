"""Real calls over loopback sockets: two Python UAs (UDP, TCP, IPv6), a
Python UA against the C reference UA sipsess-ua (both directions), and
SIPp's built-in uac scenario against a Python UAS."""

import csv
import subprocess

import pytest

import sipsess
from conftest import (SDP, SDP_ANSWER, SDP_OFFER, Answerer, Recorder, drive, sdp, sipp_path,
                      target)

S = sipsess.SessionState
Sig = sipsess.SignalingState
T = sipsess.TermCause


def callee_delegate():
    def on_invite(s, r):
        r.accept(sdp("recvonly" if b"a=sendonly" in r.body else "sendrecv", who=b"bob"), SDP)

    return Recorder(on_info=lambda s, r: r.accept(b"echo:" + r.body, "text/plain"),
                    on_invite=on_invite,
                    on_message=lambda s, r: None,
                    on_bye=lambda s, r: None,
                    on_ack=lambda s, r: None)


@pytest.mark.parametrize("transport,host", [("udp", "127.0.0.1"), ("tcp", "127.0.0.1"),
                                            ("udp", "::1")],
                         ids=["udp4", "tcp4", "udp6"])
def test_python_to_python(loopback_pair, transport, host):
    ans = Answerer(callee_delegate)
    a, b = loopback_pair(transport, host, callee_delegate=ans)
    assert a.listeners[0].startswith(f"{transport}:")
    cd = Recorder()
    s = a.invite(target(b, host=host, transport=transport), SDP_OFFER, SDP, delegate=cd)
    drive(a, b, until=lambda: s.state == S.CONFIRMED and ans.sessions
          and ans.sessions[0].state == S.CONFIRMED)
    bs, bd = ans.sessions[0], ans.delegates[0]
    assert s.invitation.result().status == 200
    assert s.body(sipsess.Body.REMOTE_ANSWER) == SDP_ANSWER
    assert bs.remote_uri and s.remote_target.startswith("sip:")
    if transport == "tcp":
        assert "transport=tcp" in s.remote_target.lower()
    # in-dialog traffic both ways
    out = s.info(b"hi", "text/plain")
    hold = s.invite(sdp("sendonly"), SDP)
    drive(a, b, until=lambda: out.done and hold.done)
    assert out.result().body == b"echo:hi" and hold.result().status == 200
    assert b"a=recvonly" in s.body(sipsess.Body.REMOTE_ANSWER)
    back = bs.message("from the callee")
    drive(a, b, until=lambda: back.done)
    assert back.result().status == 200
    bye = s.bye()
    drive(a, b, until=lambda: bye.done and bd.cause is not None)
    assert bye.result().status == 200
    assert bd.cause == T.REMOTE_BYE and cd.cause == T.LOCAL_BYE
    assert bd.names() == ["on_ack", "on_info", "on_invite", "on_ack", "on_bye"]


def test_many_concurrent_calls_over_udp(loopback_pair):
    ans = Answerer(callee_delegate)
    a, b = loopback_pair("udp", "127.0.0.1", callee_delegate=ans)
    calls = [a.invite(target(b), SDP_OFFER, SDP) for _ in range(50)]
    drive(a, b, until=lambda: all(s.state == S.CONFIRMED for s in calls))
    byes = [s.bye() for s in calls]
    drive(a, b, until=lambda: all(o.done for o in byes) and
          all(d.cause == T.REMOTE_BYE for d in ans.delegates))
    assert len(ans.sessions) == 50 and all(o.result().status == 200 for o in byes)


# --------------------------------------------------------------------------
# against the C reference UA

@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_python_caller_to_c_answerer(spawn_ua, transport):
    """Python calls `sipsess-ua --answer --count 5`: the C UA answers with a
    reliable 180 carrying its SDP answer (we PRACK it by ourselves), then
    200; INFO and a hold re-INVITE get their answers; we hang up; the C UA
    counts 5 good calls and exits 0."""
    n = 5
    p = spawn_ua("--listen", f"{transport}:127.0.0.1:0", "--answer", "--count", str(n))
    port = p.ports[transport + "4"]
    params = ";transport=tcp" if transport == "tcp" else ""
    uri = f"sip:bob@127.0.0.1:{port}{params}"
    with sipsess.UA(f"{transport}:127.0.0.1:0") as ua:
        delegates = [Recorder(on_ack=lambda s, r: None) for _ in range(n)]
        calls = [ua.invite(uri, SDP_OFFER, SDP, delegate=d) for d in delegates]
        drive(ua, until=lambda: all(s.state == S.CONFIRMED for s in calls), timeout=10)
        for s in calls:
            prov = [(m.status, m.header("Require")) for m in s.invitation.provisional]
            assert (180, "100rel") in prov
            assert s.signaling_state == Sig.STABLE
            assert b"m=audio" in s.body(sipsess.Body.REMOTE_ANSWER)
        infos = [s.info(b"x", "application/x-test") for s in calls]
        holds = [s.invite(sdp("sendonly"), SDP) for s in calls]
        drive(ua, until=lambda: all(o.done for o in infos + holds), timeout=10)
        assert [o.result().status for o in infos] == [200] * n
        assert [o.result().status for o in holds] == [200] * n
        byes = [s.bye() for s in calls]
        drive(ua, until=lambda: all(o.done for o in byes), timeout=10)
        assert [o.result().status for o in byes] == [200] * n
        assert all(d.cause == T.LOCAL_BYE for d in delegates)
        drive(ua, until=lambda: p.poll() is not None, timeout=10)
    assert p.wait(5) == 0, (p.lines, p.err)
    assert p.summary() == f"calls attempted {n} ok {n} failed 0"


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_c_caller_to_python_answerer(spawn_ua, transport):
    """`sipsess-ua --call ... --count 10` calls a Python UAS, which answers
    each call with SDP from a later loop turn (kept request); the C UA hangs
    each up and exits 0 with 10 good calls."""
    n = 10
    pending = []
    ans = Answerer(lambda: Recorder(on_bye=lambda s, r: None),
                   answer=lambda s, r: (r.keep(), r.progress(180), pending.append(r)))
    with sipsess.UA(f"{transport}:127.0.0.1:0", delegate=ans) as ua:
        params = ";transport=tcp" if transport == "tcp" else ""
        p = spawn_ua("--listen", f"{transport}:127.0.0.1:0",
                     "--call", f"sip:py@127.0.0.1:{ua.port()}{params}",
                     "--count", str(n), "--rate", "100")

        def answer_pending():
            while pending:
                pending.pop().accept(SDP_ANSWER, SDP)
            return p.poll() is not None

        drive(ua, until=answer_pending, timeout=15)
        drive(ua, timeout=0.05)  # the last BYE's retransmissions, if any
        assert len(ans.sessions) == n
        assert all(d.cause == T.REMOTE_BYE for d in ans.delegates)
        assert all(d.names() == ["on_bye"] for d in ans.delegates)
        assert all(s.body(sipsess.Body.REMOTE_OFFER).startswith(b"v=0") for s in ans.sessions)
    assert p.wait(5) == 0, (p.lines, p.err)
    assert p.summary() == f"calls attempted {n} ok {n} failed 0"


def test_c_answerer_refuses_and_python_sees_rejection(spawn_ua):
    """--max-concurrent 1: the C UA answers a second concurrent call 486;
    the Python caller's handler and on_terminated see the rejection."""
    p = spawn_ua("--listen", "udp:127.0.0.1:0", "--answer", "--max-concurrent", "1")
    uri = f"sip:bob@127.0.0.1:{p.ports['udp4']}"
    with sipsess.UA("udp:127.0.0.1:0") as ua:
        first = ua.invite(uri, SDP_OFFER, SDP)
        drive(ua, until=lambda: first.state == S.CONFIRMED, timeout=5)
        d = Recorder()
        rejected = []

        class H:
            def on_reject(self, s, r):
                rejected.append(r.status)

        second = ua.invite(uri, SDP_OFFER, SDP, delegate=d, handler=H())
        drive(ua, until=lambda: second.state == S.TERMINATED, timeout=5)
        assert rejected == [486] and d.cause == T.REJECTED
        bye = first.bye()
        drive(ua, until=lambda: bye.done, timeout=5)
        assert bye.result().status == 200
    p.proc.terminate()  # SIGTERM: a clean exit, the refused call counted failed
    assert p.wait(5) == 1
    assert p.summary() == "calls attempted 2 ok 1 failed 1"
    assert any("refused" in line for line in p.err)


# --------------------------------------------------------------------------
# SIPp

def _sipp_stats(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    header, last = rows[0], rows[-1]
    return dict(zip(header, last))


def test_sipp_uac_against_python_uas(tmp_path):
    """SIPp's built-in uac scenario (INVITE with SDP, ACK, BYE) places 200
    calls at 100 calls/s against a Python UAS driven in this process; SIPp
    must exit 0 with 200 successful calls and the UAS must have seen each
    call confirmed and ended by the caller's BYE."""
    sipp = sipp_path()
    if sipp is None:
        pytest.skip("sipp is not installed (Debian package sip-tester)")
    n = 200
    confirmed = [0]
    ended = []

    class D(sipsess.Delegate):
        def on_ack(self, s, r):
            confirmed[0] += 1

        def on_terminated(self, s, cause):
            ended.append(T(cause))

    class A(sipsess.UADelegate):
        def on_invite(self, s, r):
            s.set_delegate(D())
            r.progress(180)
            r.accept(SDP_ANSWER, SDP)

    stat = tmp_path / "stat.csv"
    with sipsess.UA("udp:127.0.0.1:0", delegate=A()) as ua:
        cmd = [sipp, "-sn", "uac", "-m", str(n), "-r", "100", "-l", "100",
               "-i", "127.0.0.1", "-p", "0", "-t", "u1", "-nostdin",
               "-timeout", "30s", "-timeout_error", "-trace_stat", "-stf", str(stat),
               "-trace_err", "-error_file", str(tmp_path / "err.log"),
               f"127.0.0.1:{ua.port()}"]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                cwd=tmp_path)
        try:
            drive(ua, until=lambda: proc.poll() is not None, timeout=40, step_ms=20)
            out = proc.communicate(timeout=5)[0].decode("utf-8", "replace")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        drive(ua, timeout=0.1)
    assert proc.returncode == 0, out[-2000:]
    stats = _sipp_stats(stat)
    assert int(stats["SuccessfulCall(C)"]) == n, stats
    assert int(stats["FailedCall(C)"]) == 0, stats
    assert confirmed[0] == n
    assert ended == [T.REMOTE_BYE] * n
