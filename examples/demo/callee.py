"""The callee side of `make demo`: Bob, a Python-scripted UAS, and Carol, the
target Bob is transferred to, both in one asyncio program.

Bob answers a call with a reliable 183 (100rel/PRACK) then 200, logs every
in-dialog request his delegate gets (INFO, re-INVITEs, MESSAGE, REFER,
BYE), follows the REFER by calling Carol (an async callback awaiting the new
call) and reports its progress to the caller with NOTIFY. Carol's UA prints
the Bob <-> Carol messages of the ladder; the caller (caller.lua) prints the
Alice <-> Bob ones.

    PYTHONPATH=build/python python3 examples/demo/callee.py --ready FILE
writes "BOB_PORT CAROL_PORT" to FILE once listening, exits 0 when the call
and the transfer are over (non-zero on failure or after --timeout).
"""

import argparse
import asyncio
import sys

import sipsess

COL = 34  # where Bob's column starts in the shared ladder


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def note(who: str, text: str) -> None:
    say(" " * COL + f"* {who}.{text}")


def sdp(user: str, port: int, direction: str) -> bytes:
    return (f"v=0\r\no={user} 1 1 IN IP4 127.0.0.1\r\ns=demo\r\nc=IN IP4 127.0.0.1\r\n"
            f"t=0 0\r\nm=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na={direction}\r\n"
            ).encode()


def direction_of(body: bytes) -> str:
    for d in ("sendonly", "recvonly", "inactive", "sendrecv"):
        if b"a=" + d.encode() in body:
            return d
    return "sendrecv"


ANSWER = {"sendonly": "recvonly", "recvonly": "sendonly", "inactive": "inactive",
          "sendrecv": "sendrecv"}


def summary(data: bytes) -> str:
    head, _, body = data.partition(b"\r\n\r\n")
    first = head.split(b"\r\n", 1)[0].decode(errors="replace")
    text = first.split(" ")[0] if not first.startswith("SIP/2.0") else first[8:]
    if body.startswith(b"v=0"):
        text += f" (SDP {direction_of(body)})"
    elif body.startswith(b"SIP/2.0"):
        text += f" (sipfrag {body.decode(errors='replace').strip()})"
    return text


def carol_trace(outgoing, transport, local, remote, data):
    """Bob <-> Carol arrows, drawn from Carol's side."""
    text = summary(data)
    pad = " " * COL
    if outgoing:
        say(pad + "|<" + f" {text} ".center(30, "-") + "|  carol")
    else:
        say(pad + "|" + f" {text} ".center(30, "-") + ">|  carol")


class BobCall(sipsess.Delegate):
    """Bob's side of the call from Alice."""

    def __init__(self, app):
        self.app = app

    def on_prack(self, session, request):
        note("bob", "on_prack: the reliable 183 is acknowledged; now 200 OK")
        request.accept()
        self.app.invite.accept(sdp("bob", 40000, "sendrecv"), "application/sdp")
        self.app.invite = None

    def on_ack(self, session, request):
        note("bob", f"on_ack: session {session.state.name}")

    def on_info(self, session, request):
        note("bob", f"on_info: {request.content_type} {request.body.decode().strip()!r}")
        request.accept()

    def on_invite(self, session, request):
        d = direction_of(request.body)
        note("bob", f"on_invite (re-INVITE): offer {d}, answering {ANSWER[d]}"
             + ("  -> on hold" if d == "sendonly" else "  -> off hold"))
        request.accept(sdp("bob", 40000, ANSWER[d]), "application/sdp")

    def on_message(self, session, request):
        note("bob", f"on_message: {request.body.decode()!r}")
        request.accept()

    async def on_refer(self, session, request):
        target = request.header("Refer-To").strip("<>")
        note("bob", f"on_refer: transfer to {target} (async callback)")
        request.accept()  # 202, and the first NOTIFY (100 Trying) goes by itself
        call = self.app.bob.call(target, sdp("bob", 40002, "sendrecv"), "application/sdp",
                                 handler=lambda s, r: r is not None and r.status == 180
                                 and request.notify_refer(180))
        resp = await call
        note("bob", f"transfer call answered {resp.status}: NOTIFY sipfrag {resp.status}")
        request.notify_refer(resp.status)
        self.app.carol_call = call.session

    def on_bye(self, session, request):
        note("bob", "on_bye: Alice hung up")

    def on_terminated(self, session, cause):
        note("bob", f"on_terminated: {sipsess.TermCause(cause).name}")
        self.app.alice_done = True
        self.app.check_done()


class Bob(sipsess.UADelegate):
    def __init__(self, app):
        self.app = app

    def on_invite(self, session, request):
        note("bob", f"on_invite: call from {session.remote_uri}; 183 reliable with the answer")
        session.set_delegate(BobCall(self.app))
        d = direction_of(request.body)
        request.keep()
        request.progress(183, body=sdp("bob", 40000, ANSWER[d]), content_type="application/sdp",
                         reliable=1)
        self.app.invite = request


class Carol(sipsess.UADelegate):
    def __init__(self, app):
        self.app = app

    def on_invite(self, session, request):
        note("carol", "on_invite: ringing, then answer")
        session.set_delegate(CarolCall(self.app))
        request.progress(180)
        request.accept(sdp("carol", 40004, "sendrecv"), "application/sdp")


class CarolCall(sipsess.Delegate):
    def __init__(self, app):
        self.app = app

    def on_bye(self, session, request):
        note("carol", "on_bye")

    def on_terminated(self, session, cause):
        note("carol", f"on_terminated: {sipsess.TermCause(cause).name}")
        self.app.carol_done = True
        self.app.check_done()


class App:
    def __init__(self):
        self.invite = None
        self.carol_call = None
        self.alice_done = False
        self.carol_done = False
        self.bob = sipsess.UA("udp:127.0.0.1:0", identity="sip:bob@127.0.0.1",
                              user_agent="demo-bob (Python)", rel100="supported",
                              delegate=Bob(self))
        self.carol = sipsess.UA("udp:127.0.0.1:0", identity="sip:carol@127.0.0.1",
                                user_agent="demo-carol (Python)", trace=carol_trace,
                                delegate=Carol(self))

    def check_done(self):
        # Alice hung up on Bob: Bob ends the transferred call too.
        if self.alice_done and self.carol_call is not None and not self.carol_done:
            if self.carol_call.state == sipsess.SessionState.CONFIRMED:
                note("bob", "hangs up the call with Carol")
                self.carol_call.bye()
        if self.alice_done and self.carol_done:
            self.bob.stop()
            self.carol.stop()


async def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ready", required=True, help="file to write 'BOB_PORT CAROL_PORT' to")
    ap.add_argument("--timeout", type=float, default=20.0)
    args = ap.parse_args()
    app = App()
    with app.bob, app.carol:
        with open(args.ready + ".tmp", "w") as f:
            f.write(f"{app.bob.port()} {app.carol.port()}\n")
        import os
        os.replace(args.ready + ".tmp", args.ready)
        try:
            await asyncio.wait_for(asyncio.gather(app.bob.serve(), app.carol.serve()),
                                   args.timeout)
        except asyncio.TimeoutError:
            say("callee: timeout")
            return 1
    return 0 if (app.alice_done and app.carol_done) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
