"""Run trio as a guest on Textual's asyncio loop: one guest run per app.

trio is imported when the guest run starts, not with this module: an app can make its guest
and paint its first frame before it pays for trio's import (some 60 ms, a sixth of that frame).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import outcome
    import trio

# A part of the network side that failed with a bug restarts after this long: soon, yet never
# a busy loop if it fails again at once.
RESTART_DELAY = 1.0
RESTART_CAP = 30.0  # a part that fails again at once waits twice as long each time, up to this
HEALTHY_AFTER = 60.0  # a part that ran this long before failing starts over at RESTART_DELAY

OnError = Callable[[BaseException], None]


class PartEnded(Exception):
    """A part stopped for a reason outside the program (its process killed, say), not a bug:
    shown in plain words as a warning; it restarts like any other part."""


def first_error(error: BaseException) -> BaseException:
    """The first leaf of trio's exception groups: the error a person should see."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


class TrioGuest:
    """Owns the app's single trio guest run.

    ``start()`` imports trio and begins the run on the running asyncio loop;
    ``spawn(fn, *args)`` starts a trio task from the UI side (through the trio token, so trio
    wakes at once); ``stop()`` cancels everything and waits until trio has finished.
    ``clock`` replaces trio's own (tests pass a ``trio.testing.MockClock`` to decide when
    trio's timeouts run out).
    """

    def __init__(
        self, on_crash: Callable[[BaseException], None], clock: trio.abc.Clock | None = None
    ) -> None:
        self._on_crash = on_crash
        self._clock = clock
        self._cancel_scope: trio.CancelScope | None = None  # made by start()
        self._nursery: trio.Nursery | None = None
        self._token: trio.lowlevel.TrioToken | None = None
        self._ready: asyncio.Event | None = None
        self._done: asyncio.Future[outcome.Outcome[None]] | None = None

    @property
    def running(self) -> bool:
        """The guest run has started, accepts tasks and has not ended."""
        return (
            self._ready is not None
            and self._ready.is_set()
            and self._done is not None
            and not self._done.done()
        )

    @property
    def token(self) -> trio.lowlevel.TrioToken:
        if self._token is None:
            raise RuntimeError("the trio guest run has not started")
        return self._token

    async def start(self) -> None:
        """Start the guest run and wait until it accepts tasks."""
        import trio

        self._cancel_scope = trio.CancelScope()
        loop = asyncio.get_running_loop()
        self._ready = asyncio.Event()
        self._done = loop.create_future()
        try:
            trio.lowlevel.start_guest_run(
                self._main,
                run_sync_soon_threadsafe=loop.call_soon_threadsafe,
                run_sync_soon_not_threadsafe=loop.call_soon,
                done_callback=self._finished,
                host_uses_signal_set_wakeup_fd=True,
                clock=self._clock,
            )
        except BaseException:
            self._cancel_scope = self._ready = self._done = None  # nothing to stop
            raise
        await self._until_ready_or_ended()  # a run that ended first was reported by on_crash

    async def _until_ready_or_ended(self) -> None:
        """Wait until the run accepts tasks, or has ended (it may crash before)."""
        ready, done = self._ready, self._done
        assert ready is not None  # made by start()
        assert done is not None

        async def until_ready() -> None:
            await ready.wait()

        async def until_ended() -> None:
            await asyncio.shield(done)

        waits = [asyncio.create_task(until_ready()), asyncio.create_task(until_ended())]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()

    def spawn(
        self, fn: Callable[..., Awaitable[Any]], *args: Any, on_error: OnError | None = None
    ) -> None:
        """Start ``fn(*args)`` as a trio task (callable from the UI side).

        With ``on_error`` the task is one isolated part (a tab's connection, the bots, a
        watcher): an unexpected error in it is handed to ``on_error`` and the task starts
        again after RESTART_DELAY, doubled for each failure in a row up to RESTART_CAP, while
        every other task goes on.
        """
        if on_error is not None:
            self.token.run_sync_soon(self._start_soon, self._supervise, (fn, args, on_error))
        else:
            self.token.run_sync_soon(self._start_soon, fn, args)

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run a plain function inside trio soon (callable from the UI side)."""
        self.token.run_sync_soon(fn, *args)

    async def stop(self) -> None:
        """Cancel every trio task and wait for the guest run to end."""
        if self._done is None:
            return
        assert self._cancel_scope is not None  # made before _done, by start()
        if self._ready is not None and not self._ready.is_set():
            # Started but not yet running: cancel once it can hear it (or once it has ended).
            await self._until_ready_or_ended()
        if not self._done.done() and self._token is not None:
            self._token.run_sync_soon(self._cancel_scope.cancel)
        await self._done  # a crash was already reported through on_crash

    def _start_soon(self, fn: Callable[..., Awaitable[Any]], args: tuple[Any, ...]) -> None:
        if self._nursery is not None:
            self._nursery.start_soon(fn, *args)

    @staticmethod
    async def _supervise(
        fn: Callable[..., Awaitable[Any]], args: tuple[Any, ...], on_error: OnError
    ) -> None:
        import trio  # loaded by start(): a lookup

        delay = RESTART_DELAY
        while True:
            began = trio.current_time()
            try:
                await fn(*args)
                return
            except* Exception as group:  # a bug; cancellation (not an Exception) goes on up
                error = first_error(group)
            on_error(error)
            if trio.current_time() - began >= HEALTHY_AFTER:
                delay = RESTART_DELAY
            await trio.sleep(delay)
            delay = min(RESTART_CAP, delay * 2)  # failing at once again: wait longer next time

    async def _main(self) -> None:
        import trio  # loaded by start(): a lookup

        self._token = trio.lowlevel.current_trio_token()
        assert self._cancel_scope is not None
        with self._cancel_scope:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                assert self._ready is not None
                self._ready.set()
                await trio.sleep_forever()

    def _finished(self, result: outcome.Outcome[None]) -> None:
        self._nursery = None
        assert self._done is not None
        if not self._done.done():
            self._done.set_result(result)
        import outcome  # loaded with trio

        if isinstance(result, outcome.Error):
            self._on_crash(result.error)
