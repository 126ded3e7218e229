"""coio-server's observability: Prometheus metrics, connection log lines and the stats line."""

from __future__ import annotations

import re
import socket
import struct
import time
import urllib.request

from coio.address import parse_metrics_line
from coio.protocol import BANNER
from tests.support import ServerProcess, recv_exactly, running_server, wait_until

SAMPLE = re.compile(r"^(\w+)(\{[^}]*\})? (\S+)$", re.MULTILINE)


def scrape(server: ServerProcess) -> dict[str, float]:
    """Fetch /metrics and return every sample as {name{labels}: value}."""
    deadline = time.monotonic() + 5
    while (url := parse_metrics_line(server.log())) is None:
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.02)
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    return {name + (labels or ""): float(value) for name, labels, value in SAMPLE.findall(text)}


def wait_for(server: ServerProcess, name: str, value: float) -> dict[str, float]:
    """Scrape until sample ``name`` equals ``value`` (a disconnect is counted asynchronously)."""
    deadline = time.monotonic() + 5
    while (samples := scrape(server)).get(name) != value and time.monotonic() < deadline:
        time.sleep(0.05)
    return samples


def test_metrics_count_connections_bytes_chunks_and_errors() -> None:
    """/metrics reports live and total connections, bytes in/out, echo chunks, errors by kind."""
    with running_server("--metrics-port", "0") as server:
        before = scrape(server)
        assert before["coio_connections_live"] == 0
        assert before["coio_connections_total"] == 0
        kept = server.connect()
        recv_exactly(kept, len(BANNER))
        kept.sendall("straße\n".encode())  # 8 bytes in, 8 bytes out ("STRASSE\n")
        assert recv_exactly(kept, 8) == b"STRASSE\n"
        reset = server.connect()
        recv_exactly(reset, len(BANNER))
        reset.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        reset.close()
        samples = wait_for(server, 'coio_errors_total{kind="reset"}', 1)
        kept.close()
    assert samples["coio_connections_live"] == 1
    assert samples["coio_connections_total"] == 2
    assert samples["coio_received_bytes_total"] == 8
    assert samples["coio_sent_bytes_total"] == 8 + 2 * len(BANNER)
    assert samples["coio_echo_chunks_total"] == 1
    assert samples["coio_lines_total"] == 1
    assert samples['coio_errors_total{kind="reset"}'] == 1


def test_connect_and_disconnect_log_lines() -> None:
    """Each connection logs one connect and one disconnect line with its id, peer and reason."""
    with running_server() as server:
        sock = server.connect()
        recv_exactly(sock, len(BANNER))
        port = sock.getsockname()[1]
        sock.close()
        deadline = time.monotonic() + 5
        while "disconnect id=" not in server.log() and time.monotonic() < deadline:
            time.sleep(0.02)
        log = server.log()
    connect = re.search(r"connect id=(c\w+) peer=127\.0\.0\.1:(\d+) live=1", log)
    assert connect is not None, log
    assert int(connect.group(2)) == port
    assert f"disconnect id={connect.group(1)} peer=127.0.0.1:{port} reason=eof live=0" in log


def test_stats_line_only_when_something_changed() -> None:
    """The stats line names live/total and rates, and is not repeated while nothing moves."""
    # The quiet span is the server's own: it ends when --idle-timeout closes the client, a
    # change the next stats line reports; the log's timestamps show how long it lasted.
    interval, idle = 0.2, 1.0
    args = ("--stats-interval", str(interval), "--idle-timeout", str(idle))
    with running_server(*args) as server:
        sock = server.connect()
        recv_exactly(sock, len(BANNER))
        for _ in range(10):
            sock.sendall(b"line\n")
            recv_exactly(sock, 5)
        assert wait_until(lambda: "reason=idle-timeout" in server.log(), idle + 5), server.log()
        assert wait_until(lambda: "stats live=0" in server.log(), 5), server.log()
        sock.close()
        log = server.log()
    line = re.search(r"stats live=1 total=1 new=1 msgs/s=\d+ in_B/s=\d+ out_B/s=\d+", log)
    assert line is not None, log
    quiet = log[log.index(line.group()) + len(line.group()) : log.index("reason=idle-timeout")]
    assert " stats " not in quiet, log  # nothing moved: no line
    spoke = _when(log, "stats live=1 total=1 new=1")
    closed = _when(log, "reason=idle-timeout")
    assert closed - spoke >= 3 * interval, log  # quiet for three intervals at least


def _when(log: str, phrase: str) -> float:
    """The time of day (seconds) of the first log line holding ``phrase``."""
    stamp = re.search(rf"^\S+ (\d\d):(\d\d):(\d\d),(\d\d\d) .*{re.escape(phrase)}", log, re.M)
    assert stamp is not None, log
    hours, minutes, seconds, millis = (int(x) for x in stamp.groups())
    return hours * 3600 + minutes * 60 + seconds + millis / 1000
