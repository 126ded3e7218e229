"""A fault-injecting TCP proxy, run as its own process between a client and coio-server.

    python tests/chaos_proxy.py --upstream PORT --schedules N --base B --log-dir DIR

It listens on one loopback port per schedule and prints ``schedule S port P`` for each, then
``ready``. The k-th connection accepted for schedule S follows a plan drawn from a random
generator seeded with ``B:S:k``, so a failing schedule replays exactly: the first few
connections of a schedule each get a fault, later ones are clean, so every schedule ends.

Faults: the stream split at every byte, delays, a stall, a reset (RST both ways) after some
bytes, a half-close toward the server, a black hole (bytes swallowed, then a reset). A
connection the server refuses (it is restarting) is reset at once. Every byte forwarded to the
server is appended to ``DIR/S.up``: what the server may have seen, for the test's oracle.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import socket
import struct
from dataclasses import dataclass
from pathlib import Path

import trio

FAULTS = ("split", "delay", "stall", "reset", "halfclose", "blackhole")
# The first connections of a schedule that may carry a fault; later ones are clean.
MAX_FAULTY = 4
# A split link forwards this many bytes each way one byte at a time, then whole reads: every
# split point of the banner and the first lines, without 40,000 sends for a long line.
SPLIT_BYTES = 600


@dataclass(frozen=True)
class Plan:
    """What happens to one connection."""

    fault: str | None  # one of FAULTS, or None: a clean link
    split: bool  # forward one byte at a time (both ways)
    upstream: bool  # the reset / black hole is triggered by bytes toward the server
    after: int  # ... once this many bytes went that way
    pause: float  # the stall's or the black hole's length, or the per-chunk delay

    @classmethod
    def draw(cls, base: int, schedule: int, k: int, faults: tuple[str, ...] = FAULTS) -> Plan:
        rng = random.Random(f"{base}:{schedule}:{k}")
        faulty = random.Random(f"{base}:{schedule}").randint(0, MAX_FAULTY)
        if k >= faulty:
            return cls(None, rng.random() < 0.2, True, 0, 0.0)
        fault = rng.choice(faults)
        pause = rng.uniform(0.001, 0.01) if fault == "delay" else rng.uniform(0.05, 0.4)
        return cls(fault, rng.random() < 0.3, rng.random() < 0.7, rng.randint(0, 3000), pause)


def reset(stream: trio.SocketStream) -> None:
    """Close with RST (SO_LINGER 0), as a dropped link or a killed peer looks."""
    with contextlib.suppress(OSError):
        stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    stream.socket.close()


class Link:
    """One proxied connection under its plan."""

    def __init__(
        self, plan: Plan, client: trio.SocketStream, server: trio.SocketStream, log: Path
    ) -> None:
        self.plan = plan
        self.client = client
        self.server = server
        self.log = log
        self.moved = {True: 0, False: 0}  # bytes forwarded toward the server / the client
        self.swallow = False  # black hole: read and drop everything
        self.fired = False  # the fault happens once

    async def run(self) -> None:
        async with trio.open_nursery() as nursery:
            self.nursery = nursery
            nursery.start_soon(self.pump, self.client, self.server, True)
            nursery.start_soon(self.pump, self.server, self.client, False)

    def triggers(self, up: bool) -> bool:
        """Whether this direction's bytes set off the plan's fault."""
        fault = self.plan.fault
        if fault == "halfclose":
            return up
        return fault in ("stall", "reset", "blackhole") and up == self.plan.upstream

    async def pump(self, src: trio.SocketStream, dst: trio.SocketStream, up: bool) -> None:
        plan = self.plan
        try:
            while True:
                data = await src.receive_some(65536)
                if not data:  # EOF: pass the half-close on
                    if not self.swallow:
                        await dst.send_eof()
                    return
                if self.swallow:
                    continue
                if plan.fault == "delay":
                    await trio.sleep(plan.pause)
                if self.triggers(up) and not self.fired and self.moved[up] + len(data) > plan.after:
                    self.fired = True
                    cut = max(0, plan.after - self.moved[up])
                    await self.forward(dst, data[:cut], up)
                    if plan.fault == "halfclose":
                        await dst.send_eof()  # the server sees EOF; the client's rest is dropped
                        self.swallow_direction(src)
                        return
                    await self.fault()
                    data = data[cut:]  # only a stall goes on
                await self.forward(dst, data, up)
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            self.nursery.cancel_scope.cancel()

    def swallow_direction(self, src: trio.SocketStream) -> None:
        async def drain() -> None:
            try:
                while await src.receive_some(65536):
                    pass
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
                pass

        self.nursery.start_soon(drain)

    async def fault(self) -> None:
        plan = self.plan
        if plan.fault == "stall":
            await trio.sleep(plan.pause)
        elif plan.fault == "reset":
            reset(self.client)
            reset(self.server)
            self.nursery.cancel_scope.cancel()
        elif plan.fault == "blackhole":
            self.swallow = True
            await trio.sleep(plan.pause)
            reset(self.client)
            reset(self.server)
            self.nursery.cancel_scope.cancel()

    async def forward(self, dst: trio.SocketStream, data: bytes, up: bool) -> None:
        if not data:
            return
        if up:
            with self.log.open("ab") as log:
                log.write(data)
        single = max(0, SPLIT_BYTES - self.moved[up]) if self.plan.split else 0
        for i in range(min(single, len(data))):
            await dst.send_all(data[i : i + 1])
        if len(data) > single:
            await dst.send_all(data[single:])
        self.moved[up] += len(data)


async def serve_schedule(
    listener: trio.SocketListener,
    schedule: int,
    base: int,
    upstream: int,
    log: Path,
    faults: tuple[str, ...],
) -> None:
    accepted = 0

    async def handle(client: trio.SocketStream, k: int) -> None:
        plan = Plan.draw(base, schedule, k, faults)
        try:
            server = await trio.open_tcp_stream("127.0.0.1", upstream)
        except OSError:  # the server is restarting: the client sees a reset
            reset(client)
            return
        try:
            await Link(plan, client, server, log).run()
        finally:
            client.socket.close()
            server.socket.close()

    async with trio.open_nursery() as nursery:
        while True:
            client = await listener.accept()
            nursery.start_soon(handle, client, accepted)
            accepted += 1


async def main(args: argparse.Namespace) -> None:
    log_dir = Path(args.log_dir)
    async with trio.open_nursery() as nursery:
        for schedule in range(args.schedules):
            listener = (await trio.open_tcp_listeners(0, host="127.0.0.1"))[0]
            port = listener.socket.getsockname()[1]
            print(f"schedule {schedule} port {port}", flush=True)
            log = log_dir / f"{schedule}.up"
            nursery.start_soon(
                serve_schedule, listener, schedule, args.base, args.upstream, log, args.faults
            )
        print("ready", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--upstream", type=int, required=True)
    parser.add_argument("--schedules", type=int, required=True)
    parser.add_argument("--base", type=int, required=True)
    parser.add_argument("--log-dir", required=True)
    parser.add_argument(
        "--faults",
        type=lambda text: tuple(text.split(",")),
        default=FAULTS,
        help=f"comma-separated subset of {','.join(FAULTS)} (default: all)",
    )
    trio.run(main, parser.parse_args())
