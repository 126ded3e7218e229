"""The client connection: banner check, line pairing, foreign peers, limits, misuse."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coio.protocol import (
    MAX_ECHO_LINE_BYTES,
    MAX_LINE_BYTES,
    ClientConnection,
    ClientEvent,
    ClientState,
    Closed,
    Echoed,
    ForeignData,
    LocalProtocolError,
    RemoteProtocolError,
    ServerConnection,
    Welcomed,
    WrongBanner,
)
from tests.oracle import CASES, Case, one_shot_upper
from tests.protocol.chunking import chunkings


def feed(conn: ClientConnection, chunks: list[bytes]) -> list[ClientEvent]:
    events: list[ClientEvent] = []
    for chunk in chunks:
        conn.receive_data(chunk)
        events.extend(conn.events())
    return events


def test_banner_glued_to_first_echo_under_every_chunking() -> None:
    """Banner and echoes in any chunking give Welcomed, then each line paired in order."""
    stream = b"welcome!HELLO\nSTRASSE\n"
    for chunks in chunkings(stream):
        conn = ClientConnection()
        conn.send_line("hello")
        conn.send_line("straße")
        events = feed(conn, chunks)
        assert events == [
            Welcomed(b"welcome!"),
            Echoed(0, b"HELLO", b"HELLO"),
            Echoed(1, b"STRASSE", b"STRASSE"),
        ]
        assert all(e.matches for e in events if isinstance(e, Echoed))
        assert conn.outstanding == 0
        assert conn.state is ClientState.OPEN


def test_send_line_adds_newline_and_accepts_bytes() -> None:
    """send_line returns the wire bytes: the line plus one newline."""
    conn = ClientConnection()
    assert conn.send_line("a b") == b"a b\n"
    assert conn.send_line(b"\xff") == b"\xff\n"
    assert (conn.lines_sent, conn.outstanding) == (2, 2)


LINE_CASES = [case for case in CASES if b"\n" not in case.sent]


@pytest.mark.parametrize("case", LINE_CASES, ids=[case.name for case in LINE_CASES])
def test_client_expects_the_written_out_echo(case: Case) -> None:
    """The echo the client expects for a line (what the TUI flags by) is the written-out one."""
    conn = ClientConnection()
    conn.send_line(case.sent)
    events = feed(conn, [b"welcome!" + case.echoed + b"\n"])
    assert events == [Welcomed(b"welcome!"), Echoed(0, case.echoed, case.echoed)]


def test_mismatch_is_flagged() -> None:
    """A server that does not uppercase is caught line by line."""
    conn = ClientConnection()
    conn.send_line("hello")
    events = feed(conn, [b"welcome!hello\n"])
    echo = events[-1]
    assert isinstance(echo, Echoed)
    assert not echo.matches
    assert echo.text == "hello"


def test_more_echoes_than_sends_have_no_expectation() -> None:
    """An echoed line with no sent line behind it has expected None and does not match."""
    conn = ClientConnection()
    events = feed(conn, [b"welcome!SURPRISE\n"])
    assert events[-1] == Echoed(0, b"SURPRISE", None)
    assert not events[-1].matches  # type: ignore[union-attr]


def test_invalid_echo_text_is_replaced_for_display_only() -> None:
    """Echoed.text replaces undecodable bytes; Echoed.line keeps them."""
    event = Echoed(0, b"A\xffB", None)
    assert event.text == "A\ufffdB"
    assert event.line == b"A\xffB"


@pytest.mark.parametrize(
    "stream",
    [
        b"HTTP/1.1 400 Bad Request\r\n\r\n",
        b"SSH-2.0-OpenSSH_9.2\r\n",
        b"welcomX",
    ],
)
def test_wrong_banner_under_every_chunking(stream: bytes) -> None:
    """A peer whose first bytes are not the banner is reported, with what it sent."""
    for chunks in chunkings(stream):
        conn = ClientConnection()
        events = feed(conn, chunks)
        assert isinstance(events[0], WrongBanner)
        assert all(isinstance(e, ForeignData) for e in events[1:])
        said = events[0].data + b"".join(e.data for e in events[1:])  # type: ignore[union-attr]
        assert said == stream
        assert conn.state is ClientState.FOREIGN


def test_foreign_peer_eof_closes() -> None:
    """After a wrong banner, end of stream still closes cleanly."""
    conn = ClientConnection()
    assert feed(conn, [b"nope", b""]) == [WrongBanner(b"nope"), Closed(b"")]


def test_short_banner_then_eof() -> None:
    """A peer that sends part of the banner and closes leaves it in Closed.pending."""
    conn = ClientConnection()
    assert feed(conn, [b"welc", b""]) == [Closed(pending=b"welc")]


def test_unterminated_echo_at_eof_is_pending() -> None:
    """Echo bytes with no newline at end of stream are handed over, not lost."""
    conn = ClientConnection()
    conn.send_line("abc")
    assert feed(conn, [b"welcome!AB", b""]) == [Welcomed(b"welcome!"), Closed(pending=b"AB")]
    assert conn.state is ClientState.CLOSED


def test_endless_echo_line_is_a_remote_error() -> None:
    """Past MAX_ECHO_LINE_BYTES with no newline the peer is broken, and memory stays bounded."""
    conn = ClientConnection()
    conn.receive_data(b"welcome!")
    chunk = b"X" * 65536
    with pytest.raises(RemoteProtocolError, match="no newline"):  # noqa: PT012
        for _ in range(MAX_ECHO_LINE_BYTES // len(chunk) + 2):
            conn.receive_data(chunk)
    assert conn.state is ClientState.BROKEN
    with pytest.raises(LocalProtocolError, match="BROKEN"):
        conn.send_line("x")


@pytest.mark.parametrize(
    ("line", "match"),
    [
        ("two\nlines", "newline"),
        ("x" * (MAX_LINE_BYTES + 1), "exceeds"),
        ("lone \ud800 surrogate", "not encodable"),
    ],
)
def test_bad_lines_are_local_errors(line: str, match: str) -> None:
    """A line with a newline in it, or over the limit, is refused before it is sent."""
    with pytest.raises(LocalProtocolError, match=match):
        ClientConnection().send_line(line)


def test_use_after_close_is_local_error_naming_state() -> None:
    """Sending or receiving after the peer closed is our misuse."""
    conn = ClientConnection()
    conn.receive_data(b"")
    assert conn.next_event() == Closed()
    assert conn.next_event() is None
    with pytest.raises(LocalProtocolError, match="CLOSED"):
        conn.send_line("late")
    with pytest.raises(LocalProtocolError, match="CLOSED"):
        conn.receive_data(b"late")


def test_client_and_server_wired_in_memory() -> None:
    """A client and a server joined in memory, random chunking: each echo is the uppercase."""
    rng = random.Random(7)
    client, server = ClientConnection(), ServerConnection()
    lines = [f"línea {i} straße ǆ {'x' * rng.randrange(50)}" for i in range(300)]
    wire = b"".join(client.send_line(line) for line in lines)
    to_client = server.data_to_send()
    while wire:
        cut = rng.randrange(1, 40)
        server.receive_data(wire[:cut])
        wire = wire[cut:]
        to_client += server.data_to_send()
    events = []
    while to_client:
        cut = rng.randrange(1, 40)
        client.receive_data(to_client[:cut])
        to_client = to_client[cut:]
        events.extend(client.events())
    echoes = [e for e in events if isinstance(e, Echoed)]
    assert isinstance(events[0], Welcomed)
    assert len(echoes) == len(lines)
    assert all(e.matches for e in echoes)
    assert [e.line for e in echoes] == [one_shot_upper(line.encode()) for line in lines]
    assert [e.index for e in echoes] == list(range(len(lines)))


@given(st.binary(max_size=300), st.lists(st.integers(1, 300), max_size=10))
def test_any_bytes_give_events_or_remote_error(data: bytes, cuts: list[int]) -> None:
    """Property: any bytes in any chunking give events or RemoteProtocolError, nothing else."""
    conn = ClientConnection()
    conn.send_line("probe")
    points = sorted({min(c, len(data)) for c in cuts})
    chunks = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    try:
        for chunk in chunks:
            if chunk:
                conn.receive_data(chunk)
        conn.receive_data(b"")
    except RemoteProtocolError:
        return
    events = list(conn.events())
    assert isinstance(events[-1], Closed)


@given(
    st.lists(
        st.text(
            alphabet=st.characters(blacklist_characters="\n", blacklist_categories=("Cs",)),
            max_size=30,
        )
    )
)
def test_wired_property_every_line_round_trips(lines: list[str]) -> None:
    """Property: any lines through client and server come back uppercased, in order."""
    client, server = ClientConnection(), ServerConnection()
    for line in lines:
        server.receive_data(client.send_line(line))
    client.receive_data(server.data_to_send())
    echoes = [e for e in client.events() if isinstance(e, Echoed)]
    assert len(echoes) == len(lines)
    assert all(e.matches for e in echoes)
    assert [e.line for e in echoes] == [one_shot_upper(line.encode()) for line in lines]
