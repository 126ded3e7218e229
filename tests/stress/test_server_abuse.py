"""coio-server under abusive clients: huge lines, non-readers, resets, churn and half-closes."""

from __future__ import annotations

import itertools
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from coio.protocol import upper_bytes
from tests.server.test_metrics import scrape
from tests.stress.probe import (
    echo_rtts,
    fd_count,
    ms,
    percentile,
    reset_close,
    rss_kb,
    welcomed,
)
from tests.support import ServerProcess, recv_until_eof, running_server, wait_until

pytestmark = pytest.mark.stress

MB = 1024 * 1024
# A never-reading client's send that takes nothing for this long, several times in a row,
# means every buffer between it and the server is full.
STALL = 0.05
STALLS_WHEN_FULL = 3
# Text with 1-, 2- and 3-byte characters, and one that grows when uppercased (ß -> SS).
MIXED = "straße é 中文 ǆ plain ascii words ".encode()


class RssSampler:
    """Samples a process's RSS every few ms in a thread; ``peak`` is the largest seen."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = rss_kb(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, rss_kb(self.pid))


def test_ten_megabytes_without_newline(server: ServerProcess) -> None:
    """10 MB with no newline, read concurrently: every byte echoed right, RSS growth < 8 MB."""
    payload = (MIXED * (10 * MB // len(MIXED) + 1))[: 10 * MB]  # ends mid-character
    expected = upper_bytes(payload)
    base = rss_kb(server.pid)
    got = bytearray()
    with welcomed(server.address, timeout=30) as sock, RssSampler(server.pid) as rss:
        reader = threading.Thread(target=lambda: got.extend(recv_until_eof(sock)))
        reader.start()
        start = time.perf_counter()
        view = memoryview(payload)
        for i in range(0, len(payload), 64 * 1024):
            sock.sendall(view[i : i + 64 * 1024])
        sock.shutdown(socket.SHUT_WR)
        reader.join(60)
        elapsed = time.perf_counter() - start
    growth = rss.peak - base
    print(f"\n10 MB no newline: {elapsed:.2f} s, server RSS {base} kB, peak growth {growth} kB")
    assert len(got) == len(expected)
    assert bytes(got) == expected
    assert growth < 8 * 1024  # a fraction of the payload: the server streams, never buffers


def test_sender_that_never_reads(server: ServerProcess) -> None:
    """A client that sends and never reads is held back; memory stays bounded; others fast."""
    base = rss_kb(server.pid)
    stop = threading.Event()
    accepted = [0]
    stalls = [0]  # sends in a row that took nothing for STALL seconds

    def flood(sock: socket.socket) -> None:
        sock.settimeout(STALL)
        chunk = b"never read " * 6000
        while not stop.is_set():
            try:
                accepted[0] += sock.send(chunk)
                stalls[0] = 0
            except TimeoutError:
                stalls[0] += 1

    with welcomed(server.address) as hog, RssSampler(server.pid) as rss:
        flooder = threading.Thread(target=flood, args=(hog,))
        flooder.start()
        # Every buffer on the path is full once sends in a row take nothing at all.
        filled = wait_until(lambda: stalls[0] >= STALLS_WHEN_FULL, 10, STALL / 2)
        stalled_at = accepted[0]
        with welcomed(server.address) as other:
            rtts = echo_rtts(other, 1000, b"hello while flooded\n")
        still = accepted[0]
        stop.set()
        flooder.join(5)
    assert filled, f"the hog's sends never stalled: {accepted[0] / MB:.1f} MB taken"
    p99 = percentile(rtts, 99)
    growth = rss.peak - base
    print(
        f"\nnever-reading sender: got {still / MB:.1f} MB in before stalling;"
        f" server RSS growth {growth} kB; other client's echo p50 {ms(percentile(rtts, 50))}"
        f" p99 {ms(p99)} (1000 echoes)"
    )
    assert still == stalled_at  # backpressure: nothing more read from the hog meanwhile
    assert still < 64 * MB  # only kernel socket buffers' worth got in
    assert growth < 8 * 1024
    assert p99 < 0.1


def test_streamer_does_not_starve_others() -> None:
    """A client streaming and reading flat out keeps another client's echo p99 under 100 ms."""
    with running_server("--metrics-port", "0") as server:
        streamer = subprocess.Popen(
            [sys.executable, "-m", "coio.loadgen.streamer", server.host, str(server.port), "3"],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            # Probe only once the streamer is moving bytes through the server.
            assert wait_until(lambda: received(server) > 4 * MB, 10), received(server)
            moved = [received(server)]
            with welcomed(server.address) as other:
                rtts = echo_rtts(other, 500, b"am i starved\n")
                moved.append(received(server))
                rtts += echo_rtts(other, 500, b"am i starved\n")
                moved.append(received(server))
        finally:
            out, _ = streamer.communicate(timeout=30)
    echoed = int(out.split()[0])
    during = [(b - a) / MB for a, b in itertools.pairwise(moved)]
    p99 = percentile(rtts, 99)
    print(
        f"\nflat-out streamer echoed {echoed / MB:.0f} MB, of which"
        f" {' + '.join(f'{mb:.0f}' for mb in during)} MB in each half of the probes;"
        f" other client's p50 {ms(percentile(rtts, 50))} p99 {ms(p99)} max {ms(max(rtts))}"
    )
    assert streamer.returncode == 0
    assert all(mb > 1 for mb in during)  # it was streaming all through the probes
    assert p99 < 0.1


def received(server: ServerProcess) -> float:
    """The server's count of bytes received, from /metrics."""
    return scrape(server)["coio_received_bytes_total"]


def test_resets_mid_stream_leak_nothing(server: ServerProcess) -> None:
    """1,000 clients reset (SO_LINGER 0) mid-echo: server alive, fds back to base, no traceback."""
    with welcomed(server.address):
        pass
    assert wait_until(lambda: server.log().count("disconnect id=") == 1, 5)
    base = fd_count(server.pid)

    def reset_one(_: int) -> None:
        sock = welcomed(server.address)
        sock.sendall(b"reset me " * 4000)
        reset_close(sock)

    start = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(reset_one, range(1000)))
    elapsed = time.perf_counter() - start
    assert wait_until(lambda: server.log().count("disconnect id=") == 1001, 10)
    after = fd_count(server.pid)
    log = server.log()
    print(f"\n1000 resets in {elapsed:.2f} s; server fds {base} before, {after} after")
    assert after == base
    assert "Traceback" not in log
    assert log.count("reason=reset") + log.count("reason=broken-pipe") == 1000
    with welcomed(server.address) as sock:
        echo_rtts(sock, 3)


def test_connect_close_churn_leaks_nothing(server: ServerProcess) -> None:
    """2,000 connect/banner/close cycles: server alive, fds back to base, no traceback."""
    base = fd_count(server.pid)
    start = time.perf_counter()
    for _ in range(2000):
        welcomed(server.address).close()
    elapsed = time.perf_counter() - start
    assert wait_until(lambda: server.log().count("disconnect id=") == 2000, 10)
    after = fd_count(server.pid)
    log = server.log()
    print(
        f"\n2000 connect/banner/close in {elapsed:.2f} s; server fds {base} before, {after} after"
    )
    assert after == base
    assert "Traceback" not in log
    assert log.count("reason=eof") == 2000
    with welcomed(server.address) as sock:
        echo_rtts(sock, 3)


def test_half_close_with_data_in_flight(server: ServerProcess) -> None:
    """20 clients each send 1 MB and half-close at once: all of it echoed, then EOF."""
    payload = (MIXED * (MB // len(MIXED) + 1))[: MB + 1]  # ends mid-character
    expected = upper_bytes(payload)

    def one(_: int) -> bytes:
        with welcomed(server.address, timeout=30) as sock:
            got = bytearray()
            reader = threading.Thread(target=lambda: got.extend(recv_until_eof(sock)))
            reader.start()
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)
            reader.join(60)
            return bytes(got)

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(one, range(20)))
    assert all(r == expected for r in results)
    assert wait_until(lambda: server.log().count("reason=eof") == 20, 5)
