"""Python-scripted UAS of `make bench` (uas_python): answers every INVITE
200 with an SDP answer, logs nothing per call, exits after --count calls
ended (or on SIGTERM), printing the lines bench/uas_bench.sh reads:
  listening udp:127.0.0.1:PORT
  calls attempted A ok K failed F
  rusage utime_us U stime_us S maxrss_kb M   (CPU used after start-up)
"""
import argparse
import resource
import signal
import sys

import sipsess

SDP = (b"v=0\r\no=bench 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       b"m=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")


class Call(sipsess.Delegate):
    def __init__(self, app):
        self.app = app

    def on_terminated(self, session, cause):
        app = self.app
        app.ended += 1
        if cause == sipsess.TermCause.REMOTE_BYE or cause == sipsess.TermCause.LOCAL_BYE:
            app.ok += 1
        if app.ended >= app.count:
            app.ua.stop()


class Answer(sipsess.UADelegate):
    def __init__(self, app):
        self.app = app
        self.call = Call(app)

    def on_invite(self, session, request):
        self.app.attempted += 1
        session.set_delegate(self.call)
        request.accept(SDP, "application/sdp")


class App:
    attempted = ok = ended = 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", default="udp:127.0.0.1:0")
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--t1", type=int)
    args = ap.parse_args()
    app = App()
    app.count = args.count
    with sipsess.UA(args.listen, t1=args.t1, delegate=Answer(app)) as ua:
        app.ua = ua
        signal.signal(signal.SIGTERM, lambda *_: ua.stop())
        print("listening", ua.listener(0), flush=True)
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        ua.run()
        r1 = resource.getrusage(resource.RUSAGE_SELF)
    print(f"calls attempted {app.attempted} ok {app.ok} failed {app.attempted - app.ok}")
    print("rusage utime_us %d stime_us %d maxrss_kb %d" % (
        (r1.ru_utime - r0.ru_utime) * 1e6, (r1.ru_stime - r0.ru_stime) * 1e6, r1.ru_maxrss),
        flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
