"""The IO models coio-server can serve with, one file each, all from the same sans-IO core.

`--model` picks one. Every model takes the settings, the shared counters and (under
--workers) an already bound listener, and offers the same four calls: `start()` binds and
begins serving (returning the bound address), `live` counts clients, `close_idle(seconds)`
ends clients quiet that long, and `shutdown(grace)` stops accepting, ends quiet clients at
once and busy ones once quiet, and cuts whoever is left after ``grace``; `waiting()` counts
clients connected but not yet accepted (in the listen backlog, no banner yet).
"""

from __future__ import annotations

import socket
from typing import Protocol

from coio.io_models import DEFAULT_MODEL, MODELS

from ..config import Config
from ..stats import Stats

__all__ = ["DEFAULT_MODEL", "MODELS", "Model", "make_model"]


class Model(Protocol):
    name: str

    @property
    def live(self) -> int: ...

    def waiting(self) -> int: ...

    def start(self) -> tuple[str, int]: ...

    def close_idle(self, timeout: float) -> int: ...

    def shutdown(self, grace: float) -> None: ...


def make_model(
    name: str, config: Config, stats: Stats, listener: socket.socket | None = None
) -> Model:
    """The model called ``name``, set up (not started) with ``config``."""
    if name == "gevent":
        from .greenlets import GeventModel

        return GeventModel(config, stats, listener)
    if name == "reactor":
        from .reactor import ReactorModel

        return ReactorModel(config, stats, listener)
    if name == "threads":
        from .threads import ThreadsModel

        return ThreadsModel(config, stats, listener)
    if name == "select":
        from .selector import SelectModel

        return SelectModel(config, stats, listener)
    if name == "blocking":
        from .blocking import BlockingModel

        return BlockingModel(config, stats, listener)
    raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODELS)}")
