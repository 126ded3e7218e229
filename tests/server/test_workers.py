"""coio-server --workers N: N supervised processes on one port."""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import IO

import pytest

from coio.address import parse_listening_line
from coio.programs import program
from coio.protocol import BANNER
from coio.server.logsink import COPIER_NAME
from coio.server.workers import RESTART_LIMIT, SLOW_START, Supervisor
from tests.server.test_metrics import scrape
from tests.stress.probe import children, process_name
from tests.support import ServerProcess, recv_exactly, running_server, wait_until


def workers_of(server: ServerProcess) -> set[int]:
    """The parent's worker processes: its children but the log copier."""
    return {pid for pid in children(server.pid) if process_name(pid) != COPIER_NAME}


def wait_for_workers(server: ServerProcess, count: int, timeout: float = 10) -> set[int]:
    """Wait until ``count`` workers run and each has said it is serving; return their pids."""
    deadline = time.monotonic() + timeout
    while (
        len(pids := workers_of(server)) != count or server.log().count(" serving on ") < count
    ) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(pids) == count, server.log()
    return pids


def echo_once(server: ServerProcess, line: bytes = b"hello\n") -> None:
    with server.connect() as sock:
        assert recv_exactly(sock, len(BANNER)) == BANNER
        sock.sendall(line)
        assert recv_exactly(sock, len(line)) == line.upper()


def served_by(server: ServerProcess) -> dict[str, int]:
    """How many connections each worker (w1, w2, ...) has logged taking."""
    counts: dict[str, int] = {}
    for worker in re.findall(r" (w\d+) connect id=", server.log()):
        counts[worker] = counts.get(worker, 0) + 1
    return counts


def clients_on_every_worker(
    server: ServerProcess, workers: int, at_least: int = 40, batch: int = 20, most: int = 400
) -> list[socket.socket]:
    """Open clients, each past one echo, until ``at_least`` are open and each of ``workers``
    workers has logged taking some; the kernel decides who takes which, so more may be needed."""
    clients: list[socket.socket] = []
    while len(clients) < most:
        for _ in range(batch):
            sock = server.connect()
            clients.append(sock)
            assert recv_exactly(sock, len(BANNER)) == BANNER
            sock.sendall(b"spread\n")
            assert recv_exactly(sock, 7) == b"SPREAD\n"
        if len(clients) < at_least:
            continue
        logged = wait_until(lambda: sum(served_by(server).values()) == len(clients), 5)
        if logged and len(served_by(server)) == workers:
            return clients
    raise AssertionError(f"{len(clients)} clients, taken by {served_by(server)}")


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting to be reaped counts as gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            return not any(line.startswith("State:\tZ") for line in f)
    except FileNotFoundError:
        return False


def test_workers_share_the_port_and_print_one_line() -> None:
    """--port 0 --workers 2: one listening line, and both workers take clients on that port."""
    proc = subprocess.Popen(
        [*program("coio-server"), "--port", "0", "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    first = proc.stdout.readline()
    address = parse_listening_line(first)
    if address is None:
        proc.kill()
        proc.communicate()
        raise AssertionError(first)
    server = ServerProcess(proc, *address)
    out: list[bytes] = []
    server._out_thread = _read_lines(proc.stdout, out)
    server._log_thread = _read_lines(proc.stderr, server._log)
    try:
        assert address[0] == "127.0.0.1"
        wait_for_workers(server, 2)
        for sock in clients_on_every_worker(server, 2):
            sock.close()
    finally:
        code = server.stop()
    err = server.log()
    assert code == 0
    assert out == []  # nothing after the one listening line
    assert "listening" not in err
    assert {"w1", "w2"} <= set(re.findall(r" (w\d) connect id=", err))
    assert "Traceback" not in err


def _read_lines(stream: IO[bytes], sink: list[bytes]) -> threading.Thread:
    def read() -> None:
        for line in iter(stream.readline, b""):
            sink.append(line)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def test_killed_worker_is_replaced() -> None:
    """A worker killed with SIGKILL is restarted, and the port keeps serving meanwhile."""
    with running_server("--workers", "2") as server:
        before = wait_for_workers(server, 2)
        victim = min(before)
        os.kill(victim, signal.SIGKILL)
        echo_once(server)  # the other worker serves meanwhile
        deadline = time.monotonic() + 10
        while (victim in workers_of(server) or len(workers_of(server)) != 2) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.02)
        after = workers_of(server)
        for _ in range(10):
            echo_once(server)
        said = f"pid={victim} exited (killed by SIGKILL); restarting"
        assert wait_until(lambda: said in server.log(), 5), server.log()
    assert len(after) == 2
    assert victim not in after
    assert (before - {victim}) <= after


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_every_worker(sig: signal.Signals) -> None:
    """SIGTERM/SIGINT to the parent: every worker stops, the parent exits 0, no orphans."""
    with running_server("--workers", "3", "--grace", "1") as server:
        pids = wait_for_workers(server, 3)
        clients = server.welcomed_clients(30)
        code, elapsed = server.stop_timed(sig)
        for sock in clients:
            sock.close()
        log = server.log()
    assert code == 0
    assert elapsed < 5
    assert not [pid for pid in pids if alive(pid)]
    assert log.count(" stopped: served ") == 3
    assert "Traceback" not in log


def test_workers_stop_when_the_parent_is_killed() -> None:
    """SIGKILL to the parent (no chance to clean up): its workers still stop, no orphans."""
    with running_server("--workers", "2", "--grace", "1") as server:
        pids = wait_for_workers(server, 2)
        os.kill(server.pid, signal.SIGKILL)
        server.proc.wait(10)
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [pid for pid in pids if alive(pid)]


def test_crash_loop_is_capped(caplog: pytest.LogCaptureFixture) -> None:
    """Workers that die at once are restarted RESTART_LIMIT times, then the parent exits 1."""
    caplog.set_level(logging.INFO, logger="coio.server")
    start = time.monotonic()
    code = Supervisor(2, lambda index: 3, grace=0.5).run()
    elapsed = time.monotonic() - start
    started = [r for r in caplog.records if r.getMessage().startswith("worker ")]
    assert code == 1
    assert elapsed < 10
    assert len([r for r in started if " started " in r.getMessage()]) == 2 + RESTART_LIMIT
    assert "exited (exit code 3); restarting" in caplog.text
    assert "stopping" in caplog.text


def test_workers_exiting_0_are_not_crashes(caplog: pytest.LogCaptureFixture) -> None:
    """Workers that exit 0 by themselves are neither restarted nor a crash loop; parent exits 0."""
    caplog.set_level(logging.INFO, logger="coio.server")
    code = Supervisor(2, lambda index: 0, grace=0.5).run()
    lines = [r.getMessage() for r in caplog.records]
    assert code == 0
    assert len([line for line in lines if re.match(r"worker \d started ", line)]) == 2
    assert len([line for line in lines if "not a crash: not restarted" in line]) == 2
    assert lines[-1] == "every worker has stopped; exiting"
    assert "restarting" not in caplog.text


def test_worker_stopped_on_purpose_stays_stopped() -> None:
    """SIGTERM to a worker stops it for good (exit 0); SIGKILL to another, a crash, restarts it."""
    with running_server("--workers", "2") as server:
        stopped, killed = sorted(wait_for_workers(server, 2))
        os.kill(stopped, signal.SIGTERM)
        said = f"worker 1 pid={stopped} stopped by itself (exit code 0), not a crash: not restarted"
        assert wait_until(lambda: said in server.log(), 10), server.log()
        echo_once(server)  # the other worker serves
        os.kill(killed, signal.SIGKILL)
        restarted = f"pid={killed} exited (killed by SIGKILL); restarting"
        assert wait_until(lambda: restarted in server.log(), 10), server.log()
        assert wait_until(lambda: server.log().count(" serving on ") == 3, 10), server.log()
        after = workers_of(server)
        echo_once(server)
        code = server.stop()
        log = server.log()
    assert len(after) == 1
    assert not after & {stopped, killed}
    assert "1 of 2 workers serving" in log
    assert code == 0


def test_worker_whose_parent_died_before_it_asked_to_die_with_it_exits() -> None:
    """The parent killed between a worker's fork and its prctl: the worker sees it and exits."""
    # Test-only: each new worker waits SLOW_START seconds before its prctl.
    env = {"COIO_SERVER_FAULT": "slow-worker-start"}
    with running_server("--workers", "2", env=env) as server:
        assert wait_until(lambda: len(workers_of(server)) == 2, 10)
        pids = workers_of(server)
        os.kill(server.pid, signal.SIGKILL)  # inside the window: neither worker has asked yet
        server.proc.wait(10)
        try:
            wait_until(lambda: not any(alive(pid) for pid in pids), SLOW_START + 10)
            orphans = [pid for pid in pids if alive(pid)]
        finally:
            for pid in pids:
                if alive(pid):
                    os.kill(pid, signal.SIGKILL)
        assert orphans == [], f"workers outlived their parent: {orphans}"
        assert wait_until(lambda: server.log().count(" is gone; exiting") == 2, 5), server.log()


def test_metrics_sum_every_worker() -> None:
    """--workers 2 --metrics-port: one /metrics page sums what both workers served."""
    with running_server("--workers", "2", "--metrics-port", "0") as server:
        pids = wait_for_workers(server, 2)
        clients = clients_on_every_worker(server, 2)
        taken = served_by(server)
        n = len(clients)
        busy = wait_for_samples(
            server,
            {"coio_connections_total": n, "coio_connections_live": n, "coio_lines_total": n},
        )
        for sock in clients:
            sock.close()
        idle = wait_for_samples(server, {"coio_connections_live": 0})
        shared = {Path(line.split()[-1]).parent for pid in pids for line in _maps(pid)}
        code = server.stop()
    print(f"\n{len(clients)} clients taken by {taken}; /metrics counted {busy}")
    assert set(taken) == {"w1", "w2"}
    assert busy["coio_connections_total"] == len(clients) == sum(taken.values())
    assert busy["coio_connections_live"] == len(clients)
    assert busy["coio_received_bytes_total"] == len(clients) * len(b"spread\n")
    assert busy["coio_lines_total"] == len(clients)
    assert idle["coio_connections_live"] == 0
    assert code == 0
    assert len(shared) == 1  # both workers wrote to one directory...
    assert not any(path.exists() for path in shared)  # ...which the parent removed


def wait_for_samples(server: ServerProcess, expected: dict[str, float]) -> dict[str, float]:
    """Scrape until every sample in ``expected`` has its value (workers share once a second)."""
    samples: dict[str, float] = {}

    def arrived() -> bool:
        samples.update(scrape(server))
        return all(samples.get(name) == value for name, value in expected.items())

    wait_until(arrived, 5, 0.1)
    return samples


def _maps(pid: int) -> list[str]:
    """The lines of /proc/PID/maps naming prometheus_client's shared files."""
    with open(f"/proc/{pid}/maps") as f:
        return [line.strip() for line in f if "/coio-metrics-" in line]


def test_port_in_use_with_workers_is_one_line() -> None:
    """With --workers, a busy port is still one clear line and a non-zero exit."""
    with running_server() as busy:
        result = subprocess.run(
            [*program("coio-server"), "--port", str(busy.port), "--workers", "2"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"coio-server: cannot listen on 127.0.0.1:{busy.port}: the port is already in use"
    ]
