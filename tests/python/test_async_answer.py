"""Answering later: request.keep() and an answer from a later loop turn;
without keep() the handle expires with its callback (StateError)."""

import gc

import pytest

import sipsess
from conftest import SDP, SDP_ANSWER, SDP_OFFER, Answerer, pump, target

S = sipsess.SessionState


def test_keep_info_and_answer_later(call_pair):
    kept = []

    def on_info(s, r):
        r.keep()
        kept.append(r)

    a, b, s, bs, cd, bd, ans = call_pair(callee_handlers={"on_info": on_info})
    out = s.info(b"q", "text/plain")
    pump(a, b)
    assert len(kept) == 1 and not out.done  # unanswered across loop turns
    req = kept[0]
    assert req.valid and not req.answered and req.body == b"q"
    req.accept(b"later", "text/plain")
    assert req.answered
    pump(a, b)
    assert out.result().status == 200 and out.result().body == b"later"
    with pytest.raises(sipsess.StateError):  # answered once only
        req.accept()


def test_keep_invite_and_answer_later(memnet_pair):
    invites = []

    def answer(s, r):
        r.keep()
        invites.append(r)

    ans = Answerer(answer=answer)
    a, b = memnet_pair(ans)
    s = a.invite(target(b), SDP_OFFER, SDP)
    pump(a, b)
    assert s.state == S.INITIAL and not s.invitation.done
    pump(a, b, n=100)  # 1 s unanswered: the library sends 100 Trying
    assert [m.status for m in s.invitation.provisional] == [100]
    assert s.state == S.INITIAL
    invites[0].progress(180)
    pump(a, b)
    assert s.state == S.EARLY
    invites[0].accept(SDP_ANSWER, SDP)
    pump(a, b)
    assert s.state == S.CONFIRMED and ans.sessions[0].state == S.CONFIRMED


def test_answer_after_callback_without_keep_raises(call_pair):
    seen = []
    a, b, s, bs, cd, bd, ans = call_pair(
        callee_handlers={"on_info": lambda ss, r: seen.append(r)})
    out = s.info(b"q", "text/plain")
    pump(a, b)
    assert out.result().status == 200  # the library's default, at once
    req = seen[0]
    assert req.valid is False and req.method is None and req.body == b""
    assert repr(req) == "<sipsess.Request (expired)>"
    for call in (lambda: req.accept(), lambda: req.reply(200), lambda: req.reject(),
                 lambda: req.progress(), lambda: req.keep(), lambda: req.trying(),
                 lambda: req.redirect("sip:x@127.0.0.1"), lambda: req.notify_refer(200)):
        with pytest.raises(sipsess.StateError):
            call()
    assert req.header("Content-Type") is None and req.message() is None
    assert req.session() is None


def test_kept_request_dropped_unanswered_gets_500(call_pair):
    kept = []

    def on_info(s, r):
        r.keep()
        kept.append(r)

    a, b, s, bs, cd, bd, ans = call_pair(callee_handlers={"on_info": on_info})
    out = s.info(b"q", "text/plain")
    pump(a, b)
    assert not out.done
    kept.clear()  # the last references: collected, unanswered
    bd.events.clear()
    gc.collect()
    pump(a, b)
    assert out.result().status == 500
    assert s.state == S.CONFIRMED


def test_kept_request_message_outlives_handle(call_pair):
    msgs = []
    a, b, s, bs, cd, bd, ans = call_pair(
        callee_handlers={"on_info": lambda ss, r: msgs.append(r.msg)})
    s.info(b"body!", "text/plain", headers={"X-A": "1"})
    pump(a, b)
    m = msgs[0]
    assert m.is_request and m.method_name == "INFO" and m.body == b"body!"
    assert m.header("X-A") == "1" and m.header("x-a") == "1"
    assert m.raw.startswith(b"INFO sip:")
    assert m.uri.startswith("sip:")
    assert dict(m.headers)["CSeq"].endswith("INFO")
