"""The classroom bots' own process: each bot a trio task with its own socket, the figures of
all of them one JSON line on stdout every REPORT_EVERY seconds.

    python -m coio.tui.net.bot_process --bots N --rate R --host H --port P --parent PID

coio-tui starts it (tui/net/bots.py) so that however busy the bots are, they never take
the UI's event loop: the two processes share the machine's cores, not a thread. It lives
only as long as its parent: the kernel sends it SIGTERM when the parent dies (Linux), and it
also stops on its own when stdin reaches end of file or its parent's PID changes.

No textual import here: the process starts fast and holds only what the bots need.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import itertools
import json
import math
import os
import random
import signal
import sys
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields

import trio

from coio.fds import raise_fd_limit
from coio.protocol import (
    ClientConnection,
    Closed,
    Echoed,
    RemoteProtocolError,
    Welcomed,
    WrongBanner,
)

from ..limits import MAX_BOT_RATE, MAX_BOTS
from ..stats import percentile
from .backoff import Backoff
from .reasons import describe

REPORT_EVERY = 0.25  # seconds between figure lines: a lively bar, a few small writes a second
RATE_WINDOW = 2.0  # seconds of echoes the reported rate is taken over: steady at low rates
RTT_WINDOW = 4000  # recent round trips kept for p50/p99
# Connections started per second. A listen backlog (4,096 on coio-server) holds a burst
# this size many times over, and 10,000 bots are all in within five seconds.
CONNECTS_PER_SECOND = 2000.0
CONNECT_TIMEOUT = 5.0  # seconds for a bot's TCP connect
ECHO_TIMEOUT = 10.0  # a bot waits this long for its banner or echo before it reconnects
RECV_BYTES = 4096  # a bot reads a banner or one short echo at a time
FD_HEADROOM = 64  # descriptors beyond one per bot: stdio, trio's wakeup pipe, epoll
PARENT_CHECK_EVERY = 0.5  # seconds between checks that the parent is still ours
# Scheduling priority below the UI's: when the machine is busy, the person's keys come first.
NICENESS = 10
MAX_ERROR_CHARS = 200  # a bot's last error, cut to this: the bar shows one short line

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


@dataclass(frozen=True, slots=True)
class BotFigures:
    """One report: what all the bots have done. One JSON object per line on the wire."""

    bots: int  # bots started
    connected: int  # bots past the server's banner now
    echoed: int  # echoes received since the process started
    per_second: float  # echoes per second over the last RATE_WINDOW
    p50: float | None  # echo round trip, seconds, over the last RTT_WINDOW echoes
    p99: float | None
    errors: int  # sessions that ended in an error
    last_error: str  # the latest one, a short line ("" if none)
    cpu: float  # CPU seconds this process has used (user + system)

    def to_line(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode() + b"\n"

    @classmethod
    def from_line(cls, line: bytes) -> BotFigures:
        """Parse one line of ``to_line``; ValueError says what is wrong with it."""
        try:
            data = json.loads(line)
        except ValueError as exc:  # UnicodeDecodeError is a ValueError too
            raise ValueError(f"not JSON: {line[:60]!r}") from exc
        if not isinstance(data, dict) or set(data) != {f.name for f in fields(cls)}:
            raise ValueError(f"not a bots report: {line[:60]!r}")
        for name in ("bots", "connected", "echoed", "errors"):
            if type(data[name]) is not int or data[name] < 0:
                raise ValueError(f"{name} is not a count: {data[name]!r}")
        for name in ("per_second", "cpu", "p50", "p99"):
            value = data[name]
            optional = name in ("p50", "p99")
            if (value is None and optional) or (
                type(value) in (int, float) and math.isfinite(value) and value >= 0
            ):
                continue
            raise ValueError(f"{name} is not a figure: {value!r}")
        if not isinstance(data["last_error"], str):
            raise ValueError(f"last_error is not text: {data['last_error']!r}")
        return cls(**data)


class BotGaveUp(Exception):
    """A bot's connection is unusable (wrong banner, no echo); it reconnects after a delay."""


@dataclass(slots=True)
class BotTally:
    """Shared by all bots of the process; only trio touches it."""

    connected: int = 0
    echoed: int = 0
    errors: int = 0
    last_error: str = ""
    rtts: deque[float] = field(default_factory=lambda: deque(maxlen=RTT_WINDOW))

    def failed(self, reason: str) -> None:
        self.errors += 1
        self.last_error = reason[:MAX_ERROR_CHARS]


class Room:
    """``count`` bots each sending ``rate`` lines per second to ``host``:``port`` and waiting
    for every echo; ``report`` writes the tally to ``out`` every REPORT_EVERY seconds."""

    def __init__(self, count: int, rate: float, host: str, port: int) -> None:
        self.count = count
        self.rate = rate
        self.host = host
        self.port = port
        self.tally = BotTally()

    async def run(self, out: trio.abc.SendStream) -> None:
        """Run every bot and the reporter until cancelled or ``out`` breaks."""
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self.report, out, nursery.cancel_scope)
            start = trio.current_time()
            for n in range(self.count):
                # Spread out, so the server's listen backlog never meets them all at once.
                await trio.sleep_until(start + n / CONNECTS_PER_SECOND)
                nursery.start_soon(self._bot, n)

    def figures(self, per_second: float) -> BotFigures:
        t = self.tally
        return BotFigures(
            bots=self.count,
            connected=t.connected,
            echoed=t.echoed,
            per_second=per_second,
            p50=percentile(t.rtts, 0.5),
            p99=percentile(t.rtts, 0.99),
            errors=t.errors,
            last_error=t.last_error,
            cpu=time.process_time(),
        )

    async def report(self, out: trio.abc.SendStream, scope: trio.CancelScope) -> None:
        """Write the figures every REPORT_EVERY s; a reader that has gone stops the room."""
        samples: deque[tuple[float, int]] = deque([(trio.current_time(), 0)])
        while True:
            await trio.sleep(REPORT_EVERY)
            now = trio.current_time()
            samples.append((now, self.tally.echoed))
            while now - samples[1][0] >= RATE_WINDOW:  # keep one sample at or past the window
                samples.popleft()
            then, echoed_then = samples[0]
            rate = (self.tally.echoed - echoed_then) / max(now - then, 1e-9)
            try:
                await out.send_all(self.figures(rate).to_line())
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                scope.cancel()  # nobody reads the figures: the parent is gone
                return

    async def _bot(self, n: int) -> None:
        backoff = Backoff()
        while True:
            try:
                await self._session(n, backoff)
                reason = "closed by server"
            except (OSError, trio.BrokenResourceError, trio.TooSlowError) as exc:
                reason = describe(exc)
            except (RemoteProtocolError, BotGaveUp) as exc:
                reason = str(exc)
            self.tally.failed(reason)
            await trio.sleep(backoff.next_delay())

    async def _session(self, n: int, backoff: Backoff) -> None:
        with trio.fail_after(CONNECT_TIMEOUT):
            stream = await trio.open_tcp_stream(self.host, self.port)
        async with stream:
            conn = ClientConnection()
            if not await self._echo(stream, conn, None):
                return
            self.tally.connected += 1  # past the banner: served, not only queued to be
            try:
                backoff.reset()
                await self._chat(n, stream, conn)
            finally:
                self.tally.connected -= 1

    async def _chat(self, n: int, stream: trio.SocketStream, conn: ClientConnection) -> None:
        period = 1.0 / self.rate
        due = trio.current_time() + random.uniform(0, period)  # bots out of step, like people
        for said in itertools.count():
            await trio.sleep_until(due)
            due = max(due + period, trio.current_time())  # late: carry on, never burst to catch up
            sent_at = time.perf_counter()
            await stream.send_all(conn.send_line(f"bot {n} says {said}"))
            if not await self._echo(stream, conn, sent_at):
                return

    async def _echo(
        self, stream: trio.SocketStream, conn: ClientConnection, sent_at: float | None
    ) -> bool:
        """Read until the banner (``sent_at`` None) or the next echo; False if the peer closed."""
        with trio.move_on_after(ECHO_TIMEOUT) as scope:
            while True:
                for event in conn.events():
                    if isinstance(event, Closed):
                        return False
                    if isinstance(event, WrongBanner):
                        raise BotGaveUp("not an echo server")
                    if isinstance(event, Welcomed) and sent_at is None:
                        return True
                    if isinstance(event, Echoed) and sent_at is not None:
                        self.tally.rtts.append(time.perf_counter() - sent_at)
                        self.tally.echoed += 1
                        return True
                conn.receive_data(await stream.receive_some(RECV_BYTES))
        assert scope.cancelled_caught
        waited = "banner" if sent_at is None else "echo"
        raise BotGaveUp(f"no {waited} within {ECHO_TIMEOUT:g} s")


async def watch_stdin(stdin: trio.abc.ReceiveStream, scope: trio.CancelScope) -> None:
    """Cancel ``scope`` when stdin (a pipe only the parent writes to) ends or reaches EOF."""
    try:
        while await stdin.receive_some(RECV_BYTES):
            pass  # the parent never writes; anything it does is ignored
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass
    scope.cancel()


async def poll_parent(parent: int, scope: trio.CancelScope) -> None:
    """Cancel ``scope`` once this process has been handed to another parent (it died)."""
    while True:
        await trio.sleep(PARENT_CHECK_EVERY)  # nothing to wait on: the kernel only tells pid 1
        if os.getppid() != parent:
            scope.cancel()
            return


def die_with_parent(parent: int) -> bool:
    """Have the kernel send SIGTERM when the parent dies (Linux); False if it already has.

    The kernel's "parent" is the thread that started this process: the parent must start it
    from a thread that lives as long as it does (tui/net/bots.py does).
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)  # failing, the checks remain
    return os.getppid() == parent


async def serve(room: Room, parent: int) -> None:
    """Run ``room`` reporting on stdout until the parent goes."""
    out = trio.lowlevel.FdStream(os.dup(sys.stdout.fileno()))
    stdin = trio.lowlevel.FdStream(os.dup(sys.stdin.fileno()))
    async with out, stdin, trio.open_nursery() as nursery:
        nursery.start_soon(watch_stdin, stdin, nursery.cancel_scope)
        nursery.start_soon(poll_parent, parent, nursery.cancel_scope)
        await room.run(out)
        nursery.cancel_scope.cancel()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m coio.tui.net.bot_process",
        description="coio-tui's classroom bots, run by coio-tui itself: figures on stdout",
    )
    parser.add_argument("--bots", type=int, required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--parent", type=int, required=True, help="the PID to live as long as")
    args = parser.parse_args(argv)
    if not 0 < args.bots <= MAX_BOTS:
        parser.error(f"--bots must be 1-{MAX_BOTS}, got {args.bots}")
    if not (math.isfinite(args.rate) and 0 < args.rate <= MAX_BOT_RATE):
        parser.error(f"--rate must be above 0 and at most {MAX_BOT_RATE:g}, got {args.rate}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # The parent decides when this process ends: the terminal's ^C or hangup is for it.
    for name in ("SIGINT", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    if not die_with_parent(args.parent):
        return 0
    with contextlib.suppress(OSError):  # a limit on priorities: run at the parent's
        os.nice(NICENESS)
    raise_fd_limit(args.bots + FD_HEADROOM)  # short of it, the extra bots report EMFILE
    trio.run(serve, Room(args.bots, args.rate, args.host, args.port), args.parent)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
