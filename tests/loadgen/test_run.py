"""coio-bench against real servers: it counts echoes, reports JSON, and catches wrong echoes."""

from __future__ import annotations

import os
import pty
import subprocess

from coio.programs import program
from tests.loadgen.helpers import QUICK, fake_server, last_line, run_bench, run_json
from tests.support import ServerProcess

JSON_KEYS = {
    "target", "mode", "clients", "size", "charset", "duration", "warmup", "rate", "procs",
    "loop", "connected", "connect_failures", "echoes", "echoes_per_s", "mb_per_s", "rtt_ms",
    "errors", "wrong_echo", "scheduled", "skipped", "generator", "ok",
}  # fmt: skip


def test_json_report_against_coio_server(server: ServerProcess) -> None:
    """--json against coio-server parses, has every key, and reports a clean verified run."""
    result, report = run_json("--port", str(server.port), "--clients", "4", *QUICK)
    assert result.returncode == 0, result.stderr
    assert set(report) == JSON_KEYS
    assert report["ok"] is True
    assert report["connected"] == 4
    assert report["echoes"] > 0
    assert report["errors"] == {}
    assert report["mode"] == "closed"
    rtt = report["rtt_ms"]
    assert 0 < rtt["p50"] <= rtt["p99"] <= rtt["max"]
    assert abs(report["echoes_per_s"] * 0.5 - report["echoes"]) <= 0.1 * report["echoes"] + 4
    assert report["mb_per_s"] == round(report["echoes_per_s"] * 64 / 1e6, 3)
    assert set(report["generator"]) == {"cpu_per_proc", "cpu_load", "cores", "cpu_bound"}


def test_text_report_against_coio_server(server: ServerProcess) -> None:
    """The human report names echoes/s, MB/s, the RTT percentiles and the generator's CPU."""
    result = run_bench("--port", str(server.port), "--clients", "2", "--size", "1024", *QUICK)
    assert result.returncode == 0, result.stderr
    for label in ("echoes/s", "MB/s", "p50", "p99", "max", "0 wrong", "generator    CPU"):
        assert label in result.stdout
    assert result.stderr == ""  # no progress line when stderr is not a terminal


def test_unicode_messages_verified_against_coio_server(server: ServerProcess) -> None:
    """--charset utf8 messages (ß -> SS and friends) verify against coio-server's uppercasing."""
    args = ("--port", str(server.port), "--clients", "2", "--charset", "utf8")
    result, report = run_json(*args, *QUICK)
    assert result.returncode == 0, result.stderr
    assert report["ok"] is True
    assert report["echoes"] > 0


def test_counts_exactly_the_echoes_the_server_sent() -> None:
    """With no warm-up, echoes counted = lines the server received, bar those in flight."""
    clients = 4
    with fake_server("upper") as server:
        result, report = run_json(
            "--port", str(server.port), "--clients", str(clients), "--duration", "0.5",
            "--warmup", "0", "--size", "16",
        )  # fmt: skip
        lines = server.stop()
    assert result.returncode == 0, result.stderr
    # Each client has one message in flight when the window closes, and its first echo may
    # land just before measuring starts: neither is counted.
    assert lines - 2 * clients <= report["echoes"] <= lines


def test_detects_a_server_that_does_not_uppercase() -> None:
    """A server that echoes bytes unchanged fails the run: wrong echoes counted, exit status 1."""
    with fake_server("same") as server:
        result, report = run_json("--port", str(server.port), "--clients", "3", *QUICK)
    assert result.returncode == 1
    assert report["ok"] is False
    assert report["errors"]["wrong echo"] == 3  # each client's first echo, then it hangs up
    wrong = report["wrong_echo"]
    assert wrong["got"] == wrong["expected"].lower()
    assert "wrong echo" in last_line(result.stderr)
    assert "Traceback" not in result.stderr


def test_detects_ascii_only_uppercasing_with_utf8_messages() -> None:
    """bytes.upper() passes ASCII messages but fails --charset utf8 (ß stays ß)."""
    with fake_server("upper") as server:
        ascii_run, _ = run_json("--port", str(server.port), "--clients", "2", *QUICK)
        utf8_run, report = run_json(
            "--port", str(server.port), "--clients", "2", "--charset", "utf8", *QUICK
        )
    assert ascii_run.returncode == 0, ascii_run.stderr
    assert utf8_run.returncode == 1
    assert report["errors"]["wrong echo"] == 2


def test_server_hanging_up_mid_run_is_an_error() -> None:
    """Connections the server closes during the run are counted as errors, exit status 1."""
    with fake_server("close") as server:
        result, report = run_json("--port", str(server.port), "--clients", "2", *QUICK)
    assert result.returncode == 1
    assert report["errors"] == {"closed by server": 2}
    assert "broke during the run" in last_line(result.stderr)


def test_open_loop_sends_at_the_requested_rate() -> None:
    """--rate sends on a fixed schedule: the window holds rate x duration messages, all echoed."""
    with fake_server("upper") as server:
        result, report = run_json(
            "--port", str(server.port), "--clients", "4", "--rate", "400", "--duration", "1",
            "--warmup", "0.2",
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert report["mode"] == "open"
    # Rate x window; a loaded machine may stretch the window (never shrink it) a little.
    assert 380 <= report["scheduled"] <= 500
    assert report["skipped"] == 0
    # Echoes still in flight at either edge of the window: a few, whatever the load.
    assert abs(report["echoes"] - report["scheduled"]) <= 20


def test_several_processes_merge_their_results(server: ServerProcess) -> None:
    """--procs 2 splits the clients over two processes and merges counts and CPU figures."""
    result, report = run_json("--port", str(server.port), "--clients", "5", "--procs", "2", *QUICK)
    assert result.returncode == 0, result.stderr
    assert report["connected"] == 5
    assert len(report["generator"]["cpu_per_proc"]) == 2
    assert report["echoes"] > 0


def test_progress_line_only_on_a_terminal(server: ServerProcess) -> None:
    """On a terminal, stderr carries a live progress line that is cleared before the report."""
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(
            [*program("coio-bench"), "--port", str(server.port), "--clients", "2", *QUICK],
            stdout=subprocess.PIPE,
            stderr=follower,
            timeout=60,
            check=False,
        )
        os.close(follower)
        shown = b""
        try:
            while chunk := os.read(leader, 65536):
                shown += chunk
        except OSError:  # EIO: the terminal's other end is closed and drained
            pass
    finally:
        os.close(leader)
    assert proc.returncode == 0
    assert b"echoes" in shown
    assert b"/s" in shown
    assert shown.endswith(b"\r")  # the line is blanked and the cursor returned
