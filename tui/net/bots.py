"""Simulated chat clients for the classroom demo: each bot is a trio task with its own socket."""

from __future__ import annotations

import itertools
import random
import time
from collections import deque
from dataclasses import dataclass, field

import trio

from coio.protocol import (
    ClientConnection,
    Closed,
    Echoed,
    RemoteProtocolError,
    Welcomed,
    WrongBanner,
)

from ..messages import BotsReport
from ..stats import percentile
from .backoff import Backoff
from .connection import CONNECT_TIMEOUT, RECV_BYTES, Post
from .reasons import describe

MAX_BOTS = 1000  # more is a load test for coio-bench, not a classroom demo
MAX_BOT_RATE = 50.0  # lines per second per bot; 1000 bots x 50/s already outruns one UI process
REPORT_EVERY = 0.5  # seconds between figures posted to the UI (one coalesced message each)
RTT_WINDOW = 4000  # recent bot round trips kept for p50/p99
START_SPREAD = 1.0  # seconds over which the bots connect, so they do not arrive as one burst
ECHO_TIMEOUT = 10.0  # a bot waits this long for its echo before it reconnects


class BotGaveUp(Exception):
    """A bot's connection is unusable (wrong banner, no echo); it reconnects after a delay."""


@dataclass(slots=True)
class BotTally:
    """Shared by all bots; only trio touches it."""

    connected: int = 0
    echoed: int = 0
    errors: int = 0
    last_error: str = ""
    rtts: deque[float] = field(default_factory=lambda: deque(maxlen=RTT_WINDOW))


class BotSwarm:
    """``count`` bots each sending ``rate`` lines per second and waiting for every echo."""

    def __init__(self, count: int, rate: float, host: str, port: int, post: Post) -> None:
        self.count = count
        self.rate = rate
        self.host = host
        self.port = port
        self._post = post
        self.tally = BotTally()

    async def run(self) -> None:
        """Run every bot and the reporter until cancelled."""
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._report)
            for n in range(self.count):
                nursery.start_soon(self._bot, n)
                await trio.sleep(START_SPREAD / self.count)

    async def _report(self) -> None:
        tally = self.tally
        last_echoed, last_at = 0, trio.current_time()
        while True:
            await trio.sleep(REPORT_EVERY)
            now = trio.current_time()
            rate = (tally.echoed - last_echoed) / max(now - last_at, 1e-9)
            last_echoed, last_at = tally.echoed, now
            self._post(
                BotsReport(
                    bots=self.count,
                    connected=tally.connected,
                    echoed=tally.echoed,
                    per_second=rate,
                    p50=percentile(tally.rtts, 0.5),
                    p99=percentile(tally.rtts, 0.99),
                    errors=tally.errors,
                    last_error=tally.last_error,
                )
            )

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
            self.tally.errors += 1
            self.tally.last_error = reason
            await trio.sleep(backoff.next_delay())

    async def _session(self, n: int, backoff: Backoff) -> None:
        with trio.fail_after(CONNECT_TIMEOUT):
            stream = await trio.open_tcp_stream(self.host, self.port)
        async with stream:
            conn = ClientConnection()
            self.tally.connected += 1
            try:
                if not await self._echo(stream, conn, None):
                    return
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
        raise BotGaveUp(f"no echo within {ECHO_TIMEOUT:g} s")
