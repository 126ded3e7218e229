"""The uppercasing transform: full Unicode, any chunking, invalid bytes unchanged.

The oracles are independent of protocol/transform.py: ``tests.oracle.CASES`` is written out
byte by byte, and ``one_shot_upper`` uppercases a whole stream at once. For a stream fed
as one chunk the transform does much the same (decode, upper, encode), so the one-shot
properties earn their keep through the chunking: the ASCII fast path switching on and off,
characters held between chunks and the flush at end of stream. The literal table is what
checks the uppercasing itself.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coio.protocol import Uppercaser, upper_bytes
from tests.oracle import CASES, TEXT_CASES, Case, one_shot_upper
from tests.protocol.chunking import byte_streams, chunkings, split


def run(chunks: list[bytes]) -> bytes:
    upper = Uppercaser()
    return b"".join(upper.feed(chunk) for chunk in chunks) + upper.flush()


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_oracle_cases_under_every_chunking(case: Case) -> None:
    """Each written-out case is echoed exactly, whole, byte by byte and at every split point."""
    for chunks in chunkings(case.sent):
        assert run(chunks) == case.echoed, chunks


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_upper_bytes_gives_each_oracle_case(case: Case) -> None:
    """upper_bytes, which the client uses to expect echoes, gives each written-out case."""
    assert upper_bytes(case.sent) == case.echoed


def test_split_character_is_held_then_completed() -> None:
    """Half a character yields nothing until its other half arrives."""
    upper = Uppercaser()
    assert upper.feed(b"\xc3") == b""
    assert upper.holding
    assert upper.feed(b"\xa9!") == b"\xc3\x89!"
    assert not upper.holding


def test_stream_stays_usable_after_invalid_bytes() -> None:
    """Invalid bytes pass through and later text is still uppercased."""
    upper = Uppercaser()
    assert upper.feed(b"\xff") == b"\xff"
    assert upper.feed(b"\xc3\x9f") == b"SS"


@given(byte_streams, st.lists(st.integers(0, 200), max_size=8))
def test_any_bytes_any_chunking_equals_the_one_shot_reference(data: bytes, cuts: list[int]) -> None:
    """Property: any bytes in any chunking give the one-shot uppercase of the whole stream."""
    assert run(split(data, cuts)) == one_shot_upper(data)


@given(
    st.lists(st.sampled_from(TEXT_CASES), min_size=1, max_size=12),
    st.lists(st.integers(0, 300), max_size=8),
)
def test_any_sequence_of_oracle_text_in_any_chunking(cases: list[Case], cuts: list[int]) -> None:
    """Property: written-out text cases joined and cut anywhere echo as their echoes joined."""
    data = b"".join(case.sent for case in cases)
    assert run(split(data, cuts)) == b"".join(case.echoed for case in cases)
