"""coio-server's command line and lifecycle: flags, startup errors, and signals."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import socket
import subprocess

import pytest

from coio.programs import program
from tests.support import running_server


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*program("coio-server"), *args],
        capture_output=True,
        text=True,
        timeout=20,
        env={**os.environ, **(env or {})},
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], needle: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert needle in lines[-1], result.stderr


def test_version_and_help() -> None:
    """--version names the program; --help lists every flag."""
    version = run_cli("--version")
    assert version.returncode == 0
    assert version.stdout.startswith("coio-server ")
    usage = run_cli("--help").stdout
    flags = ("--host", "--port", "--max-connections", "--idle-timeout", "--grace", "--workers")
    for flag in (*flags, "--log-level"):
        assert flag in usage


def test_port_in_use_is_one_clear_line() -> None:
    """A busy port gives one clear line and a non-zero exit, no traceback."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("--port", str(port))
    assert_one_line_error(result, "already in use")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--port", "70000"], "port must be 0-65535"),
        (["--port", "http"], "not a port number"),
        (["--max-connections", "0"], "must be 1-1000000, got 0"),
        (["--idle-timeout", "soon"], "not a number of seconds"),
        (["--log-level", "loud"], "invalid choice"),
        (["--host", "no-such-host.invalid"], "unknown host"),
        (["--host", "192.0.2.1"], "not an address of this machine"),
        (["--host", ""], "--host: empty"),
        (["--idle-timeout", "inf"], "must be a finite number"),
        (["--stats-interval", "nan"], "must be a finite number"),
        (["--stats-interval", "1e-9"], "must be 0 (off) or at least 0.1"),
        (["--grace", "-1"], "must be at least 0"),
        (["--max-connections", "99999999999"], "must be 1-1000000, got 99999999999"),
        (["--max-connections", "1e3"], "not a whole number"),
        (["--metrics-port", "-1"], "port must be 0-65535"),
        (["--workers", "0"], "must be 1-256, got 0"),
        (["--workers", "1000"], "must be 1-256, got 1000"),
        (["--workers", "2", "--host", "no-such-host.invalid"], "unknown host"),
    ],
)
def test_bad_flags_are_one_clear_line(args: list[str], needle: str) -> None:
    """Bad flag values and unusable hosts give one clear line, non-zero exit."""
    assert_one_line_error(run_cli(*args), needle)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_metrics_port_in_use_names_the_metrics_address(workers: str) -> None:
    """A busy --metrics-port is one line naming that port, before any listening line."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("--port", "0", "--metrics-port", str(port), "--workers", workers)
    assert_one_line_error(result, f"cannot listen on 127.0.0.1:{port}: the port is already in use")
    assert result.stdout == ""


def test_unknown_fault_is_one_clear_line() -> None:
    """A misspelt test-only $COIO_SERVER_FAULT is refused in one line, not ignored."""
    result = run_cli("--port", "0", env={"COIO_SERVER_FAULT": "echo,ecko"})
    assert_one_line_error(result, "$COIO_SERVER_FAULT: unknown fault 'ecko'")


ROOT = os.geteuid() == 0


@pytest.mark.skipif(ROOT and shutil.which("setpriv") is None, reason="root, and no setpriv")
def test_privileged_port_as_unprivileged_user() -> None:
    """As an unprivileged user (root drops to nobody with setpriv), port 1 is one clear line."""
    drop = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if ROOT else []
    # Not measured: as nobody, the server could not write a coverage file beside the tests.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
    result = subprocess.run(
        [*drop, *program("coio-server"), "--port", "1"],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
        env=env,
    )
    assert_one_line_error(result, "permission denied (ports below 1024 need privileges)")


def test_privileged_port_message() -> None:
    """EACCES on bind (a port below 1024 without privileges) reads as permission denied."""
    # The tests may run as root, which can bind low ports, so check the message itself.
    from coio.server.cli import describe_bind_error

    exc = OSError(errno.EACCES, "Permission denied")
    assert "permission denied" in describe_bind_error(exc, "127.0.0.1", 80)


def test_env_fallbacks_and_bad_env_port() -> None:
    """COIO_PORT is used when --port is absent, and a bad value is one clear line."""
    assert_one_line_error(run_cli(env={"COIO_PORT": "nope"}), "$COIO_PORT")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_with_clients_connected_exits_zero(sig: signal.Signals) -> None:
    """SIGTERM/SIGINT with clients connected: exit 0 in the grace period, no traceback."""
    with running_server() as server:
        clients = server.welcomed_clients(50)
        code, elapsed = server.stop_timed(sig)
        for sock in clients:
            sock.close()
        log = server.log()
    assert code == 0
    assert elapsed < 8
    assert "Traceback" not in log
    assert "stop accepting" in log
    with running_server("--port", str(server.port)) as again:  # the port is free at once
        assert again.port == server.port
