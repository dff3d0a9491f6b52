#!/usr/bin/env python3
"""hold.py — call, put the call on hold and take it back, hang up.

Shows: placing a call with an SDP offer, then in-dialog requests one
after the other, each sent when the previous one got its final response:
re-INVITE with a=sendonly (hold: the answer must say recvonly or
inactive), INFO, MESSAGE, re-INVITE with a=sendrecv (unhold: the answer
must say sendrecv), UPDATE without a body, BYE. Each 200 to a re-INVITE
must carry an SDP answer.

    PYTHONPATH=build/python /usr/bin/python3 examples/python/hold.py sip:bob@127.0.0.1:5070 \
        [--listen udp:127.0.0.1:0] [--max-time SEC]

Exits 0 when every step got its 2xx, 1 on the first failure or after
--max-time (default 10 s). Run examples/*/uas.* as the peer. Same program
in C (examples/c/hold.c) and Lua (examples/lua/hold.lua).
"""

import argparse
import sys

import sipsess

from common import SDP_TYPE, Log, Loop, cause_name, direction, sdp, status_text

log = Log("hold")

# (what, request, direction of our offer, directions accepted in the answer)
STEPS = [
    ("hold", "INVITE", "sendonly", ("recvonly", "inactive")),
    ("dtmf", "INFO", None, None),
    ("text", "MESSAGE", None, None),
    ("unhold", "INVITE", "sendrecv", ("sendrecv",)),
    ("refresh", "UPDATE", None, None),
    ("hangup", "BYE", None, None),
]


class Hold(sipsess.Delegate):
    def __init__(self, ua, loop):
        self.ua = ua
        self.loop = loop
        self.session = None
        self.version = 0
        self.step = -1
        self.result = None        # 0 success, 1 failure

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
        self.version += 1
        log(f"calling {uri}")
        self.session = self.ua.invite(uri, sdp(self.version), SDP_TYPE, delegate=self,
                                      handler=self.on_invite_response)

    def on_invite_response(self, session, resp):
        if resp is not None and resp.status < 200:
            log(f"{status_text(resp)}")
            return
        if resp is None or resp.status >= 300:
            return self.fail(f"INVITE -> {status_text(resp)}")
        log(f"INVITE -> {status_text(resp)} sdp {direction(resp.body)}")
        if not resp.body:
            return self.fail("the 200 carries no SDP answer")
        self.loop.later(0, self.next_step)

    def next_step(self):
        self.step += 1
        what, method, offer_dir, _ = STEPS[self.step]
        s = self.session
        h = self.on_step_response
        try:
            if method == "INVITE":
                self.version += 1
                s.invite(sdp(self.version, offer_dir), SDP_TYPE, handler=h)
            elif method == "INFO":
                s.info("Signal=5\r\nDuration=160\r\n", "application/dtmf-relay", handler=h)
            elif method == "MESSAGE":
                s.message("on hold for a moment", "text/plain", handler=h)
            elif method == "UPDATE":
                s.update(handler=h)
            else:
                s.bye(handler=h)
        except sipsess.Error as e:
            self.fail(f"{what}: {method} not sent: {e}")

    def on_step_response(self, session, resp):
        if resp is not None and resp.status < 200:
            return
        what, method, offer_dir, want = STEPS[self.step]
        label = f"{what}: {method}" + (f" {offer_dir}" if offer_dir else "")
        if resp is None or resp.status >= 300:
            return self.fail(f"{label} -> {status_text(resp)}")
        if want is not None:
            got = direction(resp.body)
            log(f"{label} -> {status_text(resp)} answer {got}")
            if not resp.body:
                return self.fail(f"{label}: the 200 carries no SDP answer")
            if got not in want:
                return self.fail(f"{label}: answer {got}, expected {' or '.join(want)}")
        else:
            log(f"{label} -> {status_text(resp)}")
        if method == "BYE":
            self.finish(0, "PASS")
        else:
            self.loop.later(0, self.next_step)

    def on_terminated(self, session, cause):
        log(f"call ended: {cause_name(cause)}")
        if self.result is None and cause != sipsess.TermCause.LOCAL_BYE:
            self.fail(f"the call ended early ({cause_name(cause)})")


def main(argv):
    p = argparse.ArgumentParser(prog="hold.py", description=__doc__.split("\n\n")[0])
    p.add_argument("uri")
    p.add_argument("--listen", default="udp:127.0.0.1:0")
    p.add_argument("--max-time", type=float, default=10.0)
    opt = p.parse_args(argv)

    with sipsess.UA(opt.listen, identity="sip:hold@127.0.0.1", raise_errors=True) as ua:
        loop = Loop(ua)
        h = Hold(ua, loop)
        try:
            h.call(opt.uri)
        except sipsess.Error as e:
            log(f"FAIL: cannot call {opt.uri}: {e}")
            return 1
        if not loop.run(lambda: h.result is not None, opt.max_time):
            h.finish(1, f"FAIL: timeout after {opt.max_time:g} s (step {h.step + 1})")
            return 1
        return h.result


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
