#!/usr/bin/env python3
"""transfer.py — call B, then transfer B to C (blind transfer, RFC 3515).

Shows: the referrer side of a REFER: once the call to B is answered it
sends REFER with Refer-To: TARGET, then follows the transfer through the
NOTIFYs B sends (on_notify; request.sipfrag_status is the status line of
their message/sipfrag body: 100 Trying, 180 Ringing, 200 OK). When the
sipfrag says 2xx the transfer worked: it hangs up its own call (BYE).

    PYTHONPATH=build/python /usr/bin/python3 examples/python/transfer.py \
        sip:bob@127.0.0.1:5070 sip:carol@127.0.0.1:5071 \
        [--listen udp:127.0.0.1:0] [--max-time SEC]

Exits 0 after the BYE that follows a 2xx sipfrag got its 2xx; 1 when the
REFER is refused, the sipfrag reports a failure, or --max-time (default
10 s) passes. Run examples/*/uas.* as B and C. Same program in C
(examples/c/transfer.c) and Lua (examples/lua/transfer.lua).
"""

import argparse
import sys

import sipsess

from common import SDP_TYPE, Log, Loop, cause_name, first_line, sdp, status_text

log = Log("transfer")


class Transfer(sipsess.Delegate):
    def __init__(self, ua, loop, target):
        self.ua = ua
        self.loop = loop
        self.target = target
        self.session = None
        self.result = None        # 0 success, 1 failure
        self.final = 0            # the final sipfrag status

    def finish(self, code, text):
        if self.result is None:
            self.result = code
            log(text)

    def fail(self, text):
        self.finish(1, f"FAIL: {text}")
        s = self.session
        if s is not None and s.state == sipsess.SessionState.CONFIRMED:
            s.bye()

    def call(self, uri):
        log(f"calling {uri}")
        self.session = self.ua.invite(uri, sdp(1), SDP_TYPE, delegate=self,
                                      handler=self.on_invite_response)

    def on_invite_response(self, session, resp):
        if resp is not None and resp.status < 200:
            return
        if resp is None or resp.status >= 300:
            return self.fail(f"INVITE -> {status_text(resp)}")
        log(f"INVITE -> {status_text(resp)}")
        self.loop.later(0, self.refer)

    def refer(self):
        try:
            self.session.refer(self.target, handler=self.on_refer_response)
        except sipsess.Error as e:
            self.fail(f"REFER not sent: {e}")

    def on_refer_response(self, session, resp):
        if resp is not None and resp.status < 200:
            return
        if resp is None or resp.status >= 300:
            return self.fail(f"REFER to {self.target} -> {status_text(resp)}")
        log(f"REFER to {self.target} -> {status_text(resp)}")

    # The progress of the transfer (RFC 3515 §2.4.5).
    def on_notify(self, session, request):
        status = request.sipfrag_status
        ended = request.subscription_terminated
        request.accept()
        log(f"NOTIFY sipfrag \"{first_line(request.body)}\""
            + (" (subscription terminated)" if ended else ""))
        if status >= 200 and not self.final:
            self.final = status
            if status < 300:
                self.loop.later(0, self.hangup)
            else:
                self.fail(f"the transfer failed: {status}")
        elif ended and not self.final:
            self.fail("the subscription ended without a final status")

    def hangup(self):
        try:
            self.session.bye(handler=self.on_bye_response)
        except sipsess.Error as e:
            self.fail(f"BYE not sent: {e}")

    def on_bye_response(self, session, resp):
        if resp is not None and resp.status < 200:
            return
        if resp is None or resp.status >= 300:
            return self.fail(f"BYE -> {status_text(resp)}")
        log(f"BYE -> {status_text(resp)}")
        self.finish(0, "PASS")

    def on_terminated(self, session, cause):
        log(f"call ended: {cause_name(cause)}")
        if self.result is None and cause != sipsess.TermCause.LOCAL_BYE:
            self.fail(f"the call ended early ({cause_name(cause)})")


def main(argv):
    p = argparse.ArgumentParser(prog="transfer.py", description=__doc__.split("\n\n")[0])
    p.add_argument("uri", help="B, the party called then transferred")
    p.add_argument("target", help="C, the Refer-To URI")
    p.add_argument("--listen", default="udp:127.0.0.1:0")
    p.add_argument("--max-time", type=float, default=10.0)
    opt = p.parse_args(argv)

    with sipsess.UA(opt.listen, identity="sip:transfer@127.0.0.1", raise_errors=True) as ua:
        loop = Loop(ua)
        t = Transfer(ua, loop, opt.target)
        try:
            t.call(opt.uri)
        except sipsess.Error as e:
            log(f"FAIL: cannot call {opt.uri}: {e}")
            return 1
        if not loop.run(lambda: t.result is not None, opt.max_time):
            t.finish(1, f"FAIL: timeout after {opt.max_time:g} s")
            return 1
        return t.result


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
