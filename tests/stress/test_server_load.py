"""coio-server with many clients: thousands at once, idle ones, and the connection cap."""

from __future__ import annotations

import asyncio
import selectors
import socket
import threading
import time

import pytest

from coio.fds import raise_fd_limit
from coio.protocol import BANNER
from tests.stress.probe import (
    echo_rtts,
    fd_count,
    ms,
    percentile,
    rss_kb,
    welcomed,
)
from tests.support import ServerProcess, count_phrase, recv_exactly, running_server, wait_until

pytestmark = pytest.mark.stress

# The server sweeps for idle clients every quarter of --idle-timeout S (up to 1 s), so one is
# closed between S and 1.25 x S after its last byte (README). The slack covers scheduling on a
# loaded machine and the time the test takes to see the close.
SWEEP_SHARE = 0.25
IDLE_SLACK = 0.25
# README: an idle connection costs about 9.5 kB of server RSS with the default model (a parked
# greenlet: its slice of the C stack and a page of frame stack) and 0.9 kB with the reactor.
# Each bound leaves room for the allocator's and the kernel's page granularity, and still
# catches a per-connection buffer (64 KiB).
IDLE_BYTES_BOUND = {"gevent": 11_000, "reactor": 1_500}


async def _swarm(
    address: tuple[str, int], clients: int, echoes: int, server_pid: int
) -> tuple[int, list[float], list[str], int]:
    """Open ``clients`` connections, hold them all open, then each does ``echoes`` echoes.

    Returns (connect failures, echo round trips, wrong echoes, server fds with all open).
    """
    connecting = asyncio.Semaphore(500)  # a burst bigger than the listen backlog only adds retries
    all_open = asyncio.Event()
    opened = 0
    failures = 0
    rtts: list[float] = []
    wrong: list[str] = []

    async def client(n: int) -> None:
        nonlocal opened, failures
        try:
            async with connecting:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(*address), 30)
        except (OSError, TimeoutError):
            failures += 1
            opened += 1
            if opened == clients:
                all_open.set()
            return
        try:
            if await reader.readexactly(len(BANNER)) != BANNER:
                wrong.append(f"{n}: bad banner")
            opened += 1
            if opened == clients:
                all_open.set()
            await all_open.wait()
            for i in range(echoes):
                line = f"client {n} echo {i} größe\n".encode()
                expected = f"CLIENT {n} ECHO {i} GRÖSSE\n".encode()
                start = time.perf_counter()
                writer.write(line)
                got = await reader.readexactly(len(expected))
                rtts.append(time.perf_counter() - start)
                if got != expected:
                    wrong.append(f"{n}: {got!r}")
        finally:
            writer.close()
            await writer.wait_closed()

    async def watch_fds() -> int:
        await all_open.wait()
        return fd_count(server_pid)

    watcher = asyncio.create_task(watch_fds())
    await asyncio.gather(*(client(n) for n in range(clients)))
    return failures, rtts, wrong, await watcher


def test_five_thousand_simultaneous_clients(server: ServerProcess) -> None:
    """5,000 clients open at once, each echoing 3 lines: 0 connect failures, all echoes right."""
    raise_fd_limit(5000 + 200)
    base = rss_kb(server.pid)
    start = time.perf_counter()
    swarm = _swarm(server.address, 5000, 3, server.pid)
    failures, rtts, wrong, fds_at_peak = asyncio.run(asyncio.wait_for(swarm, 60))
    elapsed = time.perf_counter() - start
    peak = rss_kb(server.pid)
    print(
        f"\n5000 clients x 3 echoes in {elapsed:.1f} s: connect failures {failures},"
        f" echo p50 {ms(percentile(rtts, 50))} p99 {ms(percentile(rtts, 99))},"
        f" server fds with all open {fds_at_peak}, RSS +{peak - base} kB"
        f" ({(peak - base) * 1024 / 5000:.0f} B per connection)"
    )
    assert failures == 0
    assert wrong == []
    assert len(rtts) == 15000
    assert fds_at_peak >= 5000  # they really were all open at the same time
    assert wait_until(lambda: server.log().count("disconnect id=") == 5000, 20)
    assert "Traceback" not in server.log()


def test_idle_timeout_closes_on_time() -> None:
    """With --idle-timeout 1, silent clients are closed within 1-1.25 s; a chatty one stays."""
    timeout = 1.0
    with running_server("--idle-timeout", str(timeout)) as server:
        opened = time.monotonic()  # each idle client connects after this
        idle = [welcomed(server.address) for _ in range(50)]
        with welcomed(server.address) as chatty:
            talker = threading.Thread(target=_talk, args=(chatty, 6, 0.4))  # never silent 1 s
            talker.start()
            closed_after = _seconds_until_eof(idle, opened, timeout=5)
            talker.join(10)
            echo_rtts(chatty, 1)  # still served, after 2.4 s
        for sock in idle:
            sock.close()
        assert wait_until(lambda: server.log().count("reason=idle-timeout") == 50, 5)
        log = server.log()
    bound = timeout * (1 + SWEEP_SHARE) + IDLE_SLACK
    print(
        f"\nidle clients closed after {min(closed_after):.2f}-{max(closed_after):.2f} s"
        f" (--idle-timeout {timeout:g}; bound {timeout:g}-{bound:g} s)"
    )
    assert len(closed_after) == 50
    assert min(closed_after) >= timeout
    assert max(closed_after) < bound
    assert log.count("reason=idle-timeout") == 50
    assert "Traceback" not in log


def _talk(sock: socket.socket, times: int, pause: float) -> None:
    for _ in range(times):
        time.sleep(pause)
        echo_rtts(sock, 1)


def _seconds_until_eof(socks: list[socket.socket], since: float, timeout: float) -> list[float]:
    """Wait for each socket to reach EOF; return the seconds from ``since`` to each one."""
    closed = []
    with selectors.DefaultSelector() as sel:
        for sock in socks:
            sel.register(sock, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        while sel.get_map() and time.monotonic() < deadline:
            for key, _ in sel.select(0.1):
                assert key.fileobj.recv(1) == b""  # type: ignore[union-attr]
                closed.append(time.monotonic() - since)
                sel.unregister(key.fileobj)
    return closed


def test_idle_timeout_is_measured_from_last_data() -> None:
    """An idle client is closed 0.5-0.625 s after its last byte, not after it connected."""
    timeout = 0.5
    with running_server("--idle-timeout", str(timeout)) as server, welcomed(server.address) as sock:
        for _ in range(4):
            time.sleep(0.3)
            echo_rtts(sock, 1)
        last = time.monotonic()
        sock.settimeout(5)
        assert sock.recv(1) == b""
        silent = time.monotonic() - last
    bound = timeout * (1 + SWEEP_SHARE) + IDLE_SLACK
    print(
        f"\nclosed {silent:.2f} s after its last echo"
        f" (--idle-timeout {timeout:g}; bound {bound:g} s)"
    )
    # The server's clock started at its read, a little before ours at the echo.
    assert timeout - 0.05 < silent < bound


@pytest.mark.parametrize("model", list(IDLE_BYTES_BOUND))
def test_idle_clients_without_timeout_cost_only_memory(model: str) -> None:
    """Without --idle-timeout, 2,000 idle clients stay open and do not slow an active client."""
    raise_fd_limit(2000 + 200)
    with running_server("--model", model) as server, welcomed(server.address) as active:
        quiet = percentile(echo_rtts(active, 500), 99)
        base = rss_kb(server.pid)
        idle = [welcomed(server.address) for _ in range(2000)]
        try:
            # Every connect line written: the log queue has drained and holds no memory.
            logged = wait_until(lambda: count_phrase(server.log(), "connect id=") == 2001, 10)
            assert logged, server.log()[-500:]
            busy = percentile(echo_rtts(active, 500), 99)
            per_conn = (rss_kb(server.pid) - base) * 1024 / len(idle)
            for sock in idle[::100]:  # still open and still served
                echo_rtts(sock, 1)
        finally:
            for sock in idle:
                sock.close()
    print(f"\nactive client's echo p99 {ms(quiet)} alone, {ms(busy)} with 2000 idle (bound 50 ms)")
    bound = IDLE_BYTES_BOUND[model]
    print(f"{per_conn:.0f} B server RSS per idle connection, --model {model} (bound {bound} B)")
    assert busy < 0.05
    assert per_conn < bound


def test_max_connections_holds_extra_clients_in_backlog() -> None:
    """With --max-connections 3 the 4th client waits unserved, and is served once a slot frees."""
    with running_server("--max-connections", "3") as server:
        first = [welcomed(server.address) for _ in range(3)]
        extra = socket.create_connection(server.address, timeout=10)  # the kernel accepts it
        extra.settimeout(0.5)
        with pytest.raises(TimeoutError):
            extra.recv(1)  # no banner: the server is not serving it yet
        for sock in first[1:]:
            echo_rtts(sock, 1)  # the others are still served
        first[0].close()
        extra.settimeout(5)
        assert recv_exactly(extra, len(BANNER)) == BANNER
        echo_rtts(extra, 3)
        extra.close()
        for sock in first[1:]:
            sock.close()
        assert wait_until(lambda: server.log().count("disconnect id=") == 4, 5)
        log = server.log()
    assert "Traceback" not in log
    assert server.proc.returncode == 0
