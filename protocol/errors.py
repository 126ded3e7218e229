"""The two ways a protocol call can fail, after h11: our misuse, or a bad peer."""

from __future__ import annotations


class ProtocolError(Exception):
    """Base class of every error the protocol core raises."""


class LocalProtocolError(ProtocolError):
    """This side used the connection wrongly (e.g. sent after closing)."""


class RemoteProtocolError(ProtocolError):
    """The peer sent bytes that break the protocol."""
