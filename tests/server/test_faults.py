"""A bug while serving one client costs that client only: faults injected on purpose.

$COIO_SERVER_FAULT (test-only, see coio.server.faults) makes the server's echo raise for a
client whose data holds the marker line, as a bug there would.
"""

from __future__ import annotations

import re
import socket

import pytest

from coio.io_models import MODELS
from coio.protocol import BANNER
from tests.server.test_metrics import scrape, wait_for
from tests.stress.probe import fd_count
from tests.support import ServerProcess, recv_exactly, recv_until_eof, running_server, wait_until

MARKER = b"coio-fault!\n"  # the line that trips the injected fault
FAILURES = 5


def echo(sock: socket.socket, line: bytes = b"still served\n") -> None:
    sock.sendall(line)
    assert recv_exactly(sock, len(line)) == line.upper()


def trip(server: ServerProcess) -> bytes:
    """Connect, send the marker line; return what came back after the banner, up to EOF."""
    with server.connect(timeout=5) as sock:
        assert recv_exactly(sock, len(BANNER)) == BANNER
        sock.sendall(b"hello " + MARKER)
        return recv_until_eof(sock)


@pytest.mark.parametrize("model", [m for m in MODELS if m != "blocking"])
def test_internal_error_closes_that_client_only(model: str) -> None:
    """echo() raising closes that client (EOF, a line, counted); others go on; slot and fd freed."""
    env = {"COIO_SERVER_FAULT": "echo"}
    args = ("--model", model, "--metrics-port", "0", "--max-connections", "2")
    with running_server(*args, env=env) as server:
        base = fd_count(server.pid)
        with server.connect() as other:
            assert recv_exactly(other, len(BANNER)) == BANNER
            for _ in range(FAILURES):  # each takes the one slot left: a leak stalls the next
                assert trip(server) == b""
                echo(other)
            samples = wait_for(server, 'coio_errors_total{kind="internal_error"}', FAILURES)
        assert wait_until(lambda: fd_count(server.pid) == base, 5), (base, fd_count(server.pid))
        ended = "reason=internal-error"
        assert wait_until(lambda: server.log().count(ended) == FAILURES, 5), server.log()
        log = server.log()
    assert samples['coio_errors_total{kind="internal_error"}'] == FAILURES
    assert samples["coio_connections_live"] == 1
    assert len(re.findall(r"disconnect id=c\w+ peer=\S+ reason=internal-error live=1", log)) == 5
    errors = re.findall(r"internal error id=c\w+: (.*)", log)
    assert errors == ["InjectedFault: injected: the client sent b'coio-fault!\\n'"] * FAILURES
    assert "Traceback" not in log


@pytest.mark.parametrize("model", list(MODELS))
def test_internal_error_traceback_at_debug_level(model: str) -> None:
    """At --log-level debug the internal error's line carries its traceback too."""
    env = {"COIO_SERVER_FAULT": "echo"}
    with running_server("--model", model, "--log-level", "debug", env=env) as server:
        assert trip(server) == b""
        assert wait_until(lambda: "reason=internal-error" in server.log(), 5), server.log()
        log = server.log()
    assert "Traceback (most recent call last)" in log
    assert 'in echo\n    raise InjectedFault(f"injected' in log


def test_late_second_close_leaves_the_new_client_alone() -> None:
    """A client closed again after its fd went to a new client: the new one is served, then
    closed and counted as it should be."""
    env = {"COIO_SERVER_FAULT": "stale-close"}  # the reactor's: it keys clients by descriptor
    with running_server("--model", "reactor", "--metrics-port", "0", env=env) as server:
        base = fd_count(server.pid)
        assert trip(server) == b""  # c1: closed, its descriptor free for the next client
        with server.connect() as newer:  # c2: accepted, then c1 is closed a second time
            assert recv_exactly(newer, len(BANNER)) == BANNER
            stale = re.compile(r"closing id=c1 \(fd (\d+)\) again after accepting fd (\d+)")
            assert wait_until(lambda: stale.search(server.log()), 5), server.log()
            echo(newer)
        assert wait_until(lambda: "disconnect id=c2 " in server.log(), 5), server.log()
        samples = scrape(server)
        assert wait_until(lambda: fd_count(server.pid) == base, 5), (base, fd_count(server.pid))
        log = server.log()
    fds = stale.search(log)
    assert fds is not None
    assert fds.group(1) == fds.group(2)  # the same number: the close that must miss c2
    assert re.search(r"disconnect id=c2 peer=\S+ reason=eof live=0", log), log
    assert "reason=stale-close" not in log
    assert samples["coio_connections_live"] == 0
    assert samples["coio_connections_total"] == 2
