"""coio-server with a stderr pipe nobody reads, under 10,000 connect/close cycles."""

from __future__ import annotations

import re
import time

import pytest

from tests.server.test_metrics import scrape
from tests.stress.probe import echo_rtts, ms, percentile, welcomed
from tests.support import wait_until
from tests.unread_stderr import (
    blocked_in_pipe_write,
    drain_stderr,
    server_with_unread_stderr,
    start_churn,
    stderr_fill,
)

pytestmark = pytest.mark.stress

CYCLES = 10_000
# An active client's round trip while the log is blocked and the server is busy accepting:
# what a client would notice as the server hanging is far above this.
P99_LIMIT = 0.010


def test_blocked_stderr_keeps_echoes_fast_and_counts_drops() -> None:
    """10,000 cycles with stderr unread: echo p99 < 10 ms; drops counted, then reported once."""
    with server_with_unread_stderr("--metrics-port", "0", until="metrics on") as server:
        with welcomed(server.address) as active:
            churner = start_churn(server.address, CYCLES)
            rtts: list[float] = []
            deadline = time.monotonic() + 120
            while churner.poll() is None and time.monotonic() < deadline:
                rtts += echo_rtts(active, 1, b"are you there\n")
            out, _ = churner.communicate(timeout=30)
            waiting, capacity = stderr_fill(server)
            blocked = blocked_in_pipe_write(server.pid)
        dropped = scrape(server)["coio_log_dropped_total"]
        drain_stderr(server)
        reported = re.compile(r"log: (\d+) lines dropped while stderr was not taking them")
        assert wait_until(lambda: reported.search(server.log()), 10), server.log()[-2000:]
        samples = scrape(server)
        code = server.stop()
        log = server.log()
    p99 = percentile(rtts, 99)
    said = reported.findall(log)
    print(
        f"\n{out.strip()} connect/close cycles with stderr unread ({waiting} of {capacity} bytes"
        f" in the pipe): active client's echo p50 {ms(percentile(rtts, 50))} p99 {ms(p99)}"
        f" max {ms(max(rtts))} ({len(rtts)} echoes); {dropped:.0f} log lines dropped,"
        f" reported as {said}"
    )
    assert int(out) == CYCLES
    assert blocked, f"no thread of the server is blocked writing to its stderr pipe ({waiting} B)"
    assert p99 < P99_LIMIT
    assert dropped > 0
    assert said == [str(int(samples["coio_log_dropped_total"]))]  # one line says how many
    assert samples["coio_connections_total"] == CYCLES + 1
    assert code == 0
    assert "Traceback" not in log
    assert f"stopped: served {CYCLES + 1} connections" in log  # the last lines are written
