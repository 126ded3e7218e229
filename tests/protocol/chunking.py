"""Run a byte stream through a connection whole, byte by byte, and at every split point."""

from __future__ import annotations

from collections.abc import Iterator

from hypothesis import strategies as st


def chunkings(data: bytes) -> Iterator[list[bytes]]:
    """Every way the tests split ``data``: whole, one byte at a time, and each two-way split."""
    yield [data]
    yield [data[i : i + 1] for i in range(len(data))]
    for cut in range(1, len(data)):
        yield [data[:cut], data[cut:]]


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    """``data`` cut at each of ``cuts`` (clamped to its length); empty pieces dropped."""
    points = sorted({min(c, len(data)) for c in cuts} - {0, len(data)})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True) if b > a]


# Streams mixing valid text (lone surrogates encoded too: ED A0 80 and the like) with
# arbitrary bytes, so cut characters, invalid bytes and ASCII runs all meet chunk edges.
byte_streams = st.lists(
    st.one_of(
        st.binary(max_size=8),
        st.text(max_size=8).map(lambda text: text.encode("utf-8", "surrogatepass")),
    ),
    max_size=25,
).map(b"".join)
