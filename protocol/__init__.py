"""coio's sans-IO protocol core: bytes in, events and bytes out. Standard library only."""

from __future__ import annotations

from .client import ClientConnection, ClientState
from .errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from .events import ClientEvent, Closed, Echoed, ForeignData, ServerEvent, Welcomed, WrongBanner
from .limits import BANNER, MAX_ECHO_LINE_BYTES, MAX_LINE_BYTES, NEWLINE, UPPER_GROWTH
from .server import ServerConnection, ServerState
from .transform import Uppercaser, upper_bytes

__all__ = [
    "BANNER",
    "MAX_ECHO_LINE_BYTES",
    "MAX_LINE_BYTES",
    "NEWLINE",
    "UPPER_GROWTH",
    "ClientConnection",
    "ClientEvent",
    "ClientState",
    "Closed",
    "Echoed",
    "ForeignData",
    "LocalProtocolError",
    "ProtocolError",
    "RemoteProtocolError",
    "ServerConnection",
    "ServerEvent",
    "ServerState",
    "Uppercaser",
    "Welcomed",
    "WrongBanner",
    "upper_bytes",
]
