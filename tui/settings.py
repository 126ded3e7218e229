"""The client's settings, built by the command line."""

from __future__ import annotations

from dataclasses import dataclass

from coio.address import format_address

from .limits import DEFAULT_HISTORY

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_BOT_RATE = 1.0  # lines per second per bot: a lively room, easy to read


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    name: str = "client"
    clients: int = 1
    history: int = DEFAULT_HISTORY
    bots: int = 0  # simulated clients chatting alongside the tabs
    bot_rate: float = DEFAULT_BOT_RATE

    @property
    def address(self) -> str:
        return format_address(self.host, self.port)
