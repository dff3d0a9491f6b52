"""Run a sipsess UA under asyncio.

    async def main():
        with sipsess.UA("udp:127.0.0.1:0", delegate=MyDelegate()) as ua:
            await ua.serve()          # until ua.stop() or ua.close()

The adapter watches the UA's fd with loop.add_reader and keeps one
loop.call_later for the UA's next timer; both call ua.process(). Requests
sent from outside the loop calls (another task) wake the fd, so the
adapter re-reads the timeout. ``async def`` delegate callbacks become
tasks; their request stays valid (kept) until they answer it, and when
such a task ends with the request unanswered the library answers 500.
An exception in such a task is reported like one in a plain callback:
sys.unraisablehook, or raised from serve() with raise_errors.
"""

from __future__ import annotations

import asyncio
import traceback
from typing import Optional

from . import core as _c

_adapters: dict = {}


class Adapter:
    """Drives one UA from an asyncio event loop."""

    def __init__(self, ua, loop: Optional[asyncio.AbstractEventLoop] = None):
        self.ua = ua
        self.loop = loop or asyncio.get_running_loop()
        self.timer: Optional[asyncio.TimerHandle] = None
        self.tasks: set = set()
        self.failed: Optional[BaseException] = None
        self.fd = ua.fd
        ua._set_async(self._spawn, 1)
        self.loop.add_reader(self.fd, self._ready)
        _adapters[id(ua)] = self
        self._resched()

    def _ready(self) -> None:
        if self.ua.closed:
            return
        try:
            self.ua.process()
        except BaseException as e:  # raise_errors, or a signal
            self._fail(e)
        self._resched()

    def _resched(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.ua.closed:
            return
        t = self.ua.next_timeout
        if t >= 0:
            self.timer = self.loop.call_later(t / 1000.0, self._ready)

    def _spawn(self, coro) -> None:
        task = self.loop.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task) -> None:
        self.tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            if self.ua.raise_errors:
                self._fail(exc)
            else:
                _c._write_unraisable(exc, task.get_coro())
            # The traceback's frames hold the callback's locals, its kept
            # request among them: clear them so that an unanswered request
            # gets its 500 now, not whenever the exception is collected.
            traceback.clear_frames(exc.__traceback__)
        if not self.ua.closed:
            self._resched()

    def _fail(self, exc: BaseException) -> None:
        if self.failed is None:
            self.failed = exc
        serving = getattr(self.ua, "_serving", None)
        if serving is not None and not serving.done():
            serving.set_exception(exc)

    def detach(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        try:
            self.loop.remove_reader(self.fd)
        except Exception:
            pass
        for t in list(self.tasks):
            t.cancel()
        if not self.ua.closed:
            self.ua._set_async(None, 0)
        _adapters.pop(id(self.ua), None)


def attach(ua, loop: Optional[asyncio.AbstractEventLoop] = None) -> Adapter:
    """Start driving `ua` from the (running) asyncio loop."""
    a = _adapters.get(id(ua))
    if a is None:
        a = Adapter(ua, loop)
    return a


def _detach(ua) -> None:
    a = _adapters.get(id(ua))
    if a is not None:
        a.detach()


async def serve(ua) -> None:
    """Drive `ua` until ua.stop() or ua.close(); re-raises a callback error
    when the UA has raise_errors."""
    adapter = attach(ua)
    loop = adapter.loop
    ua._serving = loop.create_future()
    try:
        await ua._serving
    finally:
        ua._serving = None
        adapter.detach()
