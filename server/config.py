"""The server's settings, one frozen dataclass built by the command line."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_HOST = "127.0.0.1"  # loopback: never on the network unless asked
DEFAULT_PORT = 8080
# Connections served at once. Past this, new clients wait in the listen backlog and are
# served as slots free; each connection costs one fd, so the fd limit is raised to match.
DEFAULT_MAX_CONNECTIONS = 10_000
# Past a million clients the fd limit (and memory) stop any single process long before.
MAX_CONNECTIONS_LIMIT = 1_000_000
# Kernel queue of not-yet-accepted connections: deep enough for a burst of thousands.
LISTEN_BACKLOG = 4096
# More worker processes than this is a typo, not a plan (each is a whole server).
MAX_WORKERS = 256
# How long SIGINT/SIGTERM waits for clients before closing them.
DEFAULT_GRACE = 5.0
DEFAULT_STATS_INTERVAL = 10.0

# Test-only: faults the tests inject on purpose, named in this variable (comma-separated) and
# read once at start (server/faults.py has the fault-injecting handler). Unset, the server
# runs its ordinary code, with no check on any path.
FAULT_ENV = "COIO_SERVER_FAULT"
FAULTS = {
    "echo": "a client whose data holds the marker line makes echo() raise",
    "stale-close": "as echo, and that client is closed again after the next accept",
    "slow-worker-start": "a new worker pauses before asking to die with its parent",
}


def parse_faults(text: str) -> frozenset[str]:
    """The fault names in ``text`` ($COIO_SERVER_FAULT); ValueError names an unknown one."""
    names = frozenset(name.strip() for name in text.split(",") if name.strip())
    unknown = sorted(names - FAULTS.keys())
    if unknown:
        raise ValueError(f"unknown fault {unknown[0]!r} (one of {', '.join(FAULTS)})")
    return names


@dataclass(frozen=True, slots=True)
class Config:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    idle_timeout: float | None = None  # seconds with no data from a client before closing it
    grace: float = DEFAULT_GRACE
    stats_interval: float = DEFAULT_STATS_INTERVAL  # 0 turns the stats line off
    metrics_port: int | None = None
    metrics_host: str = DEFAULT_HOST
    log_level: str = "info"
    workers: int = 1  # processes sharing the port; more than 1 adds a supervising parent
    model: str = "gevent"  # how clients are served: one of server.models.MODELS
    faults: frozenset[str] = frozenset()  # test-only, from $COIO_SERVER_FAULT (FAULTS)
