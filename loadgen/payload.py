"""Messages to send and the exact echo each must get back, known without coio's transform.

The expected echoes are made once, at start, without ``coio.protocol``: a server that
shares a bug with coio's own uppercasing must still fail the run. Verifying an echo is then
one comparison of two bytes objects, which keeps the load generator cheap.
"""

from __future__ import annotations

from coio.protocol import NEWLINE

from .spec import Charset

# Distinct messages each client cycles through: a server that repeats an old echo, or
# answers the wrong message, is caught because consecutive messages differ.
VARIANTS = 8

_ASCII = "abcdefghijklmnopqrstuvwxyz0123456789"
# Characters whose uppercase needs full Unicode rules or changes length (ß -> SS, ﬁ -> FI).
_UTF8 = "straße é ǆ ΐ ﬁ 漢字 "
# Filler for the bytes left where a character would be cut at the end of a message.
_PAD = "x"
# The uppercase of every character a utf8 message holds, written out from Unicode's
# UnicodeData.txt and SpecialCasing.txt (not computed).
_UTF8_UPPER = {
    "s": "S",
    "t": "T",
    "r": "R",
    "a": "A",
    "\u00df": "SS",  # sharp s
    "e": "E",
    " ": " ",
    "\u00e9": "\u00c9",  # e acute
    "\u01c6": "\u01c4",  # dz with caron
    "\u0390": "\u0399\u0308\u0301",  # iota with dialytika and tonos: three code points
    "\ufb01": "FI",  # fi ligature
    "\u6f22": "\u6f22",  # CJK: no case
    "\u5b57": "\u5b57",
    _PAD: "X",
    "\n": "\n",
}


def _fill(chars: str, length: int, shift: int) -> str:
    """``length`` bytes of ``chars`` repeated from offset ``shift``, never cutting a character."""
    shift %= len(chars)
    rotated = chars[shift:] + chars[:shift]
    text = rotated * (length // len(rotated.encode()) + 1)
    cut = text.encode()[:length].decode("utf-8", "ignore")
    return cut + _PAD * (length - len(cut.encode()))


def _expected(message: str, charset: Charset) -> bytes:
    """The echo ``message`` must get: bytes.upper() is exact for ASCII; else the table."""
    if charset is Charset.ASCII:
        return message.encode().upper()
    return "".join(_UTF8_UPPER[char] for char in message).encode()


def make_messages(size: int, charset: Charset) -> list[tuple[bytes, bytes]]:
    """``VARIANTS`` pairs of (message, expected echo); each message is ``size`` bytes."""
    chars = _UTF8 if charset is Charset.UTF8 else _ASCII
    body = size - len(NEWLINE)
    pairs = []
    for i in range(VARIANTS):
        message = _fill(chars, body, i) + NEWLINE.decode()
        pairs.append((message.encode(), _expected(message, charset)))
    return pairs
