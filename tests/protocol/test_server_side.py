"""The server connection: banner first, echo, end of stream, misuse."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coio.protocol import BANNER, Closed, LocalProtocolError, ServerConnection, ServerState
from tests.oracle import CASES, Case
from tests.protocol.chunking import chunkings


def test_banner_is_queued_on_creation() -> None:
    """A new connection has exactly `welcome!` to send, once."""
    conn = ServerConnection()
    assert conn.data_to_send() == b"welcome!" == BANNER
    assert conn.data_to_send() == b""


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_echo_of_oracle_cases_under_every_chunking(case: Case) -> None:
    """Banner then each written-out echo, whatever the chunking, then Closed at EOF."""
    for chunks in chunkings(case.sent):
        conn = ServerConnection()
        out = conn.data_to_send()
        for chunk in filter(None, chunks):  # b"" would mean end of stream
            conn.receive_data(chunk)
            out += conn.data_to_send()
        conn.receive_data(b"")
        out += conn.data_to_send()
        assert out == b"welcome!" + case.echoed
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


@given(
    st.lists(st.sampled_from([b"a", b"\n", b"\xc3"]), max_size=60).map(b"".join),
    st.lists(st.integers(0, 60), max_size=6),
)
def test_counts_match_the_whole_stream_under_any_chunking(data: bytes, cuts: list[int]) -> None:
    """Property: bytes, lines and non-empty chunks counted equal those of the whole stream."""
    points = sorted({min(c, len(data)) for c in cuts})
    chunks = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    conn = ServerConnection()
    for chunk in chunks:
        if chunk:
            conn.echo(chunk)
    assert conn.bytes_received == len(data)
    assert conn.lines_received == data.count(b"\n")
    assert conn.chunks_received == sum(1 for chunk in chunks if chunk)
