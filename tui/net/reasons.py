"""Network errors as one short line for the connection pane and the room bar."""

from __future__ import annotations

import trio


def describe(exc: BaseException) -> str:
    """One line for a network error, for the connection pane."""
    if isinstance(exc, trio.TooSlowError):
        return "connect timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is coio-server running?)"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    cause = exc.__cause__
    if isinstance(cause, BaseExceptionGroup) and cause.exceptions:
        return describe(cause.exceptions[0])  # trio tried several addresses: the first reason
    if isinstance(exc, trio.BrokenResourceError):
        return "connection lost"
    return str(exc) or type(exc).__name__
