"""The client's settings, built by the command line."""

from __future__ import annotations

from dataclasses import dataclass

from .widgets.transcript import DEFAULT_HISTORY

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    name: str = "client"
    clients: int = 1
    history: int = DEFAULT_HISTORY

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"
