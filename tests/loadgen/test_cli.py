"""coio-bench's command line: help, bad flags, a dead server, a peer that is not a coio server."""

from __future__ import annotations

import socket

import pytest

from tests.loadgen.helpers import fake_server, last_line, run_bench


def assert_one_line(result, needle: str, code: int) -> None:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert needle in last_line(result.stderr), result.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_help_and_version() -> None:
    """--help names every flag and the exit statuses; --version names the program."""
    shown = run_bench("--help")
    assert shown.returncode == 0
    for flag in ("--host", "--port", "--clients", "--size", "--duration", "--warmup", "--rate",
                 "--procs", "--charset", "--connect-timeout", "--json", "exit status"):  # fmt: skip
        assert flag in shown.stdout
    version = run_bench("--version")
    assert version.returncode == 0
    assert version.stdout.startswith("coio-bench ")


def test_refused_connection_is_one_line() -> None:
    """Nothing listening: one line naming the address and the refusal, exit status 1."""
    port = free_port()
    result = run_bench("--port", str(port), "--clients", "3", "--duration", "0.5")
    assert_one_line(result, f"cannot connect to 127.0.0.1:{port}: connection refused", 1)
    assert len(result.stderr.strip().splitlines()) == 1


def test_wrong_banner_is_one_line() -> None:
    """A peer that greets with something else is named as not a coio server."""
    with fake_server("banner") as server:
        result = run_bench("--port", str(server.port), "--clients", "2", "--duration", "0.5")
    assert_one_line(result, "not a coio server: it sent b'SSH-2.0", 1)


def test_silent_peer_is_one_line() -> None:
    """A peer that accepts but never sends the banner is named as such after the timeout."""
    with fake_server("silent") as server:
        result = run_bench("--port", str(server.port), "--clients", "2", "--connect-timeout", "0.5")
    assert_one_line(result, "connected, but no banner in 0.5 s", 1)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--clients", "0"], "--clients: must be 1-"),
        (["--size", "big"], "--size: not a number of bytes: 'big'"),
        (["--port", "70000"], "--port: port must be 1-65535, got 70000"),
        (["--duration", "nan"], "--duration: must be a finite number, got nan"),
        (["--rate", "-5"], "--rate: must be 0.001-1000000000, got -5"),
        (["--charset", "latin1"], "--charset: invalid choice"),
        (["--clients", "2", "--procs", "3"], "--procs 3 is more than --clients 2"),
        (["--clients", "900000"], "file descriptors per process"),
        (["--host", "no-such-host.invalid"], "unknown host 'no-such-host.invalid'"),
    ],
)
def test_bad_flags_are_one_line(args: list[str], needle: str) -> None:
    """Each bad flag is refused with one line naming it, exit status 2."""
    assert_one_line(run_bench(*args), needle, 2)


def test_bad_port_in_environment() -> None:
    """A bad $COIO_PORT is named as such."""
    import os

    result = run_bench(env={**os.environ, "COIO_PORT": "http"})
    assert_one_line(result, "$COIO_PORT: not a port number: 'http'", 2)
