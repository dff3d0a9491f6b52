"""Every session-delegate callback, UA-delegate callbacks, response
handlers, offer/answer state and the library's default answers, over
memnet with virtual clocks (deterministic, no sockets)."""

import pytest

import sipsess
from conftest import (SDP, SDP_ANSWER, SDP_OFFER, Answerer, Recorder, pump, pump_until,
                      sdp, target)

S = sipsess.SessionState
Sig = sipsess.SignalingState
T = sipsess.TermCause
B = sipsess.Body


def accept(s, r):
    r.accept()


# --------------------------------------------------------------------------
# call setup, state changes, termination

def test_call_setup_states_and_offer_answer(call_pair):
    a, b, s, bs, cd, bd, ans = call_pair()
    assert s.outgoing is True and bs.outgoing is False
    assert s.call_id == bs.call_id and s.call_id
    assert s.local_tag == bs.remote_tag and s.remote_tag == bs.local_tag
    assert s.remote_target.startswith("sip:") and str(b.port()) in s.remote_target
    assert cd.states == [S.CONFIRMED]  # no 1xx: straight to Confirmed (auto-ACK)
    assert bd.states == [S.ACK_WAIT, S.CONFIRMED]
    # offer/answer: both sides stable, each with the other's bodies
    assert s.signaling_state == Sig.STABLE and bs.signaling_state == Sig.STABLE
    assert s.body(B.LOCAL_OFFER) == SDP_OFFER
    assert s.body(B.REMOTE_ANSWER) == SDP_ANSWER
    assert s.body_type(B.REMOTE_ANSWER) == SDP
    assert bs.body(B.REMOTE_OFFER) == SDP_OFFER
    assert bs.body(B.LOCAL_ANSWER) == SDP_ANSWER
    assert s.body(B.REMOTE_OFFER) == b"" and s.body_type(B.REMOTE_OFFER) is None
    # the INVITE's Outgoing
    resp = s.invitation.result()
    assert resp.status == 200 and resp.body == SDP_ANSWER and resp.method_name == "INVITE"
    assert s.invitation.session is s


def test_bye_on_bye_and_on_terminated(call_pair):
    bye_seen = []
    a, b, s, bs, cd, bd, ans = call_pair(
        callee_handlers={"on_bye": lambda ss, r: bye_seen.append((r.method, r.method_name))})
    out = s.bye()
    assert s.state == S.TERMINATED and s.term_cause == T.LOCAL_BYE  # at once
    pump(a, b)
    assert bye_seen == [(sipsess.Method.BYE, "BYE")]
    assert out.result().status == 200
    assert bd.cause == T.REMOTE_BYE and bs.term_cause == T.REMOTE_BYE
    assert cd.cause == T.LOCAL_BYE
    assert bd.states[-1] == S.TERMINATED and cd.states[-1] == S.TERMINATED
    assert bs.signaling_state == Sig.CLOSED


def test_on_ack(call_pair):
    a, b, s, bs, cd, bd, ans = call_pair(
        callee_handlers={"on_ack": lambda ss, r: None})
    assert bd.names() == ["on_ack"]
    req = bd.events[0][1]
    assert req.valid is False  # expired after its callback
    with pytest.raises(sipsess.StateError):
        req.accept()


def test_on_ack_timeout(memnet_pair):
    """Caller with auto_ack off never ACKs: the callee's 2xx times out after
    64*T1 of virtual time, on_ack_timeout runs and the library sends BYE."""
    ans = Answerer(lambda: Recorder(on_ack_timeout=lambda s, r: None, on_ack=lambda s, r: None))
    a, b = memnet_pair(ans, caller_opts={"auto_ack": False})
    cd = Recorder()
    s = a.invite(target(b), SDP_OFFER, SDP, delegate=cd)
    pump(a, b)
    assert s.state == S.ACK_WAIT and ans.sessions[0].state == S.ACK_WAIT
    pump_until(lambda: ans.sessions[0].state == S.TERMINATED, a, b, ms=500)
    bd = ans.delegates[0]
    assert bd.events == [("on_ack_timeout", None)]
    assert bd.cause == T.ACK_TIMEOUT
    pump(a, b)
    assert s.state == S.TERMINATED and cd.cause == T.REMOTE_BYE


def test_manual_ack_with_auto_ack_off(memnet_pair):
    ans = Answerer(lambda: Recorder(on_ack=lambda s, r: None))
    a, b = memnet_pair(ans, caller_opts={"auto_ack": False})
    s = a.invite(target(b), SDP_OFFER, SDP)
    pump(a, b)
    assert s.state == S.ACK_WAIT
    s.ack()
    pump(a, b)
    assert s.state == S.CONFIRMED and ans.sessions[0].state == S.CONFIRMED
    assert ans.delegates[0].names() == ["on_ack"]


def test_offerless_invite_answered_in_ack(memnet_pair):
    """INVITE without an offer: the 2xx carries the offer, the caller waits
    in ACK_WAIT with a remote offer and answers in the ACK."""
    ans = Answerer(answer=lambda s, r: r.accept(SDP_OFFER, SDP))
    a, b = memnet_pair(ans)
    acc = []

    class H:
        def on_accept(self, ss, r):
            acc.append(ss.signaling_state)

    s = a.invite(target(b), handler=H())
    pump(a, b)
    assert s.state == S.ACK_WAIT and acc == [Sig.HAVE_REMOTE_OFFER]
    assert s.body(B.REMOTE_OFFER) == SDP_OFFER
    s.ack(SDP_ANSWER, SDP)
    pump(a, b)
    assert s.state == S.CONFIRMED and s.signaling_state == Sig.STABLE
    bs = ans.sessions[0]
    assert bs.state == S.CONFIRMED and bs.body(B.REMOTE_ANSWER) == SDP_ANSWER


# --------------------------------------------------------------------------
# in-dialog requests

def test_on_info_with_body_and_headers(call_pair):
    def on_info(ss, r):
        seen.append((r.method, r.body, r.content_type, r.header("X-Test"),
                     r.msg.header("X-Test"), r.session() is ss))
        r.accept(b"pong", "text/plain", headers={"X-Reply": "yes"})
    seen = []
    a, b, s, bs, cd, bd, ans = call_pair(callee_handlers={"on_info": on_info})
    out = s.info(b"ping", "application/x-test", headers={"X-Test": "1"})
    pump(a, b)
    assert seen == [(sipsess.Method.INFO, b"ping", "application/x-test", "1", "1", True)]
    r = out.result()
    assert r.status == 200 and r.body == b"pong" and r.header("X-Reply") == "yes"
    assert ("X-Reply", "yes") in r.headers


def test_on_invite_reinvite_hold_unhold(call_pair):
    def on_invite(ss, r):
        seen.append((r.body, ss.signaling_state))
        answer = sdp("recvonly", who=b"bob") if b"a=sendonly" in r.body else sdp(
            "sendrecv", who=b"bob")
        r.accept(answer, SDP)
    seen = []
    a, b, s, bs, cd, bd, ans = call_pair(callee_handlers={"on_invite": on_invite})
    hold = sdp("sendonly", version=2)
    out = s.invite(hold, SDP)
    assert s.signaling_state == Sig.HAVE_LOCAL_OFFER
    pump(a, b)
    assert out.result().status == 200
    assert seen[0] == (hold, Sig.HAVE_REMOTE_OFFER)
    assert b"a=recvonly" in s.body(B.REMOTE_ANSWER)
    assert bs.body(B.REMOTE_OFFER) == hold
    assert s.state == S.CONFIRMED and s.signaling_state == Sig.STABLE
    unhold = sdp("sendrecv", version=3)
    out2 = s.invite(unhold, SDP)
    pump(a, b)
    assert out2.result().status == 200 and b"a=sendrecv" in s.body(B.REMOTE_ANSWER)
    assert bs.body(B.REMOTE_OFFER) == unhold
    assert bd.names() == ["on_invite", "on_invite"]


def test_on_message(call_pair):
    a, b, s, bs, cd, bd, ans = call_pair(
        callee_handlers={"on_message": lambda ss, r: seen.append((r.body, r.content_type))})
    seen = []
    out = s.message("hello there")
    pump(a, b)
    assert seen == [(b"hello there", "text/plain")]
    assert out.result().status == 200


def test_on_update_with_offer(call_pair):
    def on_update(ss, r):
        seen.append(r.body)
        r.accept(sdp("sendrecv", version=5, who=b"bob"), SDP)
    seen = []
    a, b, s, bs, cd, bd, ans = call_pair(callee_handlers={"on_update": on_update})
    offer = sdp("sendrecv", version=4)
    out = s.update(offer, SDP)
    pump(a, b)
    assert seen == [offer]
    assert out.result().status == 200
    assert s.body(B.REMOTE_ANSWER) == sdp("sendrecv", version=5, who=b"bob")
    assert bs.body(B.REMOTE_OFFER) == offer


def test_on_request_extension_method(call_pair):
    def on_request(ss, r):
        seen.append((r.method, r.method_name, r.body))
        r.reply(202, "Fine")
    seen = []
    a, b, s, bs, cd, bd, ans = call_pair(callee_handlers={"on_request": on_request})
    out = s.request("FOO", b"bar", "text/plain")
    pump(a, b)
    assert seen == [(sipsess.Method.OTHER, "FOO", b"bar")]
    r = out.result()
    assert r.status == 202 and r.reason == "Fine" and r.method_name == "FOO"


def test_on_refer_keep_and_notify_refer_on_notify(call_pair):
    """The callee accepts a REFER (202; the library NOTIFYs 100 Trying),
    keeps it and reports 180 then 200 from later loop turns; the caller's
    on_notify sees each sipfrag status, the last one terminating the
    subscription."""
    kept = []

    def on_refer(ss, r):
        r.keep()
        kept.append((r, r.header("Refer-To")))
        r.accept()

    notes = []

    def on_notify(ss, r):
        notes.append((r.sipfrag_status, r.subscription_terminated, r.header("Event")))
        r.accept()

    a, b, s, bs, cd, bd, ans = call_pair(callee_handlers={"on_refer": on_refer},
                                         caller_handlers={"on_notify": on_notify})
    out = s.refer("sip:carol@127.0.0.1:9")
    pump(a, b)
    assert out.result().status == 202
    assert len(kept) == 1 and kept[0][1] == "<sip:carol@127.0.0.1:9>"
    req = kept[0][0]
    assert req.valid and req.answered
    n1 = req.notify_refer(180)
    pump(a, b)
    n2 = req.notify_refer(200, "OK")
    pump(a, b)
    assert n1.result().status == 200 and n2.result().status == 200
    assert [n[0] for n in notes] == [100, 180, 200]
    assert [n[1] for n in notes] == [False, False, True]
    assert notes[0][2].startswith("refer")
    # the subscription is over: another NOTIFY is refused
    with pytest.raises(sipsess.StateError):
        req.notify_refer(200)


def test_on_prack_reliable_183(memnet_pair):
    """100rel: the callee sends a reliable 183 with the answer, the caller
    PRACKs it by itself, on_prack runs, then the 200."""
    invites = []

    def answer(ss, r):
        r.keep()
        invites.append(r)
        r.progress(183, body=SDP_ANSWER, content_type=SDP, reliable=1)

    ans = Answerer(lambda: Recorder(on_prack=lambda s, r: seen.append(r.method)), answer=answer)
    seen = []
    a, b = memnet_pair(ans)
    resp = []
    s = a.invite(target(b), SDP_OFFER, SDP,
                 handler=lambda ss, r: resp.append((r.status, r.header("Require"))))
    pump(a, b)
    assert resp == [(183, "100rel")]
    assert seen == [sipsess.Method.PRACK]
    assert s.state == S.EARLY and s.signaling_state == Sig.STABLE
    assert s.body(B.REMOTE_ANSWER) == SDP_ANSWER
    assert [m.status for m in s.invitation.provisional] == [183]
    assert not s.invitation.done
    with pytest.raises(sipsess.StateError):
        s.invitation.result()
    invites[0].accept()
    pump(a, b)
    assert s.state == S.CONFIRMED and resp[-1] == (200, None)
    assert s.invitation.result().status == 200


def test_on_cancel(memnet_pair):
    invites = []

    def answer(ss, r):
        r.keep()
        invites.append(r)
        r.progress(180)

    ans = Answerer(lambda: Recorder(on_cancel=lambda s, r: None), answer=answer)
    a, b = memnet_pair(ans)
    cd = Recorder()
    s = a.invite(target(b), SDP_OFFER, SDP, delegate=cd)
    pump(a, b)
    assert s.state == S.EARLY and [m.status for m in s.invitation.provisional] == [180]
    s.cancel()
    pump(a, b)
    bd = ans.delegates[0]
    assert bd.names() == ["on_cancel"]
    assert bd.cause == T.CANCELLED and cd.cause == T.CANCELLED
    assert s.invitation.result().status == 487
    assert invites[0].answered  # 487 from the library
    with pytest.raises(sipsess.StateError):
        invites[0].accept()


def test_reject_incoming_call(memnet_pair):
    ans = Answerer(answer=lambda s, r: r.reject(486, headers={"X-Why": "busy"}))
    a, b = memnet_pair(ans)
    cd = Recorder()
    s = a.invite(target(b), SDP_OFFER, SDP, delegate=cd)
    pump(a, b)
    r = s.invitation.result()
    assert r.status == 486 and r.header("X-Why") == "busy"
    assert cd.cause == T.REJECTED and ans.delegates[0].cause == T.REJECTED


def test_redirect(memnet_pair):
    ans = Answerer(answer=lambda s, r: r.redirect("<sip:other@127.0.0.1:9>"))
    a, b = memnet_pair(ans)
    got = []

    class H:
        def on_redirect(self, ss, r):
            got.append((r.status, r.header("Contact")))

    s = a.invite(target(b), SDP_OFFER, SDP, handler=H())
    pump(a, b)
    assert got and got[0][0] == 302 and "other@127.0.0.1:9" in got[0][1]
    assert s.term_cause == T.REDIRECTED


def test_terminate_outgoing_early_cancels(memnet_pair):
    ans = Answerer(answer=lambda s, r: (r.keep(), ans.requests.append(r), r.progress(180)))
    a, b = memnet_pair(ans)
    s = a.invite(target(b), SDP_OFFER, SDP)
    pump(a, b)
    s.terminate()
    pump(a, b)
    assert s.term_cause == T.CANCELLED and ans.sessions[0].term_cause == T.CANCELLED


# --------------------------------------------------------------------------
# response handlers

def test_response_handler_function_gets_every_response(memnet_pair):
    def answer(ss, r):
        r.keep()
        ans.requests.append(r)
        r.progress(180)

    ans = Answerer(answer=answer)
    a, b = memnet_pair(ans)
    got = []
    s = a.invite(target(b), SDP_OFFER, SDP, handler=lambda ss, r: got.append((ss, r.status)))
    pump(a, b)
    ans.requests[0].accept(SDP_ANSWER, SDP)
    pump(a, b)
    assert got == [(s, 180), (s, 200)]
    info = []
    out = s.info(b"x", "text/plain", handler=lambda ss, r: info.append(r.status))
    pump(a, b)
    assert info == [469] and out.result().status == 469


def test_response_handler_object_only_its_methods(call_pair):
    class H:
        def __init__(self):
            self.accepted = []

        def on_accept(self, ss, r):
            self.accepted.append(r.status)

    h = H()
    a, b, s, bs, cd, bd, ans = call_pair(callee_handlers={"on_info": accept})
    out = s.info(b"x", "text/plain", handler=h)
    pump(a, b)
    assert h.accepted == [200] and out.done and out.result().status == 200
    # a rejection goes to on_reject, which this object lacks: not called
    h2 = H()
    out2 = s.request("FOO", handler=h2)
    pump(a, b)
    assert h2.accepted == [] and out2.result().status == 501

    class R:
        def __init__(self):
            self.rejected = []

        def on_reject(self, ss, r):
            self.rejected.append(r.status)
    h3 = R()
    s.request("FOO", handler=h3)
    pump(a, b)
    assert h3.rejected == [501]


def test_outgoing_repr_and_pending(call_pair):
    a, b, s, bs, cd, bd, ans = call_pair(callee_handlers={"on_info": accept})
    out = s.info(b"x", "text/plain")
    assert not out.done and out.response is None and "done=False" in repr(out)
    pump(a, b)
    assert out.done and "status=200" in repr(out)


# --------------------------------------------------------------------------
# defaults when the delegate does not handle a request

@pytest.mark.parametrize("send,status", [
    (lambda s: s.info(b"x", "text/plain"), 469),
    (lambda s: s.refer("sip:carol@127.0.0.1:9"), 603),
    (lambda s: s.invite(sdp("sendonly"), SDP), 488),
    (lambda s: s.request("FOO"), 501),
    (lambda s: s.update(sdp("sendrecv", version=7), SDP), 488),
    (lambda s: s.update(), 200),
    (lambda s: s.message("hi"), 200),
], ids=["info-469", "refer-603", "reinvite-488", "unknown-501", "update-offer-488",
        "update-refresh-200", "message-200"])
def test_defaults_without_callbacks(call_pair, send, status):
    a, b, s, bs, cd, bd, ans = call_pair()  # callee delegate handles nothing
    out = send(s)
    pump(a, b)
    assert out.result().status == status
    assert s.state == S.CONFIRMED and bs.state == S.CONFIRMED


def test_info_default_200_with_callback_that_does_not_answer(call_pair):
    a, b, s, bs, cd, bd, ans = call_pair(callee_handlers={"on_info": lambda ss, r: None})
    out = s.info(b"x", "text/plain")
    pump(a, b)
    assert out.result().status == 200 and bd.names() == ["on_info"]


def test_base_class_methods_are_not_installed(call_pair):
    """A Delegate subclass that overrides nothing keeps every default."""
    a, b, s, bs, cd, bd, ans = call_pair()
    assert isinstance(bd, sipsess.Delegate)
    out = bs.info(b"x", "text/plain")  # callee -> caller, caller delegate is a Recorder too
    pump(a, b)
    assert out.result().status == 469


def test_no_ua_delegate_gets_480(memnet_pair):
    net = sipsess.Memnet()
    a = sipsess.UA("mem:0", memnet=net, virtual_clock=True)
    b = sipsess.UA("mem:0", memnet=net, virtual_clock=True)
    try:
        s = a.invite(target(b), SDP_OFFER, SDP)
        pump(a, b)
        assert s.invitation.result().status == 480 and s.term_cause == T.REJECTED
    finally:
        a.close()
        b.close()


def test_set_delegate_replaces(call_pair):
    a, b, s, bs, cd, bd, ans = call_pair(callee_handlers={"on_info": lambda ss, r: r.reply(201)})
    out = s.info(b"x", "text/plain")
    pump(a, b)
    assert out.result().status == 201
    new = Recorder(on_info=lambda ss, r: r.reply(202))
    bs.set_delegate(new)
    out = s.info(b"x", "text/plain")
    pump(a, b)
    assert out.result().status == 202 and new.names() == ["on_info"]
    # no delegate at all: back to the default
    bs.set_delegate(None)
    out = s.info(b"x", "text/plain")
    pump(a, b)
    assert out.result().status == 469


# --------------------------------------------------------------------------
# enums, constants, errors

def test_enums_and_version():
    assert sipsess.SessionState.CONFIRMED == sipsess.core.SESSION_CONFIRMED
    assert sipsess.TermCause.UA_SHUTDOWN == sipsess.core.TERM_UA_SHUTDOWN
    assert sipsess.Method.INFO == sipsess.core.METHOD_INFO
    assert sipsess.Body.REMOTE_OFFER == sipsess.core.BODY_REMOTE_OFFER
    assert sipsess.version().count(".") == 2


def test_errors_map_to_exception_classes(memnet_pair):
    a, b = memnet_pair()
    with pytest.raises(sipsess.ParseError):
        a.invite("not a uri at all", SDP_OFFER, SDP)
    with pytest.raises(sipsess.NotFound):
        a.invite("sip:bob@127.0.0.1:5060;transport=tcp", SDP_OFFER, SDP)
    with pytest.raises(sipsess.InvalidArgument):
        sipsess.UA("bogus:spec")
    with pytest.raises(ValueError):
        sipsess.UA("mem:0", rel100="sometimes")
    with pytest.raises(TypeError):
        a.invite(target(b), 12345, SDP)
    e = None
    try:
        a.advance(-1)
    except sipsess.Error as exc:
        e = exc
    assert isinstance(e, sipsess.InvalidArgument) and e.code == sipsess.core.EINVAL
    assert e.name == "SIPSESS_EINVAL"
