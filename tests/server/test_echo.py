"""coio-server over real sockets: the banner, the uppercase echo, and how connections end.

Expected echoes never come from coio.protocol: they are the written-out table of
tests/oracle.py, its one-shot reference for random streams, or literals.
"""

from __future__ import annotations

import random
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from functools import partial

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coio.protocol import BANNER, ClientConnection, Echoed, Welcomed
from tests.oracle import CASES, Case, one_shot_upper
from tests.protocol.chunking import byte_streams, split
from tests.support import (
    ServerProcess,
    recv_exactly,
    recv_until_eof,
    running_server,
    scrape_metrics,
    wait_until,
)


@pytest.fixture(scope="module")
def metered() -> Iterator[ServerProcess]:
    """One coio-server with /metrics, whose byte and read counters show what it has read."""
    with running_server("--metrics-port", "0") as server:
        yield server


def reads_and_bytes(server: ServerProcess) -> tuple[int, int]:
    """The server's count of non-empty reads and of bytes received, over all connections."""
    samples = scrape_metrics(server)
    return int(samples["coio_echo_chunks_total"]), int(samples["coio_received_bytes_total"])


def has_received(server: ServerProcess, count: int) -> bool:
    """Whether the server has read ``count`` bytes in all."""
    return reads_and_bytes(server)[1] == count


def echo_in_reads(server: ServerProcess, chunks: list[bytes]) -> bytes:
    """Send each chunk only once the server has read the one before, so each is one read of
    its own; half-close; return everything after the banner, up to the server's close."""
    with server.connect() as sock:
        assert recv_exactly(sock, len(BANNER)) == b"welcome!"
        reads, received = reads_and_bytes(server)
        for chunk in chunks:
            sock.sendall(chunk)
            received += len(chunk)
            assert wait_until(partial(has_received, server, received), 5, 0.002)
        assert reads_and_bytes(server)[0] == reads + len(chunks)  # one read per chunk
        sock.shutdown(socket.SHUT_WR)
        return recv_until_eof(sock)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_oracle_case_sent_whole(metered: ServerProcess, case: Case) -> None:
    """Each written-out case sent in one piece comes back exactly as written, then EOF."""
    with metered.connect() as sock:
        assert recv_exactly(sock, len(BANNER)) == b"welcome!"
        sock.sendall(case.sent)
        sock.shutdown(socket.SHUT_WR)
        assert recv_until_eof(sock) == case.echoed


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_oracle_case_read_byte_by_byte(metered: ServerProcess, case: Case) -> None:
    """Each written-out case, read by the server one byte per read, comes back as written."""
    assert echo_in_reads(metered, split(case.sent, list(range(len(case.sent))))) == case.echoed


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(byte_streams, st.lists(st.integers(0, 200), max_size=6))
def test_random_stream_in_random_reads(
    metered: ServerProcess, data: bytes, cuts: list[int]
) -> None:
    """Property: any bytes, read by the server in any chunking, echo as their one-shot uppercase."""
    assert echo_in_reads(metered, split(data, cuts)) == one_shot_upper(data)


def test_large_random_stream(server: ServerProcess) -> None:
    """Four MB of mixed text and random bytes in random sends echo as their one-shot uppercase."""
    rng = random.Random(11)
    pieces = [
        "abc xyz ",
        "stra\u00dfe ",
        "\u0390\ufb01\u01c6 ",
        "\u4e2d\U0001f642\n",
        "\u03c2\u0587",
    ]
    payload = bytearray()
    while len(payload) < 4_000_000:
        if rng.random() < 0.2:
            payload += rng.randbytes(rng.randrange(1, 6))
        else:
            payload += rng.choice(pieces).encode()
    with server.connect(timeout=30) as sock:
        assert recv_exactly(sock, len(BANNER)) == b"welcome!"
        got = bytearray()
        reader = threading.Thread(target=lambda: got.extend(recv_until_eof(sock)))
        reader.start()
        view = memoryview(payload)
        while view:
            size = rng.randrange(1, 70_000)
            sock.sendall(view[:size])
            view = view[size:]
        sock.shutdown(socket.SHUT_WR)
        reader.join(30)
    assert bytes(got) == one_shot_upper(bytes(payload))


def test_banner_is_exactly_welcome(server: ServerProcess) -> None:
    """On accept the server sends exactly the 8 bytes `welcome!` and nothing more."""
    with server.connect() as sock:
        assert recv_exactly(sock, len(BANNER)) == b"welcome!"
        sock.settimeout(0.2)
        with pytest.raises(TimeoutError):
            sock.recv(1)


def test_tutorial_client_bare_text_gets_uppercase_at_once(server: ServerProcess) -> None:
    """A raw client sending text with no newline gets its uppercase back immediately."""
    with server.connect() as sock:
        recv_exactly(sock, len(BANNER))
        sock.sendall(b"hello")
        assert recv_exactly(sock, 5) == b"HELLO"
        sock.sendall(b" world")
        assert recv_exactly(sock, 6) == b" WORLD"


def test_line_client_gets_each_line_uppercased_in_order(server: ServerProcess) -> None:
    """A line client sees each echoed line answer the line it sent, in order."""
    conn = ClientConnection()
    lines = [f"line {i} größe" for i in range(200)]
    with server.connect() as sock:
        sock.sendall(b"".join(conn.send_line(line) for line in lines))
        echoes: list[Echoed] = []
        while len(echoes) < len(lines):
            conn.receive_data(sock.recv(65536))
            for event in conn.events():
                if isinstance(event, Echoed):
                    echoes.append(event)
                else:
                    assert isinstance(event, Welcomed)
    assert [e.line for e in echoes] == [b"LINE %d GR\xc3\x96SSE" % i for i in range(200)]
    assert all(e.matches for e in echoes)


def test_eof_flushes_incomplete_character_and_closes(server: ServerProcess) -> None:
    """At end of stream held-back bytes come back unchanged, then the server closes."""
    with server.connect() as sock:
        recv_exactly(sock, len(BANNER))
        sock.sendall(b"abc\xc3")
        assert recv_exactly(sock, 3) == b"ABC"
        sock.shutdown(socket.SHUT_WR)
        assert recv_until_eof(sock) == b"\xc3"


def test_half_close_echoes_everything_in_flight(server: ServerProcess) -> None:
    """After the client half-closes, all data already sent is echoed, then EOF."""
    payload = b"x" * 2_000_000 + b"\n"
    with server.connect() as sock:
        recv_exactly(sock, len(BANNER))
        got = bytearray()
        reader = threading.Thread(target=lambda: got.extend(recv_until_eof(sock)))
        reader.start()
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        reader.join(30)
    assert bytes(got) == payload.upper()


def test_client_close_logs_disconnect_without_spinning(server: ServerProcess) -> None:
    """A client that closes is logged once as disconnected; the server stays idle."""
    with server.connect() as sock:
        recv_exactly(sock, len(BANNER))
    assert wait_until(lambda: "disconnect id=" in server.log(), 5), server.log()
    assert server.log().count("disconnect id=") == 1
    assert "reason=eof" in server.log()
    ticks = _cpu_ticks(server.pid)
    time.sleep(0.5)
    assert _cpu_ticks(server.pid) - ticks < 10  # under 0.1 s of CPU in 0.5 s: not a busy loop


def _cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def test_many_concurrent_clients(server: ServerProcess) -> None:
    """200 clients at once each get their own echoes, correctly paired."""
    errors: list[str] = []

    def client(n: int) -> None:
        conn = ClientConnection()
        try:
            with server.connect() as sock:
                for i in range(5):
                    sock.sendall(conn.send_line(f"client {n} msg {i}"))
                    got = None
                    while got is None:
                        conn.receive_data(sock.recv(4096))
                        got = next((e for e in conn.events() if isinstance(e, Echoed)), None)
                    if got.line != b"CLIENT %d MSG %d" % (n, i):
                        errors.append(f"{n}: {got}")
        except OSError as exc:
            errors.append(f"{n}: {exc}")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []


@pytest.mark.needs_tool("nc", "netcat-openbsd")
def test_netcat_talks_to_server(server: ServerProcess) -> None:
    """netcat, the everyday raw client, gets the banner and the uppercase echo."""
    result = subprocess.run(
        ["nc", "-q", "1", server.host, str(server.port)],
        input=b"hello from nc\n",
        capture_output=True,
        timeout=10,
        check=True,
    )
    assert result.stdout == b"welcome!HELLO FROM NC\n"
