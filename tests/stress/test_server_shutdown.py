"""coio-server stopping with a full house: SIGTERM and SIGINT with 1,000 clients connected."""

from __future__ import annotations

import contextlib
import selectors
import signal
import socket
import threading
import time

import pytest

from coio.fds import raise_fd_limit
from tests.stress.probe import echo_rtts, welcomed
from tests.support import recv_until_eof, running_server

pytestmark = pytest.mark.stress

GRACE = 1.0
# A client that never reads holds the stop for --grace, then is closed. The margin covers the
# server's last wait for its clients (up to 1 s) and exiting, on a loaded machine.
GRACE_MARGIN = 0.5


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_with_a_thousand_clients(sig: signal.Signals) -> None:
    """1,000 clients connected: exit 0 within the grace period, no traceback, port free at once."""
    raise_fd_limit(1000 + 200)
    with running_server("--grace", str(GRACE)) as server:
        clients = [welcomed(server.address) for _ in range(1000)]
        for sock in clients[::50]:
            echo_rtts(sock, 1)
        code, elapsed = server.stop_timed(sig)
        ended = _count_eof(clients, timeout=5)
        for sock in clients:
            sock.close()
        log = server.log()
    print(
        f"\n{sig.name} with 1000 clients: exit {code} after {elapsed:.2f} s"
        f" (bound: the grace, {GRACE:g} s)"
    )
    assert code == 0
    assert elapsed < GRACE  # idle clients are closed at once, not after the grace period
    assert ended == 1000  # every client saw the server close its connection
    assert "Traceback" not in log
    assert f"{sig.name}: stop accepting; closing 1000 clients" in log
    with socket.socket() as probe:  # the port is free again at once
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(server.address)
    with running_server("--port", str(server.port)) as again, welcomed(again.address) as sock:
        echo_rtts(sock, 1)


def test_stop_echoes_data_in_flight_and_waits_grace_for_a_non_reader() -> None:
    """On SIGTERM a reading client gets its whole echo then EOF; a non-reader is cut at grace."""
    payload = b"in flight " * 200_000  # 2 MB: more than the socket buffers hold
    with running_server("--grace", str(GRACE)) as server:
        reader = welcomed(server.address, timeout=30)
        hog = welcomed(server.address)
        _fill(hog)  # never read: its echo fills every buffer and blocks the server's sendall
        got = bytearray()
        pump = threading.Thread(target=lambda: got.extend(recv_until_eof(reader)))
        pump.start()
        reader.sendall(payload)
        code, elapsed = server.stop_timed(signal.SIGTERM)
        pump.join(30)
        reader.close()
        hog.close()
        log = server.log()
    print(
        f"\nSIGTERM with a non-reading client: exit {code} after {elapsed:.2f} s"
        f" (--grace {GRACE:g}; bound {GRACE - 0.2:g}-{GRACE + GRACE_MARGIN:g} s)"
    )
    assert code == 0
    assert bytes(got) == payload.upper()  # ASCII: bytes.upper() is exact
    assert GRACE - 0.2 < elapsed < GRACE + GRACE_MARGIN
    assert "Traceback" not in log


def _fill(sock: socket.socket) -> None:
    """Send until nothing more gets in for 0.2 s: the peer's handler is stuck writing."""
    sock.settimeout(0.2)
    chunk = b"x" * 65536
    with contextlib.suppress(TimeoutError):
        while True:
            sock.send(chunk)


def _count_eof(socks: list[socket.socket], timeout: float) -> int:
    """How many of ``socks`` reach EOF (or a reset) within ``timeout`` seconds."""
    ended = 0
    with selectors.DefaultSelector() as sel:
        for sock in socks:
            sel.register(sock, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        while sel.get_map() and time.monotonic() < deadline:
            for key, _ in sel.select(0.1):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    data = sock.recv(65536)
                except ConnectionResetError:
                    data = b""
                if not data:
                    ended += 1
                    sel.unregister(sock)
    return ended
