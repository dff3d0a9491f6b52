#!/usr/bin/env python3
"""uas.py — an auto-answering user agent that logs every in-dialog request.

Shows: the UA delegate (new calls), a session delegate per call, keeping
a request to answer it later (the INVITE rings RING_MS first), SDP
answers that mirror hold (sendonly -> recvonly), INFO/MESSAGE/UPDATE
answered 200, and the target side of a blind transfer: a REFER is
accepted (202, the library sends "NOTIFY 100 Trying"), kept, and a new
call goes to its Refer-To URI; its 180 and final answer reach the
referrer through request.notify_refer(); the transferred call is hung up
HANGUP_MS after it is answered.

    PYTHONPATH=build/python /usr/bin/python3 examples/python/uas.py udp:127.0.0.1:5070 \
        [--calls N] [--max-time SEC]

Exits 0 once N incoming calls ended (and nothing else is in progress),
1 when --max-time (default 30 s) passes first; without --calls it runs
for --max-time and exits 0. Port 0 picks a free port: the first line
says which ("listening on udp:127.0.0.1:PORT"). Same program in C
(examples/c/uas.c) and Lua (examples/lua/uas.lua).
"""

import argparse
import sys

import sipsess

from common import SDP_TYPE, Log, Loop, cause_name, direction, mirror, refer_target, sdp, \
    state_name, status_text

RING_MS = 100      # 180 Ringing, then 200 OK this much later
HANGUP_MS = 500    # a transferred call is hung up this long after its 200

log = Log("uas")


class UAS(sipsess.UADelegate):
    def __init__(self):
        self.ua = None
        self.loop = None
        self.next_id = 0
        self.incoming_ended = 0
        self.live = 0          # sessions not yet terminated
        self.pending = 0       # our BYEs waiting for their response

    # a new incoming INVITE
    def on_invite(self, session, request):
        call = Call(self, session, True)
        self.live += 1
        session.set_delegate(call)
        offer = request.body
        log(f"call {call.id}: INVITE from {session.remote_uri} sdp {direction(offer)}")
        request.progress(180)
        request.keep()            # answered later, by the timer
        call.invite = request
        self.loop.later(RING_MS, call.answer)

    def on_request(self, request):
        log(f"out-of-dialog {request.method_name} (library default answer)")


class Call(sipsess.Delegate):
    """One session: its delegate, and what the example remembers of it."""

    def __init__(self, uas, session, incoming):
        uas.next_id += 1
        self.uas = uas
        self.id = uas.next_id
        self.session = session
        self.incoming = incoming
        self.version = 0          # our SDP version (o= line)
        self.invite = None        # the kept INVITE until answered
        self.refer = None         # a kept REFER we follow
        self.referrer = None      # the Call whose REFER made this call
        self.notified = 0         # last status sent to the referrer

    def log(self, text):
        log(f"call {self.id}: {text}")

    def sdp(self, direction):
        self.version += 1
        return sdp(self.version, direction, 5000 + 2 * self.id)

    def answer_body(self, offer):
        """The answer to an offer (mirrored direction), or our offer when
        the request had none."""
        return self.sdp(mirror(direction(offer)) if offer else "sendrecv")

    # ---- answering the INVITE ----
    def answer(self):
        req, self.invite = self.invite, None
        if req is None or self.session.state == sipsess.SessionState.TERMINATED:
            return
        body = self.answer_body(req.body)
        req.accept(body, SDP_TYPE)
        self.log(f"answered 200 OK sdp {direction(body)}")

    # ---- in-dialog requests ----
    def on_ack(self, session, request):
        self.log("ACK" + (f" sdp {direction(request.body)}" if request.body else ""))

    def on_ack_timeout(self, session, request):
        self.log("ACK timeout (the library sends BYE)")

    def on_invite(self, session, request):
        offer = request.body
        body = self.answer_body(offer)
        request.accept(body, SDP_TYPE)
        self.log(f"re-INVITE sdp {direction(offer)} -> 200 answer {direction(body)}")

    def on_update(self, session, request):
        offer = request.body
        if offer:
            body = self.answer_body(offer)
            request.accept(body, SDP_TYPE)
            self.log(f"UPDATE sdp {direction(offer)} -> 200 answer {direction(body)}")
        else:
            request.accept()
            self.log("UPDATE (no sdp) -> 200")

    def on_info(self, session, request):
        request.accept()
        self.log(f"INFO {request.content_type} {len(request.body)} bytes -> 200")

    def on_message(self, session, request):
        request.accept()
        text = request.body.decode("utf-8", "replace")[:40]
        self.log(f"MESSAGE {request.content_type} \"{text}\" -> 200")

    def on_notify(self, session, request):
        request.accept()
        self.log(f"NOTIFY {request.header('Event')} -> 200")

    def on_prack(self, session, request):
        self.log("PRACK (library answers 200)")

    def on_cancel(self, session, request):
        self.log("CANCEL (library answers 200, 487 to the INVITE)")

    def on_request(self, session, request):
        self.log(f"{request.method_name} (library answers 501)")

    def on_bye(self, session, request):
        self.log("BYE (library answers 200)")

    # ---- blind transfer, target side (RFC 3515) ----
    def on_refer(self, session, request):
        to = request.header("Refer-To")
        if not to:
            request.reject(400, "Missing Refer-To")
            self.log("REFER without Refer-To -> 400")
            return
        if self.refer is not None:
            request.reject(491)
            self.log("REFER while another runs -> 491")
            return
        target = refer_target(to)
        request.accept()          # 202; the library sends NOTIFY "100 Trying"
        request.keep()            # for notify_refer() after this callback
        self.refer = request
        self.log(f"REFER to {target} -> 202")
        self.uas.loop.later(0, self.transfer, target)

    def transfer(self, target):
        call = Call(self.uas, None, False)
        call.referrer = self
        try:
            call.session = self.uas.ua.invite(target, call.sdp("sendrecv"), SDP_TYPE,
                                              delegate=call, handler=call.on_transfer_response)
        except sipsess.Error as e:
            self.log(f"calling {target} failed: {e}")
            self.notify_referrer(503, "Service Unavailable")
            return
        self.uas.live += 1
        call.log(f"calling {target} (transfer from call {self.id})")

    def on_transfer_response(self, session, resp):
        if resp is not None and resp.status == 100:
            return
        self.log(f"{status_text(resp)} from the transfer target")
        if resp is None:
            self.referrer.notify_referrer(408, "Request Timeout")
        else:
            self.referrer.notify_referrer(resp.status, resp.reason)
        if resp is not None and 200 <= resp.status < 300:
            self.uas.loop.later(HANGUP_MS, self.hangup)

    def notify_referrer(self, status, reason):
        if self.refer is None or status <= self.notified:
            return
        self.notified = status
        try:
            self.refer.notify_refer(status, reason)
            self.log(f"NOTIFY to the referrer: {status} {reason}")
        except sipsess.Error as e:
            self.log(f"NOTIFY to the referrer not sent: {e}")
        if status >= 200:
            self.refer = None     # final: the subscription ended

    def hangup(self):
        if self.session.state == sipsess.SessionState.TERMINATED:
            return
        self.log("hanging up the transferred call")
        self.uas.pending += 1
        self.session.bye(handler=self.on_bye_response)

    def on_bye_response(self, session, resp):
        if resp is not None and resp.status < 200:
            return
        self.uas.pending -= 1
        self.log(f"BYE -> {status_text(resp)}")

    # ---- state ----
    def on_state_change(self, session, state):
        self.log(f"state {state_name(state)}")

    def on_terminated(self, session, cause):
        self.log(f"terminated {cause_name(cause)}")
        self.uas.live -= 1
        if self.incoming:
            self.uas.incoming_ended += 1
        self.invite = None
        self.refer = None


def main(argv):
    p = argparse.ArgumentParser(prog="uas.py", description=__doc__.split("\n\n")[0])
    p.add_argument("listen", nargs="?", default="udp:127.0.0.1:5070")
    p.add_argument("--calls", type=int, default=0, help="exit 0 after N incoming calls ended")
    p.add_argument("--max-time", type=float, default=30.0, help="always exit after SEC seconds")
    opt = p.parse_args(argv)

    uas = UAS()
    with sipsess.UA(opt.listen, identity="sip:uas@127.0.0.1", delegate=uas,
                    raise_errors=True) as ua:
        uas.ua, uas.loop = ua, Loop(ua)
        log(f"listening on {ua.listener(0)}")

        def done():
            return (opt.calls > 0 and uas.incoming_ended >= opt.calls
                    and uas.live == 0 and uas.pending == 0)

        if uas.loop.run(done, opt.max_time):
            log(f"done: {uas.incoming_ended} calls ended")
            return 0
        if opt.calls > 0:
            log(f"max time reached: {uas.incoming_ended} of {opt.calls} calls ended")
            return 1
        log(f"max time reached: {uas.incoming_ended} calls ended")
        return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
