"""Run a byte stream through a connection whole, byte by byte, and at every split point."""

from __future__ import annotations

from collections.abc import Iterator


def chunkings(data: bytes) -> Iterator[list[bytes]]:
    """Every way the tests split ``data``: whole, one byte at a time, and each two-way split."""
    yield [data]
    yield [data[i : i + 1] for i in range(len(data))]
    for cut in range(1, len(data)):
        yield [data[:cut], data[cut:]]
