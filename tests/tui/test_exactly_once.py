"""Exactly-once chat over a hostile link: coio-tui's connection worker against coio-server
through a fault-injecting proxy (tests/chaos_proxy.py, its own process), while the server is
killed and restarted.

Every line typed must end as exactly one of: echoed once (the right uppercase), or
unconfirmed (written, the link dropped before its echo). Never sent twice (counted in the
bytes the proxy forwarded to the server), never lost, never reordered, and the worker never
raises. A failing run names its base seed: ``COIO_CHAOS_BASE=<seed>`` replays it.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import string
import struct
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trio
from textual.message import Message

from coio.protocol import MAX_LINE_BYTES
from coio.tui.messages import (
    Echoes,
    LinesRequeued,
    LinesSent,
    LinesUnanswered,
    StateChanged,
    WireChunk,
)
from coio.tui.net.backoff import Backoff
from coio.tui.net.connection import ConnectionWorker, Outgoing
from tests.support import ServerProcess, running_server

PROXY = Path(__file__).resolve().parent.parent / "chaos_proxy.py"
SCHEDULES = int(os.environ.get("COIO_CHAOS_SCHEDULES", "400"))
# After its last line is typed, a schedule has this long for every line to be accounted for
# (its faults are over within a second or two; then its link is clean).
SETTLE_WITHIN = 30.0
# The server is killed (SIGKILL) and restarted this many times, at random moments.
RESTARTS = int(os.environ.get("COIO_CHAOS_RESTARTS", "4"))
# COIO_CHAOS_FAULTS=reset,stall narrows the faults the proxy draws from (to bisect a failure).
FAULTS = os.environ.get("COIO_CHAOS_FAULTS", "")
# COIO_CHAOS_ONLY=3,17 replays just those schedules (with COIO_CHAOS_BASE).
ONLY = [int(n) for n in os.environ.get("COIO_CHAOS_ONLY", "").split(",") if n]
# Oracle for ASCII lines, written out rather than taken from the code under test.
UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)


@dataclass
class Ledger:
    """What one schedule's worker told the UI, and the lines it was given."""

    typed: dict[int, str] = field(default_factory=dict)
    sent: list[int] = field(default_factory=list)  # LinesSent, minus those requeued
    echoed: list[tuple[int, bytes]] = field(default_factory=list)
    unconfirmed: list[int] = field(default_factory=list)
    requeued: int = 0
    worker: ConnectionWorker | None = None
    states: list[str] = field(default_factory=list)  # the link's states, for a failure report
    trail: list[str] = field(default_factory=list)  # the last messages, for a failure report
    typing_done: bool = False
    stuck: bool = False  # the lines were not all accounted for within SETTLE_WITHIN
    done: trio.Event = field(default_factory=trio.Event)  # every typed line is accounted for
    changed: trio.Event = field(
        default_factory=trio.Event
    )  # set after every message  # every typed line is accounted for

    def post(self, message: Message) -> None:
        self.trail.append(type(message).__name__)
        del self.trail[:-8]
        if isinstance(message, LinesSent):
            self.sent.extend(seq for seq, _ in message.lines)
        elif isinstance(message, LinesRequeued):
            self.requeued += message.count
            del self.sent[-message.count :]
        elif isinstance(message, Echoes):
            self.echoed.extend((item.seq, item.echo) for item in message.items)
        elif isinstance(message, LinesUnanswered):
            self.unconfirmed.extend(seq for seq, _ in message.lines)
        elif isinstance(message, StateChanged):
            self.states.append(f"{message.state.name} {message.detail}".strip())
        elif isinstance(message, WireChunk) and not message.outgoing:
            assert self.worker is not None
            self.worker.read_shown()  # the UI showed the read: the reader may go on
        if self.typing_done and self.settled():
            self.done.set()
        self.changed.set()

    async def wait_until(self, predicate: Callable[[], bool], within: float = 30.0) -> None:
        """Wait (on trio's clock) until ``predicate`` holds after some message; fail if not."""
        with trio.move_on_after(within):
            while not predicate():
                self.changed = trio.Event()
                await self.changed.wait()
        assert predicate(), f"not within {within} s; last messages {self.trail}"

    async def settle(self, within: float) -> None:
        """Typing is over: wait until every line is accounted for, or mark the ledger stuck."""
        self.typing_done = True
        with trio.move_on_after(within) as waited:
            if not self.settled():
                await self.done.wait()
        self.stuck = waited.cancelled_caught

    def settled(self) -> bool:
        return len(self.echoed) + len(self.unconfirmed) >= len(self.typed)


def line_for(schedule: int, seq: int, rng: random.Random) -> str:
    """A unique, ASCII line; now and then a long one, so writes stall and break midway."""
    padding = rng.choice([4, 8, 30, 2000, 40000])
    return f"s{schedule}n{seq}x" + "".join(rng.choices(string.ascii_lowercase, k=padding))


def check(schedule: int, ledger: Ledger, upstream: bytes) -> list[str]:
    """Every broken promise for one schedule, as readable lines."""
    problems: list[str] = []
    if ledger.stuck:
        problems.append(
            f"stuck: lines unaccounted for after {SETTLE_WITHIN:g} s; "
            f"the link's last states: {ledger.states[-4:]}, last messages {ledger.trail}"
        )
    echoed_seqs = [seq for seq, _ in ledger.echoed]
    counts = Counter(echoed_seqs)
    twice = [seq for seq, n in counts.items() if n > 1]
    if twice:
        problems.append(f"echoed more than once: {twice}")
    if echoed_seqs != sorted(echoed_seqs):
        problems.append(f"echoes out of order: {echoed_seqs}")
    both = set(echoed_seqs) & set(ledger.unconfirmed)
    if both:
        problems.append(f"both echoed and unconfirmed: {sorted(both)}")
    lost = set(ledger.typed) - set(echoed_seqs) - set(ledger.unconfirmed)
    if lost:
        problems.append(
            f"lost (neither echoed nor unconfirmed): {sorted(lost)}; "
            f"the link's last states: {ledger.states[-4:]}, last messages {ledger.trail}"
        )
    for seq, echo in ledger.echoed:
        want = ledger.typed[seq].translate(UPPER).encode()
        if echo != want:
            problems.append(f"line {seq}: echo {echo[:40]!r} is not {want[:40]!r}")
    for seq, text in ledger.typed.items():
        seen = upstream.count(f"{text}\n".encode())
        if seen > 1:
            problems.append(f"line {seq} reached the server {seen} times")
    sent = Counter(ledger.sent)
    if any(n > 1 for n in sent.values()):
        problems.append(f"written more than once: {[s for s, n in sent.items() if n > 1]}")
    return [f"schedule {schedule}: {p}" for p in problems]


async def run_schedule(schedule: int, port: int, base: int, ledger: Ledger) -> None:
    rng = random.Random(f"{base}:{schedule}:lines")
    worker = ConnectionWorker(schedule, "127.0.0.1", port, ledger.post)
    worker.backoff = Backoff(first=0.02, cap=0.2)
    ledger.worker = worker
    async with trio.open_nursery() as nursery:
        nursery.start_soon(worker.run)
        for seq in range(rng.randint(3, 25)):
            text = line_for(schedule, seq, rng)
            ledger.typed[seq] = text
            worker.enqueue(Outgoing(seq, text))
            await trio.sleep(rng.choice([0, 0, 0.005, 0.05]))
        await ledger.settle(SETTLE_WITHIN)
        nursery.cancel_scope.cancel()


async def restart_server_now_and_then(
    servers: ExitStack, port: int, rng: random.Random, stop: trio.Event
) -> int:
    """Kill the server with SIGKILL at random moments and start it again on the same port."""
    restarts = 0
    while restarts < RESTARTS:
        with trio.move_on_after(rng.uniform(0.3, 1.5)):
            await stop.wait()
        if stop.is_set():
            break
        await trio.to_thread.run_sync(_restart, servers, port)
        restarts += 1
    return restarts


def _restart(servers: ExitStack, port: int) -> None:
    os.killpg(_current[-1].pid, signal.SIGKILL)
    _current[-1].stop()
    _current.append(servers.enter_context(running_server("--port", str(port))))


_current: list[ServerProcess] = []


@pytest.mark.timeout(300)
def test_every_line_echoed_once_or_unconfirmed_under_chaos(tmp_path: Path) -> None:
    """Over many fault schedules and server restarts: each line echoed once or unconfirmed."""
    base = int(os.environ.get("COIO_CHAOS_BASE", str(random.SystemRandom().randrange(10**6))))
    ledgers = {schedule: Ledger() for schedule in range(SCHEDULES)}
    servers = ExitStack()
    server = servers.enter_context(running_server())
    _current[:] = [server]
    proxy = subprocess.Popen(
        [
            sys.executable,
            str(PROXY),
            "--upstream",
            str(server.port),
            "--schedules",
            str(SCHEDULES),
            "--base",
            str(base),
            "--log-dir",
            str(tmp_path),
            *(["--faults", FAULTS] if FAULTS else []),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proxy.stdout is not None
        ports: dict[int, int] = {}
        for line in proxy.stdout:
            if line.strip() == "ready":
                break
            _, schedule, _, port = line.split()
            ports[int(schedule)] = int(port)
        assert len(ports) == SCHEDULES, f"the proxy said: {ports}"
        restarts = 0

        async def main() -> None:
            nonlocal restarts
            stop = trio.Event()
            async with trio.open_nursery() as nursery:

                async def restarter() -> None:
                    nonlocal restarts
                    restarts = await restart_server_now_and_then(
                        servers, server.port, random.Random(base), stop
                    )

                nursery.start_soon(restarter)
                limit = trio.CapacityLimiter(50)

                async def one(schedule: int) -> None:
                    async with limit:
                        await run_schedule(schedule, ports[schedule], base, ledgers[schedule])

                async with trio.open_nursery() as schedules:
                    for schedule in ONLY or range(SCHEDULES):
                        schedules.start_soon(one, schedule)
                stop.set()

        started = time.monotonic()
        trio.run(main)
        took = time.monotonic() - started
    finally:
        proxy.send_signal(signal.SIGKILL)
        proxy.wait(10)
        assert proxy.stdout is not None
        proxy.stdout.close()
        servers.close()
        _current.clear()

    problems: list[str] = []
    for schedule, ledger in ledgers.items():
        if ONLY and schedule not in ONLY:
            continue
        path = tmp_path / f"{schedule}.up"
        upstream = path.read_bytes() if path.exists() else b""
        problems += check(schedule, ledger, upstream)
    typed = sum(len(ledger.typed) for ledger in ledgers.values())
    echoed = sum(len(ledger.echoed) for ledger in ledgers.values())
    unconfirmed = sum(len(ledger.unconfirmed) for ledger in ledgers.values())
    requeued = sum(ledger.requeued for ledger in ledgers.values())
    print(
        f"\nchaos base {base}: {SCHEDULES} schedules, {restarts} server restarts, {typed} lines "
        f"typed, {echoed} echoed, {unconfirmed} unconfirmed, {requeued} taken back unwritten "
        f"and sent later, {len(problems)} problems, {took:.1f} s"
    )
    assert problems == [], f"COIO_CHAOS_BASE={base} replays this:\n" + "\n".join(problems[:40])


class Peer:
    """A loopback peer in a thread (plain sockets): connection k runs ``behaviours[k]``; every
    byte it reads is kept, so a test sees what a server could have seen."""

    def __init__(self, *behaviours: Callable[[socket.socket, Peer], None]) -> None:
        self.behaviours = behaviours
        self.received = bytearray()
        self.saw_drop = False  # set by a behaviour that waits for the client to drop the link
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(30)
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        for behaviour in self.behaviours:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b"welcome!")
                with contextlib.suppress(OSError):
                    behaviour(conn, self)

    def read_line(self, conn: socket.socket) -> bytes:
        line = bytearray()
        while not line.endswith(b"\n"):
            byte = conn.recv(1)  # one at a time: nothing after the newline is taken
            if not byte:
                break
            line += byte
        self.received += line
        return bytes(line)

    @staticmethod
    def echo_forever(conn: socket.socket, peer: Peer) -> None:
        while data := conn.recv(65536):
            peer.received += data
            conn.sendall(data.upper())  # ASCII lines: bytes.upper is the whole transform

    def close(self) -> None:
        self.listener.close()
        self.thread.join(10)


def reset_now(conn: socket.socket) -> None:
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


async def drive(worker: ConnectionWorker, ledger: Ledger, lines: list[str], first: int = 0) -> None:
    for seq, text in enumerate(lines, first):
        ledger.typed[seq] = text
        worker.enqueue(Outgoing(seq, text))


def quick_worker(port: int, ledger: Ledger) -> ConnectionWorker:
    worker = ConnectionWorker(1, "127.0.0.1", port, ledger.post)
    worker.backoff = Backoff(first=0.02, cap=0.1)
    ledger.worker = worker
    return worker


def test_link_drop_with_megabyte_lines_in_flight_crashes_nothing() -> None:
    """16 lines of 1 MiB queued, the server gone after the first echo: no error, none twice.

    The server reads nothing more once it has gone, until the client has dropped the link: a
    connection whose reader reads nothing stops taking bytes once its buffers are full, so
    the lines those took were written (and are unconfirmed) and the rest were not."""
    filler = string.ascii_lowercase * (MAX_LINE_BYTES // 26)
    lines = [f"m{n}x{filler}"[:MAX_LINE_BYTES] for n in range(16)]
    ledger = Ledger()

    def first_then_end(conn: socket.socket, peer: Peer) -> None:
        line = peer.read_line(conn)
        conn.sendall(line.upper())
        conn.shutdown(socket.SHUT_WR)  # the server goes away with megabytes on their way
        deadline = time.monotonic() + 30
        while not ledger.unconfirmed and time.monotonic() < deadline:
            time.sleep(0.01)  # a condition polled, with a deadline: the client's drop
        peer.saw_drop = bool(ledger.unconfirmed)
        while data := conn.recv(65536):  # what reached this end, for check()
            peer.received += data

    peer = Peer(first_then_end, Peer.echo_forever)

    async def main() -> None:
        worker = quick_worker(peer.port, ledger)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(worker.run)
            await drive(worker, ledger, lines)
            await ledger.settle(60)
            nursery.cancel_scope.cancel()

    try:
        trio.run(main)  # a bug in the worker raises out of here
    finally:
        peer.close()
    assert peer.saw_drop, "the client never reported the link's drop (30 s)"
    assert check(0, ledger, bytes(peer.received)) == []
    # The first line was echoed; the end caught lines written and not echoed; the lines not
    # yet written went out on the next connection and were echoed there.
    assert ledger.echoed[0] == (0, lines[0].upper().encode())
    assert ledger.unconfirmed
    assert ledger.requeued > 0
    assert ledger.echoed
    assert len(ledger.echoed) + len(ledger.unconfirmed) == 16


def test_a_line_the_peer_may_have_seen_is_never_resent() -> None:
    """A peer that reads `one` and drops the link: one, two, three are unconfirmed, not resent."""

    def read_one_then_drop(conn: socket.socket, peer: Peer) -> None:
        peer.read_line(conn)
        reset_now(conn)

    peer = Peer(read_one_then_drop, Peer.echo_forever)
    ledger = Ledger()

    async def main() -> None:
        worker = quick_worker(peer.port, ledger)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(worker.run)
            await drive(worker, ledger, ["one", "two", "three"])
            await ledger.wait_until(lambda: len(ledger.unconfirmed) == 3)
            await drive(worker, ledger, ["four"], first=3)
            await ledger.settle(30)
            nursery.cancel_scope.cancel()

    try:
        trio.run(main)
    finally:
        peer.close()
    assert check(0, ledger, bytes(peer.received)) == []
    assert sorted(ledger.unconfirmed) == [0, 1, 2]
    assert ledger.echoed == [(3, b"FOUR")]
    assert bytes(peer.received).count(b"one\n") == 1
