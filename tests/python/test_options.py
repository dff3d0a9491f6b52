"""UA options (identity, user_agent, limits, auto_prack, timers, log) and
less common session operations (Replaces, manual PRACK, NOTIFY, early
UPDATE), over memnet with virtual clocks."""

import logging

import pytest

import sipsess
from conftest import SDP, SDP_ANSWER, SDP_OFFER, Answerer, Recorder, pump, pump_until, sdp, target

S = sipsess.SessionState
T = sipsess.TermCause


def test_identity_and_user_agent(memnet_pair):
    seen = []

    def answer(s, r):
        m = r.msg
        seen.append((m.header("From"), m.header("User-Agent"), s.remote_uri, s.local_uri))
        r.accept(SDP_ANSWER, SDP)

    a, b = memnet_pair(Answerer(answer=answer),
                       caller_opts={"identity": "Alice <sip:alice@127.0.0.1>",
                                    "user_agent": "pytest-ua/1"})
    s = a.invite(target(b, user="bob"), SDP_OFFER, SDP)
    pump(a, b)
    frm, ua_hdr, remote, local = seen[0]
    assert frm.startswith("Alice <sip:alice@127.0.0.1>;tag=")
    assert ua_hdr == "pytest-ua/1"
    assert remote == "sip:alice@127.0.0.1" and local.startswith("sip:bob@127.0.0.1")
    assert s.local_uri == "sip:alice@127.0.0.1"


def test_session_limit(memnet_pair):
    a, b = memnet_pair(callee_opts={"limits": {sipsess.Limit.SESSIONS: 1}},
                       caller_opts={"limits": {"SESSIONS": 2}})
    s1 = a.invite(target(b), SDP_OFFER, SDP)
    s2 = a.invite(target(b), SDP_OFFER, SDP)
    with pytest.raises(sipsess.LimitError):
        a.invite(target(b), SDP_OFFER, SDP)
    pump(a, b)
    assert s1.state == S.CONFIRMED
    r = s2.invitation.result()
    assert r.status == 503 and r.header("Retry-After") is not None


def test_invite_with_replaces(memnet_pair):
    replaced = []

    def answer(s, r):
        replaced.append(r.replaces())
        r.accept(SDP_ANSWER, SDP)

    ans = Answerer(answer=answer)
    a, b = memnet_pair(ans)
    cd = Recorder()
    s1 = a.invite(target(b), SDP_OFFER, SDP, delegate=cd)
    pump(a, b)
    bs1 = ans.sessions[0]
    assert replaced == [None]
    rep = f"{bs1.call_id};to-tag={bs1.local_tag};from-tag={bs1.remote_tag}"
    s2 = a.invite(target(b), SDP_OFFER, SDP, headers={"Replaces": rep})
    pump(a, b)
    assert replaced[1] is bs1  # the same Session object as in the first on_invite
    assert bs1.term_cause == T.REPLACED and ans.delegates[0].cause == T.REPLACED
    assert s2.state == S.CONFIRMED
    assert s1.state == S.TERMINATED and cd.cause == T.REMOTE_BYE


def test_manual_prack_with_auto_prack_off(memnet_pair):
    invites = []
    pracks = []

    def answer(s, r):
        r.keep()
        invites.append(r)
        r.progress(183, body=SDP_ANSWER, content_type=SDP, reliable=1)

    ans = Answerer(lambda: Recorder(on_prack=lambda s, r: pracks.append(r.method_name)),
                   answer=answer)
    a, b = memnet_pair(ans, caller_opts={"auto_prack": False})

    class H:
        def on_progress(self, s, r):
            self.prack = s.prack(headers={"X-Manual": "1"})

    h = H()
    s = a.invite(target(b), SDP_OFFER, SDP, handler=h)
    pump(a, b)
    assert pracks == ["PRACK"] and h.prack.result().status == 200
    invites[0].accept()
    pump(a, b)
    assert s.state == S.CONFIRMED


def test_prack_timeout_without_prack(memnet_pair):
    """auto_prack off and no PRACK: the callee's reliable 183 goes
    unacknowledged for 64*T1, the INVITE gets 504 and the session ends
    with PRACK_TIMEOUT."""
    ans = Answerer(answer=lambda s, r: (r.keep(), ans.requests.append(r),
                                        r.progress(183, reliable=1)))
    a, b = memnet_pair(ans, caller_opts={"auto_prack": False}, callee_opts={"t1": 50})
    s = a.invite(target(b), SDP_OFFER, SDP)
    pump_until(lambda: ans.sessions and ans.sessions[0].state == S.TERMINATED, a, b, ms=50)
    assert ans.sessions[0].term_cause == T.PRACK_TIMEOUT and ans.delegates[0].cause == \
        T.PRACK_TIMEOUT
    pump(a, b)
    assert s.invitation.result().status == 504


def test_rel100_off_means_unreliable_1xx(memnet_pair):
    ans = Answerer(answer=lambda s, r: (r.keep(), ans.requests.append(r),
                                        r.progress(183, reliable=1)))
    a, b = memnet_pair(ans, caller_opts={"rel100": "off"})
    s = a.invite(target(b), SDP_OFFER, SDP)
    pump(a, b)
    prov = s.invitation.provisional
    assert [m.status for m in prov] == [183] and prov[0].header("Require") is None
    assert ans.delegates[0].events == []


def test_generic_notify(call_pair):
    got = []
    a, b, s, bs, cd, bd, ans = call_pair(callee_handlers={
        "on_notify": lambda ss, r: got.append((r.header("Event"), r.body,
                                               r.subscription_terminated, r.sipfrag_status))})
    out = s.notify(b"state", "text/plain",
                   headers=[("Event", "foo"), ("Subscription-State", "terminated")])
    pump(a, b)
    assert got == [("foo", b"state", True, 0)] and out.result().status == 200


def test_update_in_early_dialog(memnet_pair):
    def answer(s, r):
        r.keep()
        ans.requests.append(r)
        r.progress(183, body=SDP_ANSWER, content_type=SDP, reliable=1)

    ups = []
    ans = Answerer(lambda: Recorder(on_update=lambda s, r: (ups.append(s.state), r.accept(
        sdp("sendrecv", version=9, who=b"bob"), SDP))), answer=answer)
    a, b = memnet_pair(ans)
    s = a.invite(target(b), SDP_OFFER, SDP)
    pump(a, b)
    assert s.state == S.EARLY
    out = s.update(sdp("sendonly", version=3), SDP)
    pump(a, b)
    assert out.result().status == 200 and ups == [S.EARLY]
    assert s.body(sipsess.Body.REMOTE_ANSWER) == sdp("sendrecv", version=9, who=b"bob")
    ans.requests[0].accept()
    pump(a, b)
    assert s.state == S.CONFIRMED


def test_log_sink_levels_and_logging_module(caplog):
    """log=fn gets (level, line); log=True sends the lines to the
    "sipsess" logger."""
    lines = []
    net = sipsess.Memnet()
    caplog.set_level(logging.DEBUG, logger="sipsess")
    with sipsess.UA("mem:0", memnet=net, virtual_clock=True,
                    log=lambda lvl, line: lines.append((lvl, line)),
                    log_level=sipsess.LogLevel.DEBUG) as a, \
            sipsess.UA("mem:0", memnet=net, virtual_clock=True, log=True,
                       log_level=sipsess.LogLevel.DEBUG, delegate=Answerer()) as b:
        s = a.invite(target(b), SDP_OFFER, SDP)
        pump(a, b)
        s.bye()
        pump(a, b)
    assert all(sipsess.LogLevel.ERROR <= lvl <= sipsess.LogLevel.DEBUG for lvl, _ in lines)
    assert any("listening on mem:" in line for _, line in lines)
    assert any("terminated (cause 1)" in line for _, line in lines)  # LOCAL_BYE
    got = [r.getMessage() for r in caplog.records if r.name == "sipsess"]
    assert any("terminated (cause 2)" in line for line in got)  # REMOTE_BYE


def test_timers_option_shortens_timeouts(memnet_pair):
    """t1=50: an INVITE to nobody times out after 64*T1 = 3.2 s of virtual
    time instead of 32 s (on_reject with no response: Timeout)."""
    net = sipsess.Memnet()
    rejects = []
    with sipsess.UA("mem:0", memnet=net, virtual_clock=True, t1=50) as a:
        s = a.invite("sip:nobody@127.0.0.1:1", SDP_OFFER, SDP,
                     handler=type("H", (), {"on_reject": lambda self, ss, r: rejects.append(r)})())
        pump(a, ms=100, n=30)
        assert s.state != S.TERMINATED
        pump(a, ms=100, n=5)
        assert s.state == S.TERMINATED and s.term_cause == T.TIMEOUT
        assert rejects == [None]
        with pytest.raises(sipsess.Timeout):
            s.invitation.result()
