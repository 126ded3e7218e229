"""One conformance suite, run against every IO model `coio-server --model M` offers.

Each test starts the real server with the model as a subprocess and talks to it over plain
sockets. Expected bytes are written out here, never computed by coio's own code.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
import urllib.request

import pytest

from coio.io_models import MODELS
from coio.programs import program
from tests.support import recv_exactly, recv_until_eof, running_server, wait_until

ALL = list(MODELS)
CONCURRENT = [m for m in MODELS if m != "blocking"]  # blocking serves one client at a time

# (sent, echoed): a few literal cases; split points are exercised below.
CASES = [
    (b"hello\n", b"HELLO\n"),
    (b"stra\xc3\x9fe\n", b"STRASSE\n"),
    (b"\xc3\xa9t\xc3\xa9\n", b"\xc3\x89T\xc3\x89\n"),  # été -> ÉTÉ
    (b"\xef\xac\x81\n", b"FI\n"),  # the ligature fi -> FI
    (b"bad \xff\xfe bytes\n", b"BAD \xff\xfe BYTES\n"),  # not UTF-8: unchanged
    (b"\x00\r\n", b"\x00\r\n"),
]


def welcomed(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    assert recv_exactly(sock, 8) == b"welcome!"
    return sock


@pytest.mark.parametrize("model", ALL)
def test_banner_and_literal_echoes(model: str) -> None:
    """Every model sends exactly the banner, then the uppercase of each case."""
    with running_server("--model", model) as server, welcomed(server.port) as sock:
        for sent, echoed in CASES:
            sock.sendall(sent)
            assert recv_exactly(sock, len(echoed)) == echoed, sent


@pytest.mark.parametrize("model", ALL)
def test_a_character_split_across_reads_is_uppercased(model: str) -> None:
    """ß sent one byte per write still comes back as SS."""
    with running_server("--model", model) as server, welcomed(server.port) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for byte in b"stra\xc3\x9fe\n":
            sock.sendall(bytes([byte]))
        assert recv_exactly(sock, 8) == b"STRASSE\n"


@pytest.mark.parametrize("model", ALL)
def test_half_close_echoes_everything_then_flushes_held_bytes(model: str) -> None:
    """After the client's EOF: all of 1 MB echoed, an incomplete character flushed, then EOF."""
    payload = b"abc\n" * 250_000 + b"tail\xc3"
    with running_server("--model", model) as server, welcomed(server.port) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        assert recv_until_eof(sock) == b"ABC\n" * 250_000 + b"TAIL\xc3"


@pytest.mark.parametrize("model", ALL)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_with_exit_0(model: str, sig: signal.Signals) -> None:
    """SIGTERM/SIGINT with a client connected: it gets EOF and the server exits 0."""
    with running_server("--model", model) as server, welcomed(server.port) as sock:
        code = server.stop(sig)
        assert code == 0, server.log()
        sock.settimeout(10)
        assert recv_until_eof(sock) == b""
        assert "Traceback" not in server.log()


@pytest.mark.parametrize("model", ALL)
def test_idle_timeout_closes_a_silent_client(model: str) -> None:
    """--idle-timeout 0.5: a silent client is closed, the log says idle-timeout."""
    with running_server("--model", model, "--idle-timeout", "0.5") as server:
        sock = welcomed(server.port)
        started = time.monotonic()
        sock.settimeout(10)
        assert recv_until_eof(sock) == b""
        took = time.monotonic() - started
        assert 0.4 <= took < 5, took
        assert wait_until(lambda: "reason=idle-timeout" in server.log(), 5), server.log()
        sock.close()


@pytest.mark.parametrize("model", CONCURRENT)
def test_max_connections_holds_the_next_client_in_the_backlog(model: str) -> None:
    """--max-connections 2: the third client gets its banner only once a slot frees."""
    with running_server("--model", model, "--max-connections", "2") as server:
        first, second = welcomed(server.port), welcomed(server.port)
        third = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        third.settimeout(0.5)
        with pytest.raises(TimeoutError):
            third.recv(8)  # waiting in the backlog: no banner
        first.close()
        third.settimeout(10)
        assert recv_exactly(third, 8) == b"welcome!"
        second.close()
        third.close()


@pytest.mark.parametrize("model", CONCURRENT)
def test_clients_are_served_at_once(model: str) -> None:
    """50 clients connected together each get the banner and their own echo."""
    with running_server("--model", model) as server:
        clients = [welcomed(server.port) for _ in range(50)]
        for n, sock in enumerate(clients):
            sock.sendall(f"client {n}\n".encode())
        for n, sock in enumerate(clients):
            want = f"CLIENT {n}\n".encode()
            assert recv_exactly(sock, len(want)) == want
            sock.close()


def test_blocking_serves_the_next_client_only_when_the_first_leaves() -> None:
    """--model blocking: a second client waits (no banner) until the first disconnects."""
    with running_server("--model", "blocking") as server:
        first = welcomed(server.port)
        second = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        second.settimeout(0.5)
        with pytest.raises(TimeoutError):
            second.recv(8)
        first.sendall(b"still me\n")
        assert recv_exactly(first, 9) == b"STILL ME\n"
        first.close()
        second.settimeout(10)
        assert recv_exactly(second, 8) == b"welcome!"
        second.close()


@pytest.mark.parametrize("model", CONCURRENT)
def test_a_client_that_never_reads_does_not_stall_others(model: str) -> None:
    """A client sending 20 MB and reading nothing: another client's echoes still come."""
    with running_server("--model", model) as server:
        hog = welcomed(server.port)
        hog.setblocking(False)
        chunk = b"x" * 65536
        sent = 0
        deadline = time.monotonic() + 10
        while sent < 20_000_000 and time.monotonic() < deadline:
            try:
                sent += hog.send(chunk)
            except BlockingIOError:
                break  # the server stopped reading it: backpressure
        with welcomed(server.port) as other:
            for n in range(20):
                other.sendall(b"ping %d\n" % n)
                assert recv_exactly(other, len(b"PING %d\n" % n)) == b"PING %d\n" % n
        hog.close()


@pytest.mark.parametrize("model", ALL)
def test_metrics_count_the_models_clients(model: str) -> None:
    """--metrics-port: /metrics counts live and total connections for every model."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        metrics_port = probe.getsockname()[1]
    with (
        running_server("--model", model, "--metrics-port", str(metrics_port)) as server,
        welcomed(server.port),
    ):
        url = f"http://127.0.0.1:{metrics_port}/metrics"

        def scrape() -> str:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.read().decode()

        assert wait_until(lambda: "coio_connections_live 1.0" in scrape(), 10), scrape()
        assert "coio_connections_total 1.0" in scrape()


@pytest.mark.parametrize("model", ALL)
def test_busy_port_is_one_line(model: str) -> None:
    """A port already in use: one line on stderr naming it, exit 1, for every model."""
    with running_server() as other:
        result = subprocess.run(
            [*program("coio-server"), "--model", model, "--port", str(other.port)],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(other.port) in lines[0]
