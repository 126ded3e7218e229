"""coio: a concurrent welcome / uppercase-echo chat that shows what coroutine IO does.

One import package, four rooms: ``coio.protocol`` (the sans-IO core), ``coio.server``
(``coio-server``, gevent), ``coio.tui`` (``coio-tui``, Textual + trio) and ``coio.loadgen``
(``coio-bench``). The source folders sit at the top of the repository; pyproject.toml maps
them under this package.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("coio")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0.0.0"
