"""Measure a running server from outside: its RSS and fds from /proc, echo round trips, waits."""

from __future__ import annotations

import os
import socket
import struct
import time

from coio.protocol import BANNER
from tests.support import recv_exactly


def rss_kb(pid: int) -> int:
    """The process's resident set size in kB (VmRSS from /proc/PID/status)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")


def fd_count(pid: int) -> int:
    """How many file descriptors the process has open."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (none once it has exited)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except FileNotFoundError:
        return []


def process_name(pid: int) -> str:
    """The process's name (/proc/PID/comm), or "" once it has exited."""
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except FileNotFoundError:
        return ""


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank; values need not be sorted."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def welcomed(address: tuple[str, int], timeout: float = 10.0) -> socket.socket:
    """Connect and read the banner (fails the test if it is not exactly the banner)."""
    sock = socket.create_connection(address, timeout=timeout)
    assert recv_exactly(sock, len(BANNER)) == BANNER
    return sock


def echo_rtts(sock: socket.socket, count: int, line: bytes = b"ping\n") -> list[float]:
    """Send ``line`` ``count`` times, each after the last echo; return each round trip (s)."""
    assert line.isascii(), "bytes.upper() is this probe's oracle: exact for ASCII only"
    rtts = []
    expected = line.upper()
    for _ in range(count):
        start = time.perf_counter()
        sock.sendall(line)
        assert recv_exactly(sock, len(expected)) == expected
        rtts.append(time.perf_counter() - start)
    return rtts


def reset_close(sock: socket.socket) -> None:
    """Close with SO_LINGER 0: the kernel sends RST instead of FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"
