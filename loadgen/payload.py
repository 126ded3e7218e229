"""Messages to send and the exact echo each must get back, from the protocol's own transform."""

from __future__ import annotations

from coio.protocol import NEWLINE, upper_bytes

from .spec import Charset

# Distinct messages each client cycles through: a server that repeats an old echo, or
# answers the wrong message, is caught because consecutive messages differ.
VARIANTS = 8

_ASCII = "abcdefghijklmnopqrstuvwxyz0123456789"
# Characters whose uppercase needs full Unicode rules or changes length (ß -> SS, ﬁ -> FI).
_UTF8 = "straße é ǆ ΐ ﬁ 漢字 "


def _fill(chars: str, length: int, shift: int) -> bytes:
    """``length`` bytes of ``chars`` repeated from offset ``shift``, never cutting a character."""
    shift %= len(chars)
    rotated = chars[shift:] + chars[:shift]
    text = rotated * (length // len(rotated.encode()) + 1)
    cut = text.encode()[:length].decode("utf-8", "ignore").encode()
    return cut + b"x" * (length - len(cut))


def make_messages(size: int, charset: Charset) -> list[tuple[bytes, bytes]]:
    """``VARIANTS`` pairs of (message, expected echo); each message is ``size`` bytes."""
    chars = _UTF8 if charset is Charset.UTF8 else _ASCII
    body = size - len(NEWLINE)
    pairs = []
    for i in range(VARIANTS):
        message = _fill(chars, body, i) + NEWLINE
        pairs.append((message, upper_bytes(message)))
    return pairs
