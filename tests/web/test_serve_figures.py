"""`coio-tui --serve --demo`: every browser tab shows the demo server's own live figures."""

from __future__ import annotations

import asyncio
import re
import time

import aiohttp
import pytest

from coio.tui.cli import parse_command
from coio.tui.net.server_metrics import MetricsTarget
from coio.tui.web.cli import tab_command
from tests.web.support import WebServer, running_web, wait_for_tabs

METRICS_FLAG = re.compile(r"--server-metrics (http://127\.0\.0\.1:\d+/metrics)")


def test_tabs_of_a_demo_are_told_where_the_servers_metrics_are() -> None:
    """The tab command ends with --server-metrics URL, which the tab's parser accepts."""
    url = "http://127.0.0.1:9100/metrics"
    serve = parse_command(["--serve", "--demo", "--name", "ann"]).serve
    assert serve is not None
    command = tab_command(serve.tab_argv, "127.0.0.1", 9, url)
    assert command[-8:] == [
        "--name",
        "ann",
        "--host",
        "127.0.0.1",
        "--port",
        "9",
        "--server-metrics",
        url,
    ]
    parsed = parse_command(command[-8:])
    assert parsed.server_metrics == MetricsTarget("127.0.0.1", 9100, "/metrics")
    assert not parsed.demo
    assert "--server-metrics" not in tab_command((), "127.0.0.1", 9)


async def read_until(ws: aiohttp.ClientWebSocketResponse, pattern: bytes, within: float) -> bytes:
    """Screen bytes from one tab until ``pattern`` appears in them."""
    screen = bytearray()
    deadline = time.monotonic() + within
    while re.search(pattern, screen) is None:
        left = deadline - time.monotonic()
        assert left > 0, f"{pattern!r} never showed: {bytes(screen[-400:])!r}"
        message = await ws.receive(timeout=left)
        assert message.type == aiohttp.WSMsgType.BINARY, message
        screen += message.data
    return bytes(screen)


@pytest.mark.timeout(60)
def test_every_tab_shows_the_demo_servers_live_count() -> None:
    """Two tabs on one demo server: each tab's screen shows the server's "2 live · 0 waiting"."""

    async def scenario(web: WebServer) -> list[str]:
        async with aiohttp.ClientSession() as session:
            ws_url = web.url.replace("http://", "ws://") + "ws?width=120&height=30"
            sockets = [await session.ws_connect(ws_url) for _ in range(2)]
            for ws in sockets:  # both tabs' apps connected, so the server counts two
                await read_until(ws, rb"verified", 40)
            for ws in sockets:  # within a few scrapes every tab shows the count
                await read_until(ws, rb"2 live(?:\x1b\[[0-9;]*m)* \xc2\xb7 0 waiting", 15)
            tabs = wait_for_tabs(web.proc.pid, 2)
            for ws in sockets:
                await ws.close()
        return [tab.cmdline for tab in tabs]

    with running_web("--demo") as web:
        cmdlines = asyncio.run(scenario(web))
        code, out = web.stop()
    assert code == 0, out
    urls = {match.group(1) for line in cmdlines if (match := METRICS_FLAG.search(line))}
    assert len(urls) == 1, cmdlines  # every tab scrapes the one demo server
    assert "Traceback" not in out
