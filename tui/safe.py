"""Untrusted network text made safe to show: never markup, never a terminal escape."""

from __future__ import annotations

import unicodedata

from rich.text import Text

# Shown instead of these control characters, so a newline or tab in data stays visible.
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x00": "\\0"}
# Longest text shown for one item; the rest is summarised, so a huge line cannot stall layout.
MAX_SHOWN_CHARS = 4000


def _escape_char(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    if 0xDC80 <= ord(ch) <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{ord(ch) - 0xDC00:02x}"
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: str, limit: int = MAX_SHOWN_CHARS) -> str:
    """``text`` with control and format characters (ESC, CSI, bidi overrides...) escaped."""
    if len(text) <= limit and text.isprintable():
        # Fast path, the common case: printable means no Cc, Cf or Cs character (str's
        # check runs in C; the loop below costs a lookup per character).
        return text
    extra = len(text) - limit
    if extra > 0:
        text = text[:limit]
    out = "".join(
        _escape_char(ch) if unicodedata.category(ch) in ("Cc", "Cf", "Cs") else ch for ch in text
    )
    return out + f" … (+{extra} chars)" if extra > 0 else out


def visible_bytes(data: bytes, limit: int = MAX_SHOWN_CHARS) -> str:
    """Bytes as text: UTF-8 where valid, every other byte and control character escaped."""
    return visible(data.decode("utf-8", "surrogateescape"), limit)


def plain(text: str, style: str = "") -> Text:
    """A Rich Text that is never parsed as markup."""
    return Text(visible(text), style=style)
