"""The uppercasing transform: full Unicode, any chunking, invalid bytes unchanged."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coio.protocol import Uppercaser, upper_bytes
from tests.protocol.chunking import chunkings

CASES = [
    (b"hello", b"HELLO"),
    ("straße".encode(), b"STRASSE"),
    ("é".encode(), "É".encode()),
    ("ǆ".encode(), "Ǆ".encode()),
    ("中文 ok".encode(), "中文 OK".encode()),
    ("ΰ".encode(), "ΰ".upper().encode()),  # 2 bytes grow to 6
    (b"nul\x00\r\n\n", b"NUL\x00\r\n\n"),
    (b"bad \xff\xfe ok", b"BAD \xff\xfe OK"),
    (b"\x80lone continuation", b"\x80LONE CONTINUATION"),
    (b"cut \xc3", b"CUT \xc3"),  # a truncated character at end of stream stays as it was
    ("emoji 🙂 ß".encode(), "EMOJI 🙂 SS".encode()),
    (b"", b""),
]


def run(chunks: list[bytes]) -> bytes:
    upper = Uppercaser()
    return b"".join(upper.feed(chunk) for chunk in chunks) + upper.flush()


@pytest.mark.parametrize(("data", "expected"), CASES)
def test_cases_under_every_chunking(data: bytes, expected: bytes) -> None:
    """Each case gives the same output whole, byte by byte and at every split point."""
    for chunks in chunkings(data):
        assert run(chunks) == expected, chunks


def test_split_character_is_held_then_completed() -> None:
    """Half a character yields nothing until its other half arrives."""
    upper = Uppercaser()
    assert upper.feed(b"\xc3") == b""
    assert upper.holding
    assert upper.feed(b"\xa9!") == "É!".encode()
    assert not upper.holding


def test_stream_stays_usable_after_invalid_bytes() -> None:
    """Invalid bytes pass through and later text is still uppercased."""
    upper = Uppercaser()
    assert upper.feed(b"\xff") == b"\xff"
    assert upper.feed("ß".encode()) == b"SS"


def test_upper_bytes_matches_the_streaming_transform() -> None:
    """upper_bytes of a whole string equals the streaming result."""
    data = "grüße \xff".encode("utf-8", "surrogateescape")
    assert upper_bytes(data) == run([data[:3], data[3:]])


def reference(data: bytes) -> bytes:
    return data.decode("utf-8", "surrogateescape").upper().encode("utf-8", "surrogateescape")


@given(st.binary(max_size=200), st.lists(st.integers(0, 200), max_size=8))
def test_any_bytes_any_chunking_gives_upper_of_the_whole(data: bytes, cuts: list[int]) -> None:
    """Property: any chunking of any bytes yields upper() of the decoded whole."""
    points = sorted({min(c, len(data)) for c in cuts})
    chunks = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    assert run(chunks) == reference(data)


@given(st.text(max_size=100))
def test_valid_text_is_uppercased_exactly(text: str) -> None:
    """Property: valid UTF-8 text comes back as str.upper() of it."""
    assert upper_bytes(text.encode("utf-8", "surrogatepass")) == reference(
        text.encode("utf-8", "surrogatepass")
    )
