"""Test-only: a handler that fails on purpose, so tests can prove the server survives it.

Chosen once at start when $COIO_SERVER_FAULT names a fault (config.FAULTS); otherwise this
module is never imported and the ordinary `EchoHandler` runs with no check on its paths.

- ``echo``: for a client whose data holds FAULT_MARKER, the protocol's echo() raises, inside
  the read callback, as a bug there would.
- ``stale-close``: as ``echo``, and that client is closed a second time right after the next
  client is accepted, most likely on the same descriptor number: the late close must leave
  the new client alone.
"""

from __future__ import annotations

import logging
from typing import Any

from coio.protocol import ServerConnection

from .handler import Client, EchoHandler

log = logging.getLogger("coio.server")

FAULT_MARKER = b"coio-fault!\n"


class InjectedFault(RuntimeError):
    """Raised on purpose by the fault-injecting handler."""


class FaultyConnection(ServerConnection):
    """A protocol connection whose echo() raises when the data holds FAULT_MARKER."""

    __slots__ = ()

    def echo(self, data: bytes) -> bytes:
        if FAULT_MARKER in data:
            raise InjectedFault(f"injected: the client sent {FAULT_MARKER!r}")
        return super().echo(data)


class FaultyEchoHandler(EchoHandler):
    """`EchoHandler` with the faults named in ``faults`` (config.FAULTS) switched on."""

    connection_class = FaultyConnection

    def __init__(self, *args: Any, faults: frozenset[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stale_close = "stale-close" in faults
        self._stale: list[tuple[Client, int]] = []  # closed clients, with their old fd

    def _internal_error(self, client: Client, exc: Exception) -> None:
        fd = client.fd
        super()._internal_error(client, exc)
        if self._stale_close and isinstance(exc, InjectedFault):
            self._stale.append((client, fd))

    def __call__(self, fd: int, address: Any) -> None:
        super().__call__(fd, address)
        stale, self._stale = self._stale, []
        for client, old_fd in stale:
            log.warning(
                "fault stale-close: closing id=%s (fd %d) again after accepting fd %d",
                client.cid,
                old_fd,
                fd,
            )
            self._close(client, "stale-close")
