"""coio-server's logging never blocks serving: its stderr is a pipe nobody reads."""

from __future__ import annotations

import pytest

from coio.io_models import MODELS
from coio.protocol import BANNER
from coio.server.logsink import FLUSH_TIMEOUT
from tests.server.test_metrics import scrape
from tests.support import recv_exactly, wait_until
from tests.unread_stderr import (
    blocked_in_pipe_write,
    churn,
    server_with_unread_stderr,
    stderr_fill,
)

# Connect/close cycles: two log lines each, several times what a 64 KiB pipe holds.
CYCLES = 1500


@pytest.mark.parametrize("model", [m for m in MODELS if m != "blocking"])
def test_blocked_stderr_does_not_stop_echoes(model: str) -> None:
    """With its stderr pipe full and unread, the server still accepts, echoes and stops."""
    args = ("--model", model, "--metrics-port", "0")
    with server_with_unread_stderr(*args, until="metrics on") as server:
        with server.connect() as active:
            assert recv_exactly(active, len(BANNER)) == BANNER
            done = churn(server.address, CYCLES)
            assert done == CYCLES, f"the server stopped answering after {done} cycles"
            waiting, capacity = stderr_fill(server)
            blocked = wait_until(lambda: blocked_in_pipe_write(server.pid), 5)
            for n in range(100):
                line = f"still here {n}\n".encode()
                active.sendall(line)
                assert recv_exactly(active, len(line)) == line.upper()
        total = scrape(server)["coio_connections_total"]
        code, elapsed = server.stop_timed()
    print(
        f"\n{done} cycles; stderr pipe holds {waiting} of {capacity} bytes unread;"
        f" SIGTERM: exit {code} after {elapsed:.2f} s"
    )
    assert blocked, f"no thread of the server is blocked writing to its stderr pipe ({waiting} B)"
    assert waiting > capacity // 2
    assert total == 1 + CYCLES
    assert code == 0
    assert elapsed < FLUSH_TIMEOUT + 2  # a blocked log holds up exit for FLUSH_TIMEOUT at most
