"""Events: what the peer did, as frozen dataclasses named for what happened."""

from __future__ import annotations

from dataclasses import dataclass

_DISPLAY_ENCODING = "utf-8"


@dataclass(frozen=True, slots=True)
class Welcomed:
    """The server sent the expected banner: it speaks the coio protocol."""

    banner: bytes


@dataclass(frozen=True, slots=True)
class WrongBanner:
    """The peer's first bytes are not the banner: it is not a coio/echo server.

    ``data`` holds what it sent (everything it has sent up to this event).
    """

    data: bytes


@dataclass(frozen=True, slots=True)
class ForeignData:
    """Bytes from a peer that sent a wrong banner, passed on raw for display."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Echoed:
    """One echoed line arrived; it answers the ``index``-th line sent (0-based).

    ``line`` excludes the newline. ``expected`` is what an honest server returns for the
    line we sent, or None if the server sent more lines than we did.
    """

    index: int
    line: bytes
    expected: bytes | None

    @property
    def matches(self) -> bool:
        """Whether the echo is exactly the uppercase of what was sent."""
        return self.line == self.expected

    @property
    def text(self) -> str:
        """The line as text, with undecodable bytes replaced (for display only)."""
        return self.line.decode(_DISPLAY_ENCODING, "replace")


@dataclass(frozen=True, slots=True)
class Closed:
    """The peer ended its stream. ``pending`` holds any unterminated bytes it left."""

    pending: bytes = b""


ClientEvent = Welcomed | WrongBanner | ForeignData | Echoed | Closed
ServerEvent = Closed
