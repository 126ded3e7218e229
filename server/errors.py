"""The one failure the command line turns into a message: an address that cannot be used."""

from __future__ import annotations


class BindError(Exception):
    """Listening on ``host:port`` failed with ``cause`` (busy port, unknown host, ...)."""

    def __init__(self, host: str, port: int, cause: OSError) -> None:
        super().__init__(f"{host}:{port}: {cause}")
        self.host = host
        self.port = port
        self.cause = cause
