"""Capped exponential backoff between reconnect attempts."""

from __future__ import annotations

from dataclasses import dataclass

FIRST_DELAY = 0.5  # seconds before the first retry: quick when a server restarts
MAX_DELAY = 8.0  # cap: a demo audience should never wait long after the server is back


@dataclass(slots=True)
class Backoff:
    first: float = FIRST_DELAY
    cap: float = MAX_DELAY
    attempts: int = 0

    def next_delay(self) -> float:
        """The delay before the next attempt; each failure doubles it up to the cap."""
        delay = min(self.cap, self.first * 2.0**self.attempts)
        self.attempts += 1
        return delay

    def reset(self) -> None:
        self.attempts = 0
