"""How many tabs and bots a coio-tui room may hold: read by the command line, the demo
server's start and the bots' process.

Kept apart from the code that uses them so that parsing the command line imports no trio.
"""

from __future__ import annotations

MAX_CLIENTS = 32  # tabs opened from the command line; more is a load test, not a chat
# 10,000 bots fill a room of idle-ish clients (at 0.1-1 lines/s each), worth seeing; more is a
# load test for coio-bench.
MAX_BOTS = 10_000
MAX_BOT_RATE = 50.0  # lines per second per bot: 1,000 bots x 50/s already outruns one process
DEFAULT_HISTORY = 10_000  # transcript lines kept; older ones scroll away so memory stays bounded
