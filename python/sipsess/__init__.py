"""libsipsess for Python: SIP sessions (RFC 3261 INVITE dialogs) you script.

    import sipsess

    class Answer(sipsess.UADelegate):
        def on_invite(self, session, request):
            session.set_delegate(Logger())
            request.accept(SDP, "application/sdp")

    class Logger(sipsess.Delegate):
        def on_info(self, session, request):
            print("INFO", request.body)
            request.accept()

    with sipsess.UA("udp:127.0.0.1:5060", delegate=Answer()) as ua:
        ua.run()

The objects (UA, Session, Request, Message) are the SWIG proxies of the C
library, extended here with keyword arguments, enums, exceptions,
awaitable outgoing requests and a context manager; sipsess.aio runs a UA
under asyncio.

Rules worth knowing:
  * Callbacks run only inside the loop calls (run, step, process, advance,
    or the asyncio adapter) and close(), on the thread making them.
  * A Request is valid during its callback; call request.keep() to answer
    it later (an ``async def`` callback keeps it by itself). Using it after
    that raises StateError, it never crashes.
  * A session's delegate is referenced until the session is Terminated; a
    Session object stays usable (its methods raise StateError) after that.
  * An exception in a callback goes to sys.unraisablehook and the request
    gets 500 if unanswered; with ``UA(..., raise_errors=True)`` it is raised
    from the loop call instead.
"""

from __future__ import annotations

import enum
import logging
from typing import Any, Callable, Iterable, Mapping, Optional, Union

from . import core as _c

__all__ = [
    "UA", "Session", "Request", "Message", "Memnet", "Delegate", "UADelegate",
    "Outgoing", "Error", "InvalidArgument", "StateError", "NotFound", "Timeout",
    "TransportError", "LimitError", "ParseError", "NoMemory",
    "SessionState", "SignalingState", "TermCause", "Method", "LogLevel", "Body", "Limit",
    "version",
]

Session = _c.Session
Request = _c.Request
Message = _c.Message
Memnet = _c.Memnet

Headers = Union[None, str, Mapping[str, str], Iterable[tuple]]
BodyT = Union[None, bytes, bytearray, memoryview, str]


def version() -> str:
    """The version of the loaded C library."""
    return _c.sipsess_version()


# --------------------------------------------------------------------------
# errors

class Error(Exception):
    """A libsipsess error: ``code`` (negative), ``name`` ("SIPSESS_ESTATE")
    and the library's text."""

    def __init__(self, code: int, name: str, message: str):
        super().__init__(f"{name}: {message}")
        self.code = code
        self.name = name
        self.message = message


class InvalidArgument(Error, ValueError):
    """SIPSESS_EINVAL / ESTATUS: a bad argument."""


class StateError(Error):
    """SIPSESS_ESTATE / EBUSY: not allowed in the object's state (a session
    after Terminated, a request already answered or used after its
    callback without keep())."""


class NotFound(Error, LookupError):
    """SIPSESS_ENOTFOUND: no listener for the target's transport, ..."""


class Timeout(Error, TimeoutError):
    """SIPSESS_ETIMEDOUT: no response in time."""


class TransportError(Error, ConnectionError):
    """SIPSESS_ETRANSPORT: the transport could not deliver."""


class LimitError(Error):
    """SIPSESS_ELIMIT: a configured limit was reached."""


class ParseError(Error, ValueError):
    """A syntax-layer error (malformed URI, message, header)."""


class NoMemory(Error, MemoryError):
    """SIPSESS_ENOMEM."""


_ERRORS = {
    _c.EINVAL: InvalidArgument, _c.ESTATUS: InvalidArgument, _c.ESTATE: StateError,
    _c.EBUSY: StateError, _c.ENOTFOUND: NotFound, _c.ETIMEDOUT: Timeout,
    _c.ETRANSPORT: TransportError, _c.ELIMIT: LimitError, _c.ENOMEM: NoMemory,
}


def _make_error(code: int, name: str, text: str) -> Error:
    cls = _ERRORS.get(code) or (ParseError if code <= -20 else Error)
    return cls(code, name, text)


_c._set_error_factory(_make_error)


def _timeout_error() -> Timeout:
    return Timeout(_c.ETIMEDOUT, _c.sipsess_errname(_c.ETIMEDOUT),
                   _c.sipsess_strerror(_c.ETIMEDOUT))


# --------------------------------------------------------------------------
# enums

def _enum(name: str, prefix: str, doc: str) -> type:
    members = {k[len(prefix):]: getattr(_c, k) for k in dir(_c)
               if k.startswith(prefix) and isinstance(getattr(_c, k), int)}
    e = enum.IntEnum(name, members)
    e.__doc__ = doc
    e.__module__ = __name__
    return e


SessionState = _enum("SessionState", "SESSION_", "State of a session (INVITE dialog usage).")
SignalingState = _enum("SignalingState", "SIGNALING_", "Offer/answer state (RFC 3264, 6337).")
TermCause = _enum("TermCause", "TERM_", "Why a session ended.")
Method = _enum("Method", "METHOD_", "SIP methods the library knows (OTHER for the rest).")
LogLevel = _enum("LogLevel", "LOG_", "Levels of the library's log lines.")
Body = _enum("Body", "BODY_", "Which offer/answer body Session.body() returns.")
Limit = _enum("Limit", "LIMIT_", "Limits set with UA(limits={...}).")


def _prop(getter, conv, doc):
    return property(lambda self: conv(getter(self)), doc=doc)


_k = _c._core
Session.state = _prop(_k.Session_state_get, SessionState, "SessionState of the session.")
Session.signaling_state = _prop(_k.Session_signaling_state_get, SignalingState,
                                "Offer/answer state (SignalingState).")
Session.term_cause = _prop(_k.Session_term_cause_get, TermCause,
                           "Why it ended (TermCause.NONE while it lives).")
Session.outgoing = _prop(_k.Session_outgoing_get, bool, "True for a session this UA called out.")
Request.method = _prop(_k.Request_method_get,
                       lambda m: Method(m) if m >= 0 else None, "The Method (None when invalid).")
Request.valid = _prop(_k.Request_valid_get, bool,
                      "True during its callback, or after keep() until collected.")
Request.answered = _prop(_k.Request_answered_get, bool, "True once a final answer went out.")
Request.subscription_terminated = _prop(_k.Request_subscription_terminated_get, bool,
                                        "NOTIFY: its Subscription-State is terminated.")
Message.is_request = _prop(_k.Message_is_request_get, bool, "True for a request.")


def _headers(h: Headers) -> Optional[str]:
    """Extra header lines: a "Name: value" string (CRLF-separated), a
    mapping or pairs."""
    if h is None or isinstance(h, str):
        return h
    items = h.items() if isinstance(h, Mapping) else h
    return "\r\n".join(f"{k}: {v}" for k, v in items)


# --------------------------------------------------------------------------
# outgoing requests

_RD_NAMES = ("on_trying", "on_progress", "on_accept", "on_redirect", "on_reject")


class Outgoing:
    """A request we sent. ``await`` it for the final response (a Message;
    a rejection is a response too: check ``.status``); raises Timeout when
    the request timed out or could not be sent. ``handler`` (a function
    ``fn(session, response)`` for every response, or an object with
    on_trying/on_progress/on_accept/on_redirect/on_reject) is called as the
    responses arrive."""

    __slots__ = ("handler", "session", "response", "provisional", "done", "_futures")

    def __init__(self, handler: Any = None):
        self.handler = handler
        self.session: Optional[Session] = None
        self.response: Optional[Message] = None
        self.provisional: list = []
        self.done = False
        self._futures: list = []

    def _deliver(self, kind: str, session, resp, final: bool) -> None:
        if self.session is None:
            self.session = session
        if final and not self.done:
            self.done = True
            self.response = resp
        elif not final and resp is not None:
            self.provisional.append(resp)
        try:
            h = self.handler
            if h is not None:
                m = getattr(h, kind, None)
                if m is not None and callable(m):
                    m(session, resp)
                elif callable(h) and not any(hasattr(h, n) for n in _RD_NAMES):
                    h(session, resp)
        finally:
            if final:
                self._wake()

    def _wake(self) -> None:
        futures, self._futures = self._futures, []
        for f in futures:
            if not f.done():
                f.set_result(None)

    def on_trying(self, s, r): self._deliver("on_trying", s, r, False)
    def on_progress(self, s, r): self._deliver("on_progress", s, r, False)
    def on_accept(self, s, r): self._deliver("on_accept", s, r, True)
    def on_redirect(self, s, r): self._deliver("on_redirect", s, r, True)
    def on_reject(self, s, r): self._deliver("on_reject", s, r, True)

    def result(self) -> Message:
        """The final response (after done), or raises Timeout / StateError."""
        if not self.done:
            raise StateError(_c.ESTATE, "SIPSESS_ESTATE", "no final response yet")
        if self.response is None:
            raise _timeout_error()
        return self.response

    def __await__(self):
        if not self.done:
            import asyncio
            f = asyncio.get_running_loop().create_future()
            self._futures.append(f)
            yield from f.__await__()
        return self.result()

    def __repr__(self) -> str:
        st = self.response.status if self.response is not None else None
        return f"<sipsess.Outgoing done={self.done} status={st}>"


_SESSION_DOCS = {
    "info": "INFO (RFC 6086), also in an early dialog.",
    "invite": "re-INVITE: body is the offer (None asks the peer for one; answer it with ack()). "
              "A 491 is retried by the library (§14.1); the handler sees the retry's responses.",
    "update": "UPDATE (RFC 3311): with a body an offer, without one a target refresh.",
    "message": "MESSAGE in the dialog (RFC 3428); content type default text/plain.",
    "notify": "NOTIFY in the dialog; put Event and Subscription-State in headers.",
    "prack": "PRACK for the last reliable 1xx (automatic unless UA(auto_prack=False)).",
}


def _body_sender(name: str):
    raw = getattr(Session, name)

    def send(self, body: BodyT = None, content_type: Optional[str] = None,
             headers: Headers = None, handler: Any = None) -> Outgoing:
        out = Outgoing(handler)
        raw(self, body, content_type, _headers(headers), out)
        return out
    send.__name__ = name
    send.__qualname__ = "Session." + name
    send.__doc__ = (_SESSION_DOCS[name] + "\n\nReturns an Outgoing: await it for the final "
                    "response; handler (fn(session, response) or an object with on_accept, "
                    "on_reject, ...) sees every response. Raises StateError when the session's "
                    "state forbids it.")
    return send


for _name in _SESSION_DOCS:
    setattr(Session, _name, _body_sender(_name))

_raw_bye, _raw_refer, _raw_request = Session.bye, Session.refer, Session.request


def _bye(self, headers: Headers = None, handler: Any = None) -> Outgoing:
    """BYE: the session is Terminated (LOCAL_BYE) as soon as it is sent; the
    Outgoing still gets the BYE's response. StateError for a callee before
    the ACK of its 2xx or in an early dialog (use terminate())."""
    out = Outgoing(handler)
    _raw_bye(self, _headers(headers), out)
    return out


def _refer(self, refer_to: str, headers: Headers = None, handler: Any = None) -> Outgoing:
    """REFER to `refer_to` (a URI, optionally with ?Replaces=...); the
    progress arrives as NOTIFYs in the delegate's on_notify
    (request.sipfrag_status)."""
    out = Outgoing(handler)
    _raw_refer(self, refer_to, _headers(headers), out)
    return out


def _request(self, method: str, body: BodyT = None, content_type: Optional[str] = None,
             headers: Headers = None, handler: Any = None) -> Outgoing:
    """An in-dialog request of any method (the named methods are this with
    the method filled in)."""
    out = Outgoing(handler)
    _raw_request(self, method, body, content_type, _headers(headers), out)
    return out


Session.bye, Session.refer, Session.request = _bye, _refer, _request


def _notify_refer(self, status: int, reason: Optional[str] = None, handler: Any = None) -> Outgoing:
    """Report a REFER's progress to the referrer (NOTIFY with a sipfrag);
    the request must have been kept (request.keep())."""
    out = Outgoing(handler)
    Request._raw_notify_refer(self, status, reason, out)
    return out


Request._raw_notify_refer = Request.notify_refer
Request.notify_refer = _notify_refer


def _with_headers(raw: Callable):
    def call(self, *args, headers: Headers = None, **kw):
        return raw(self, *args, headers=_headers(headers), **kw)
    call.__name__ = raw.__name__
    call.__doc__ = raw.__doc__
    return call


for _name in ("accept", "reply", "reject"):
    setattr(Request, _name, _with_headers(getattr(Request, _name)))
Session.cancel = _with_headers(Session.cancel)

_raw_set_filter = Memnet.set_filter


def _set_filter(self, fn: Optional[Callable[[str, str, bytes], bool]]) -> int:
    """fn(from, to, data) -> True to drop the datagram (loss injection);
    None keeps every datagram."""
    if fn is not None and not callable(fn):
        raise TypeError("Memnet.set_filter: a callable or None")
    return _raw_set_filter(self, fn)


Memnet.set_filter = _set_filter

Request.msg = property(lambda self: self.message(), doc="The whole request as a Message.")
Request.__repr__ = lambda self: (f"<sipsess.Request {self.method_name} {self.uri}>" if self.valid
                                 else "<sipsess.Request (expired)>")
Message.headers = property(
    lambda self: [(self.header_name(i), self.header_value(i)) for i in range(self.header_count)],
    doc="All header fields as (name, value) pairs, in order.")
Message.__repr__ = lambda self: (f"<sipsess.Message {self.method_name} {self.uri}>" if self.is_request
                                 else f"<sipsess.Message {self.status} {self.reason} ({self.method_name})>")
Session.__repr__ = lambda self: (f"<sipsess.Session {self.call_id} {self.state.name}"
                                 f"{' out' if self.outgoing else ' in'}>")


# --------------------------------------------------------------------------
# delegates

def _default(fn: Callable) -> Callable:
    """Marks a base-class method as 'not handled': the binding does not
    install the callback, so the library's default answer applies."""
    fn.__sipsess_default__ = True
    return fn


class Delegate:
    """Base class of session delegates. Override the callbacks you handle;
    the others keep the library's default answer. Each request callback
    gets ``(session, request)``: answer with request.accept / reply / reject
    / progress, or request.keep() and answer later, or return and let the
    default apply. An ``async def`` callback (under sipsess.aio) keeps its
    request until it answers."""

    @_default
    def on_ack(self, session: Session, request: Request) -> Any:
        """ACK of our 2xx (nothing to answer)."""

    @_default
    def on_ack_timeout(self, session: Session, request: None) -> Any:
        """Our 2xx was never ACKed: BYE is sent unless you end the session."""

    @_default
    def on_bye(self, session: Session, request: Request) -> Any:
        """BYE: default 200; the session then ends (on_terminated)."""

    @_default
    def on_info(self, session: Session, request: Request) -> Any:
        """INFO: default 469 Bad Info Package without this callback, 200 with it."""

    @_default
    def on_invite(self, session: Session, request: Request) -> Any:
        """re-INVITE: default 488 Not Acceptable Here."""

    @_default
    def on_message(self, session: Session, request: Request) -> Any:
        """MESSAGE: default 200."""

    @_default
    def on_notify(self, session: Session, request: Request) -> Any:
        """NOTIFY (REFER progress: request.sipfrag_status): default 200."""

    @_default
    def on_prack(self, session: Session, request: Request) -> Any:
        """PRACK: default 200."""

    @_default
    def on_refer(self, session: Session, request: Request) -> Any:
        """REFER: default 603 Declined."""

    @_default
    def on_update(self, session: Session, request: Request) -> Any:
        """UPDATE: default 200 without an offer, 488 with one."""

    @_default
    def on_cancel(self, session: Session, request: Request) -> Any:
        """CANCEL of the INVITE: always 200 + 487."""

    @_default
    def on_request(self, session: Session, request: Request) -> Any:
        """Any other method: default 501."""

    @_default
    def on_state_change(self, session: Session, state: int) -> Any:
        """The session's state changed (SessionState(state))."""

    @_default
    def on_terminated(self, session: Session, cause: int) -> Any:
        """The session ended (TermCause(cause)); the delegate is released after."""


class UADelegate:
    """Base class of UA delegates: new incoming calls and out-of-dialog
    requests."""

    @_default
    def on_invite(self, session: Session, request: Request) -> Any:
        """A new call: install session.set_delegate(...) and answer the
        INVITE (progress / accept / reject). Default: 480."""

    @_default
    def on_request(self, request: Request) -> Any:
        """OPTIONS, MESSAGE, ... outside a dialog. Default: OPTIONS 200,
        MESSAGE/NOTIFY 405 without this callback and 200 with it, 501 for
        unknown methods."""


# --------------------------------------------------------------------------
# UA

_REL100 = {"off": _c.REL100_OFF, "supported": _c.REL100_SUPPORTED, "required": _c.REL100_REQUIRED}


def _logging_sink(logger: logging.Logger) -> Callable[[int, str], None]:
    levels = {_c.LOG_ERROR: logging.ERROR, _c.LOG_WARN: logging.WARNING,
              _c.LOG_INFO: logging.INFO, _c.LOG_DEBUG: logging.DEBUG}

    def sink(level: int, line: str) -> None:
        logger.log(levels.get(level, logging.INFO), "%s", line)
    return sink


class UA(_c.UA):
    """A user agent: listeners, transactions, sessions.

    ``UA(listen, **options)``; ``listen`` is a spec or a list of them
    ("udp:127.0.0.1:5060", "tcp:[::1]:0", "mem:0"). Options: user_agent,
    identity ("sip:alice@host", the From of calls), t1/t2/t4 (ms),
    virtual_clock, memnet (a Memnet), auto_ack, auto_prack, accept_forks,
    rel100 ("off" | "supported" | "required"), limits ({"SESSIONS": 100,
    ...} or {Limit.SESSIONS: 100}), log (fn(level, line), or True for the
    "sipsess" logger) with log_level, trace (fn(outgoing, transport, local,
    remote, data)), delegate (a UADelegate), raise_errors.

    Use as a context manager, or call close(): closing ends every session
    (on_terminated runs) and releases the delegates.
    """

    def __init__(self, listen: Union[str, Iterable[str]] = (), *, user_agent: Optional[str] = None,
                 identity: Optional[str] = None, t1: Optional[int] = None,
                 t2: Optional[int] = None, t4: Optional[int] = None,
                 virtual_clock: bool = False, memnet: Optional[Memnet] = None,
                 auto_ack: Optional[bool] = None, auto_prack: Optional[bool] = None,
                 accept_forks: Optional[bool] = None, rel100: Optional[str] = None,
                 limits: Optional[Mapping[Any, int]] = None, log: Any = None,
                 log_level: int = LogLevel.INFO, trace: Optional[Callable] = None,
                 delegate: Any = None, raise_errors: bool = False):
        cfg = _c.Config()
        if user_agent is not None:
            cfg.set_user_agent(user_agent)
        if identity is not None:
            cfg.set_identity(identity)
        if t1 is not None or t2 is not None or t4 is not None:
            cfg.set_timers(t1 or 500, t2 or 4000, t4 or 5000)
        if virtual_clock:
            cfg.set_virtual_clock(1)
        if memnet is not None:
            cfg.set_memnet(memnet)
        if auto_ack is not None:
            cfg.set_auto_ack(int(bool(auto_ack)))
        if auto_prack is not None:
            cfg.set_auto_prack(int(bool(auto_prack)))
        if accept_forks is not None:
            cfg.set_accept_forks(int(bool(accept_forks)))
        if rel100 is not None:
            if rel100 not in _REL100:
                raise ValueError("rel100: 'off', 'supported' or 'required'")
            cfg.set_100rel(_REL100[rel100])
        for k, v in (limits or {}).items():
            cfg.set_limit(Limit[k] if isinstance(k, str) else int(k), int(v))
        if log is True:
            log = _logging_sink(logging.getLogger("sipsess"))
        if log is not None:
            cfg.set_log(int(log_level), log)
        if trace is not None:
            cfg.set_trace(trace)
        super().__init__(cfg)
        self._serving = None
        try:
            self.raise_errors = int(bool(raise_errors))
            if delegate is not None:
                self.set_delegate(delegate)
            for spec in ([listen] if isinstance(listen, str) else list(listen)):
                self.listen(spec)
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> "UA":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def listeners(self) -> list:
        """The listeners as specs with their actual ports."""
        return [self.listener(i) for i in range(self.listener_count)]

    def invite(self, uri: str, body: BodyT = None, content_type: Optional[str] = None,
               headers: Headers = None, delegate: Any = None, handler: Any = None) -> Session:
        """Place a call; returns the Session (``session.invitation`` is the
        INVITE's Outgoing: await it for the final response). ``delegate``
        gets the session's in-dialog requests, ``handler`` its responses."""
        out = Outgoing(handler)
        s = super().invite(uri, body, content_type, _headers(headers), delegate, out)
        out.session = s
        s.invitation = out
        return s

    def call(self, uri: str, body: BodyT = None, content_type: Optional[str] = None,
             headers: Headers = None, delegate: Any = None, handler: Any = None) -> Outgoing:
        """invite() returning the Outgoing (``await ua.call(...)`` gives the
        final response; ``.session`` the Session)."""
        return self.invite(uri, body, content_type, headers, delegate, handler).invitation

    def request(self, method: str, uri: str, headers: Headers = None, body: BodyT = None,
                content_type: Optional[str] = None, handler: Any = None) -> Outgoing:
        """Send an out-of-dialog request (OPTIONS, MESSAGE, ...). ``handler``
        (fn(session=None, response)) sees each response; await the Outgoing
        for the final one (Timeout / TransportError when there is none)."""
        out = Outgoing(handler)

        def on_response(resp, final, err):
            if not final:
                out._deliver("on_progress", None, resp, False)
            elif resp is None:
                out._deliver("on_reject", None, None, True)
            else:
                st = resp.status
                kind = "on_accept" if st < 300 else "on_redirect" if st < 400 else "on_reject"
                out._deliver(kind, None, resp, True)
        super().request(method, uri, _headers(headers), body, content_type, on_response)
        return out

    def stop(self) -> None:
        """Make run() (or serve()) return."""
        super().stop()
        if self._serving is not None and not self._serving.done():
            self._serving.set_result(None)

    def close(self) -> None:
        """End every session, release delegates and handles, close sockets."""
        if self._serving is not None and not self._serving.done():
            self._serving.set_result(None)
        from . import aio
        aio._detach(self)
        super().close()

    async def serve(self) -> None:
        """Run under the running asyncio loop until stop() or close()."""
        from . import aio
        await aio.serve(self)

    def __repr__(self) -> str:
        return f"<sipsess.UA {' '.join(self.listeners) or '(closed)'}>"
