"""The server connection: banner first, echo, end of stream, misuse."""

from __future__ import annotations

import pytest

from protocol import BANNER, Closed, LocalProtocolError, ServerConnection, ServerState
from tests.protocol.chunking import chunkings


def test_banner_is_queued_on_creation() -> None:
    """A new connection has exactly `welcome!` to send, once."""
    conn = ServerConnection()
    assert conn.data_to_send() == b"welcome!" == BANNER
    assert conn.data_to_send() == b""


@pytest.mark.parametrize(
    ("data", "echo"),
    [
        (b"hi there\n", b"HI THERE\n"),
        ("straße\r\n".encode(), b"STRASSE\r\n"),
        (b"raw \xff\x00", b"RAW \xff\x00"),
        (b"tail \xe4\xb8", b"TAIL \xe4\xb8"),  # incomplete at EOF: flushed unchanged
    ],
)
def test_echo_under_every_chunking(data: bytes, echo: bytes) -> None:
    """Banner then the uppercase echo, whatever the chunking, then Closed at EOF."""
    for chunks in chunkings(data):
        conn = ServerConnection()
        out = conn.data_to_send()
        for chunk in chunks:
            conn.receive_data(chunk)
            out += conn.data_to_send()
        conn.receive_data(b"")
        out += conn.data_to_send()
        assert out == BANNER + echo
        event = conn.next_event()
        assert isinstance(event, Closed)
        assert conn.next_event() is None
        assert conn.state is ServerState.CLOSED


def test_echo_hot_path_includes_banner_and_counts() -> None:
    """echo() returns the queued banner plus the echo, and counts bytes and lines."""
    conn = ServerConnection()
    assert conn.echo(b"a\nb\n") == b"welcome!A\nB\n"
    assert conn.echo(b"c") == b"C"
    assert (conn.bytes_received, conn.lines_received, conn.chunks_received) == (5, 2, 2)


def test_eof_reports_the_flushed_tail() -> None:
    """Closed carries the bytes that were held back and flushed unchanged."""
    conn = ServerConnection()
    conn.echo(b"x\xc3")
    assert conn.echo(b"") == b"\xc3"
    assert conn.next_event() == Closed(pending=b"\xc3")


def test_receive_after_close_is_local_error_naming_state() -> None:
    """Feeding data after end of stream is our misuse, and the error names the state."""
    conn = ServerConnection()
    conn.receive_data(b"")
    with pytest.raises(LocalProtocolError, match="CLOSED"):
        conn.receive_data(b"more")
