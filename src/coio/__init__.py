"""coio: a concurrent welcome / uppercase-echo chat that shows what coroutine IO does.

One import package, four rooms: ``coio.protocol`` (the sans-IO core), ``coio.server``
(``coio-server``, gevent), ``coio.tui`` (``coio-tui``, Textual + trio) and ``coio.loadgen``
(``coio-bench``). The source folders sit at the top of the repository; pyproject.toml maps
them under this package.
"""

from __future__ import annotations

# The one place the version is written: pyproject.toml reads it from here when it builds. A
# literal, not importlib.metadata: reading the installed metadata cost every program ~30 ms
# of start-up (python -X importtime).
__version__ = "0.1.0"
