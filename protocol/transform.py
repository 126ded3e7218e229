"""The incremental uppercasing transform: bytes in, uppercased bytes out, any chunking."""

from __future__ import annotations

import codecs

_ENCODING = "utf-8"
# surrogateescape maps each byte that is not UTF-8 to a lone surrogate and back, so invalid
# bytes survive the round trip unchanged; str.upper() leaves lone surrogates alone.
_ERRORS = "surrogateescape"
_new_decoder = codecs.getincrementaldecoder(_ENCODING)


class Uppercaser:
    """Uppercase a UTF-8 byte stream chunk by chunk.

    ``feed(chunk)`` returns the uppercased bytes for every complete character seen so far.
    A character split across chunks is held back (at most 3 bytes) until it completes;
    ``flush()`` releases held bytes unchanged at end of stream.
    """

    __slots__ = ("_decoder", "_holding")

    def __init__(self) -> None:
        # Made at the first chunk that is not pure ASCII: an ASCII-only stream (most chat,
        # and most idle connections) never pays for a decoder.
        self._decoder: codecs.IncrementalDecoder | None = None
        self._holding = False  # True while the decoder holds part of a character

    @property
    def holding(self) -> bool:
        """Whether bytes of an incomplete character are held back."""
        return self._holding

    def feed(self, data: bytes) -> bytes:
        """Return the uppercase of ``data``, completing any character held from before."""
        if not self._holding and data.isascii():
            # Fast path: most chat is ASCII, and bytes.upper() is ASCII-only and exact here.
            return data.upper()
        decoder = self._decoder
        if decoder is None:
            decoder = self._decoder = _new_decoder(errors=_ERRORS)
        text = decoder.decode(data)
        self._holding = bool(decoder.getstate()[0])
        return text.upper().encode(_ENCODING, _ERRORS)

    def flush(self) -> bytes:
        """End of stream: return any held bytes unchanged (they never became a character)."""
        if not self._holding:
            return b""
        assert self._decoder is not None  # holding implies a decoder holds the bytes
        text = self._decoder.decode(b"", final=True)
        self._holding = False
        return text.encode(_ENCODING, _ERRORS)


def upper_bytes(data: bytes) -> bytes:
    """Uppercase one complete byte string, exactly as the server echoes it."""
    upper = Uppercaser()
    return upper.feed(data) + upper.flush()
