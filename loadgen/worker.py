"""One load process: open its share of the clients, wait for the start, run, report."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable, Coroutine
from multiprocessing.connection import Connection
from typing import Any

from coio.fds import raise_fd_limit

from .client import EchoClient, NoBanner, describe, explain
from .histogram import Histogram
from .payload import make_messages
from .recorder import Recorder
from .results import WorkerResult
from .spec import LoadSpec

# Connects in flight at once per process: enough to open 10,000 clients in about a second
# without overflowing a modest listen backlog.
CONNECT_CONCURRENCY = 200
PROGRESS_INTERVAL = 0.25  # seconds between progress messages to the parent
OPEN_LOOP_TICK = 0.001  # seconds between open-loop send rounds


def worker_main(spec: LoadSpec, index: int, pipe: Connection) -> None:
    """Process entry point: run the load and send ("result", WorkerResult) up the pipe."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    raise_fd_limit()
    run, loop_name = _runner()
    try:
        result = run(_work(spec, index, pipe, loop_name))
        message: tuple[str, object] = ("result", result)
    except Exception as exc:  # one line for the parent to print, never a traceback
        message = ("failed", f"load process {index}: {describe(exc)}")
    # The parent may be gone (Ctrl-C): then there is nobody to tell.
    with contextlib.suppress(OSError):
        if message[1] is not None:
            pipe.send(message)


def _runner() -> tuple[Callable[[Coroutine[Any, Any, Any]], Any], str]:
    try:
        import uvloop
    except ImportError:
        return asyncio.run, "asyncio"
    return uvloop.run, "uvloop"


async def _work(
    spec: LoadSpec, index: int, pipe: Connection, loop_name: str
) -> WorkerResult | None:
    rec = Recorder()
    result = WorkerResult(loop_name)
    messages = make_messages(spec.size, spec.charset)
    first = sum(spec.share(i) for i in range(index))  # distinct message offsets per client
    clients = await _open_clients(spec, spec.share(index), first, messages, rec, result)
    pipe.send(("ready", result.connected, result.connect_failures, result.connect_example))
    command = await _receive(pipe)
    if command[0] != "start" or not clients:
        _close(clients)
        return None
    await asyncio.sleep(max(0.0, command[1] - time.monotonic()))
    reporter = asyncio.create_task(_report_progress(pipe, rec))
    sender = None
    if spec.rate is None:
        for client in clients:
            client.start()
    else:
        for client in clients:
            client.closed_loop = False
            client.running = True
        sender = asyncio.create_task(_open_loop(clients, spec.rate / spec.procs, rec, result))
    await asyncio.sleep(spec.warmup)
    cpu0, wall0 = _cpu(), time.perf_counter()
    rec.measuring = True
    await asyncio.sleep(spec.duration)
    rec.measuring = False
    result.wall = time.perf_counter() - wall0
    result.cpu = _cpu() - cpu0
    if sender is not None:
        sender.cancel()
    reporter.cancel()
    _close(clients)
    await asyncio.sleep(0)  # let the transports finish closing before the loop ends
    result.echoes = len(rec.rtts)
    result.rtt = Histogram.of(rec.rtts)
    result.errors = rec.errors
    result.first_mismatch = rec.first_mismatch
    result.skipped += rec.skipped
    return result


async def _open_clients(
    spec: LoadSpec,
    count: int,
    first: int,
    messages: list[tuple[bytes, bytes]],
    rec: Recorder,
    result: WorkerResult,
) -> list[EchoClient]:
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def open_one(n: int) -> EchoClient:
        async with gate:
            _, client = await asyncio.wait_for(
                loop.create_connection(
                    lambda: EchoClient(messages, first + n, rec), spec.host, spec.port
                ),
                spec.connect_timeout,
            )
            try:
                await asyncio.wait_for(asyncio.shield(client.welcomed), spec.connect_timeout)
            except TimeoutError:
                client.stop()
                raise NoBanner(f"connected, but no banner in {spec.connect_timeout:g} s") from None
            except BaseException:
                client.stop()
                raise
            return client

    outcomes = await asyncio.gather(*(open_one(n) for n in range(count)), return_exceptions=True)
    clients = []
    for outcome in outcomes:
        if isinstance(outcome, EchoClient):
            clients.append(outcome)
        elif isinstance(outcome, Exception):
            result.connect_failures[describe(outcome)] += 1
            if not result.connect_example:
                result.connect_example = explain(outcome)
        else:
            raise outcome
    result.connected = len(clients)
    return clients


async def _receive(pipe: Connection) -> tuple[Any, ...]:
    """The parent's next command, without blocking the loop."""
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()

    def readable() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(pipe.fileno(), readable)
    try:
        await ready
    finally:
        loop.remove_reader(pipe.fileno())
    command: tuple[Any, ...] = pipe.recv()
    return command


async def _report_progress(pipe: Connection, rec: Recorder) -> None:
    while True:
        await asyncio.sleep(PROGRESS_INTERVAL)
        pipe.send(("progress", rec.total, sum(rec.errors.values())))


async def _open_loop(
    clients: list[EchoClient], rate: float, rec: Recorder, result: WorkerResult
) -> None:
    """Send on a fixed schedule; each round trip is timed from when its message was due."""
    interval = 1e9 / rate
    start = time.perf_counter_ns()
    sent = 0
    count = len(clients)
    while True:
        due = int((time.perf_counter_ns() - start) / interval) + 1
        while sent < due:
            stamp = start + int(sent * interval)
            clients[sent % count].send(stamp)
            if rec.measuring:
                result.scheduled += 1
            sent += 1
        await asyncio.sleep(OPEN_LOOP_TICK)


def _close(clients: list[EchoClient]) -> None:
    for client in clients:
        client.running = False
        if client.transport is not None:
            client.transport.close()


def _cpu() -> float:
    times = os.times()
    return times.user + times.system
