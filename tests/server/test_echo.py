"""coio-server over real sockets: the banner, the uppercase echo, and how connections end."""

from __future__ import annotations

import socket
import subprocess
import threading
import time

import pytest

from coio.protocol import BANNER, ClientConnection, Echoed, Welcomed, upper_bytes
from tests.support import ServerProcess, recv_exactly, recv_until_eof


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


@pytest.mark.parametrize(
    ("sent", "echoed"),
    [
        ("straße\n".encode(), b"STRASSE\n"),
        ("é ǆ 中文\n".encode(), "É Ǆ 中文\n".encode()),
        (b"nul\x00byte\r\n", b"NUL\x00BYTE\r\n"),
        (b"bad \xff\xfe bytes\n", b"BAD \xff\xfe BYTES\n"),
    ],
)
def test_unicode_and_raw_bytes(server: ServerProcess, sent: bytes, echoed: bytes) -> None:
    """Full Unicode uppercasing; NUL, CRLF and invalid UTF-8 pass through unchanged."""
    with server.connect() as sock:
        recv_exactly(sock, len(BANNER))
        sock.sendall(sent)
        assert recv_exactly(sock, len(echoed)) == echoed


def test_character_split_across_reads_with_a_pause(server: ServerProcess) -> None:
    """A multi-byte character split over two sends, with a pause between, is uppercased."""
    data = "ß é".encode()
    with server.connect() as sock:
        recv_exactly(sock, len(BANNER))
        sock.sendall(data[:1])
        time.sleep(0.15)
        sock.sendall(data[1:] + b"\n")
        assert recv_exactly(sock, len(b"SS \xc3\x89\n")) == "SS É\n".encode()


def test_line_client_with_protocol_oracle(server: ServerProcess) -> None:
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
    assert all(e.matches for e in echoes)
    assert [e.line for e in echoes] == [upper_bytes(x.encode()) for x in lines]


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
    deadline = time.monotonic() + 5
    while "disconnect" not in server.log() and time.monotonic() < deadline:
        time.sleep(0.05)
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
                    if not got.matches:
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
