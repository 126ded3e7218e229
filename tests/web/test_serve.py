"""`coio-tui --serve` without a browser: the page, its flags, no process outliving the server."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import aiohttp
import pytest

from coio.programs import program
from coio.tui.cli import parse_command
from coio.tui.web.cli import tab_command
from coio.tui.web.options import ServeOptions, TabLimits, is_loopback
from coio.tui.web.serve import clamp_size
from tests.support import ServerProcess, need_tool
from tests.web.support import (
    Proc,
    WebServer,
    descendants,
    running_web,
    still_running,
    tab_processes,
    wait_for_tabs,
)

ASSET_REF = re.compile(r'(?:href|src)="([^"]*)"|url\("([^"]*)"\)')
EXTERNAL = re.compile(rb"https?://")
SVG_NAMESPACE = b'xmlns="http://www.w3.org/2000/svg"'


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200, url
        return bytes(response.read())


def test_page_and_its_assets_need_no_network() -> None:
    """The page refers only to its own server, and no asset it loads names another host."""
    with running_web() as web:
        page = fetch(web.url)
        assert EXTERNAL.findall(page.replace(SVG_NAMESPACE, b"")) == []
        refs = [a or b for a, b in ASSET_REF.findall(page.decode())]
        assert len(refs) >= 4  # stylesheet, script, font(s), background image
        for ref in refs:
            assert "//" not in ref, f"{ref} is not relative to the page"
            body = fetch(web.url + ref)
            if ref.endswith(".css"):
                code = re.sub(rb"/\*.*?\*/", b"", body, flags=re.DOTALL)  # URLs in credits only
                assert EXTERNAL.findall(code) == [], ref
                assert b"@import" not in code, ref
            elif ref.endswith(".js"):
                assert EXTERNAL.findall(body) == [], ref


async def open_tabs(url: str, count: int, session: aiohttp.ClientSession) -> list[bytes]:
    """Open ``count`` app sockets like browser tabs do; wait until each app is connected."""
    ws_url = url.replace("http://", "ws://") + "ws?width=100&height=30"
    sockets = [await session.ws_connect(ws_url) for _ in range(count)]
    screens = [bytearray() for _ in range(count)]
    deadline = time.monotonic() + 40
    for ws, screen in zip(sockets, screens, strict=True):
        while b"verified" not in screen:
            left = deadline - time.monotonic()
            assert left > 0, f"a tab never showed its connected app: {bytes(screen[-300:])!r}"
            message = await ws.receive(timeout=left)
            assert message.type == aiohttp.WSMsgType.BINARY, message
            screen += message.data
    return [bytes(screen) for screen in screens]


@pytest.mark.timeout(90)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_closes_every_tab_and_the_demo_server(sig: signal.Signals) -> None:
    """SIGTERM or SIGINT with two tabs open: exit 0, and every child process is gone."""

    async def scenario(web: WebServer) -> tuple[int, str, list[Proc]]:
        async with aiohttp.ClientSession() as session:
            await open_tabs(web.url, 2, session)
            apps = wait_for_tabs(web.proc.pid, 2)
            assert len({app.pid for app in apps}) == 2
            children = descendants(web.proc.pid)
            assert any("coio-server" in child.cmdline for child in children)
            code, out = await asyncio.to_thread(web.stop, sig)
        return code, out, children

    with running_web("--demo") as web:
        code, out, children = asyncio.run(scenario(web))
    assert code == 0, out
    assert still_running(children) == []
    assert "closing 2 tab(s)" in out
    assert "Traceback" not in out


@pytest.mark.timeout(60)
def test_killed_server_takes_its_tabs_along(server: ServerProcess) -> None:
    """Even SIGKILL on the web server ends its tabs (parent-death signal via setpriv)."""
    need_tool("setpriv", "util-linux")

    async def scenario(web: WebServer) -> list[Proc]:
        async with aiohttp.ClientSession() as session:
            await open_tabs(web.url, 1, session)
            apps = tab_processes(web.proc.pid)
            assert len(apps) == 1
            web.proc.kill()
            web.proc.wait(10)
        return apps

    with running_web("--port", str(server.port)) as web:
        apps = asyncio.run(scenario(web))
        deadline = time.monotonic() + 10
        while still_running(apps) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert still_running(apps) == []


@pytest.mark.timeout(60)
def test_tabs_beyond_the_limit_are_turned_away(server: ServerProcess) -> None:
    """With --serve-max-tabs 1 a second tab is closed with 1013 and starts no process."""

    async def scenario(web: WebServer) -> None:
        async with aiohttp.ClientSession() as session:
            await open_tabs(web.url, 1, session)
            ws_url = web.url.replace("http://", "ws://") + "ws"
            async with session.ws_connect(ws_url) as extra:
                message = await extra.receive(timeout=10)
                assert message.type == aiohttp.WSMsgType.CLOSE
                assert message.data == aiohttp.WSCloseCode.TRY_AGAIN_LATER
            assert len(tab_processes(web.proc.pid)) == 1

    with running_web("--port", str(server.port), "--serve-max-tabs", "1") as web:
        asyncio.run(scenario(web))
        code, out = web.stop()
    assert code == 0
    assert "tab refused: 1 open" in out


def run_tui(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*program("coio-tui"), *args], capture_output=True, text=True, timeout=30)


def test_port_in_use_is_one_clear_line() -> None:
    """A web port already taken: one line naming it, exit 1, no traceback."""
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = run_tui("--serve", "--serve-port", str(port))
    assert result.returncode == 1
    assert result.stderr == f"coio-tui: cannot serve on 127.0.0.1:{port}: Address already in use\n"
    assert result.stdout == ""


def test_address_not_on_this_machine_is_one_clear_line() -> None:
    """A --serve-host this machine does not have: one line, exit 1, nothing served."""
    result = run_tui("--serve", "--serve-host", "192.0.2.1", "--serve-port", "0")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "coio-tui: cannot serve on 192.0.2.1:0: Cannot assign requested address"
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("70000", "port must be 0-65535, got 70000"),
        ("-1", "port must be 0-65535, got -1"),
        ("web", "not a port number: 'web'"),
    ],
)
def test_bad_serve_port_is_a_usage_error(value: str, message: str) -> None:
    """A bad --serve-port is rejected by the parser with the reason, exit 2."""
    result = run_tui("--serve", f"--serve-port={value}")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == f"coio-tui: error: argument --serve-port: {message}"
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("argv", "kept"),
    [
        (
            ["--serve", "--demo", "--clients", "3", "--name", "ann"],
            ["--clients", "3", "--name", "ann"],
        ),
        (["--serve-port=0", "--serve-host", "::1", "--serve", "--serve-max-tabs=3"], []),
        (["--serve", "--serve-max-tabs-per-client", "2", "--bots=1"], ["--bots=1"]),
        (["--serve-p", "9000", "--serve", "--d", "--history", "500"], ["--history", "500"]),
        (["--name=--demo", "--serve"], ["--name=--demo"]),
    ],
)
def test_tabs_get_the_users_flags_but_never_serve(argv: list[str], kept: list[str]) -> None:
    """Every tab runs coio-tui with the user's chat flags, never --serve or --demo again."""
    serve = parse_command(argv).serve
    assert serve is not None
    assert list(serve.tab_argv) == kept
    tail = tab_command(serve.tab_argv, "127.0.0.1", 9)[-4 - len(kept) :]
    assert tail == [*kept, "--host", "127.0.0.1", "--port", "9"]
    tab = parse_command(tail)
    assert (tab.serve, tab.demo) == (None, False)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("example.org", False),
    ],
)
def test_only_loopback_counts_as_private(host: str, loopback: bool) -> None:
    """Binding anywhere but loopback is recognised (and so warned about)."""
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    ("asked", "given"),
    [((80, 24), (80, 24)), ((5000, 5000), (400, 150)), ((-3, 0), (20, 8))],
)
def test_terminal_sizes_a_page_asks_for_are_clamped(
    asked: tuple[int, int], given: tuple[int, int]
) -> None:
    """A page cannot make its app draw a huge (or negative) terminal."""
    assert clamp_size(*asked) == given


@pytest.mark.timeout(60)
def test_a_huge_size_from_the_page_starts_a_clamped_app(server: ServerProcess) -> None:
    """A tab opened with width=5000&height=5000 runs its app at the clamped size."""

    async def scenario(web: WebServer) -> dict[str, str]:
        async with aiohttp.ClientSession() as session:
            ws_url = web.url.replace("http://", "ws://") + "ws?width=5000&height=5000"
            async with session.ws_connect(ws_url):
                (app,) = wait_for_tabs(web.proc.pid, 1)
                raw = await asyncio.to_thread(Path(f"/proc/{app.pid}/environ").read_bytes)
        return dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)

    with running_web("--port", str(server.port)) as web:
        env = asyncio.run(scenario(web))
        web.stop()
    assert (env["COLUMNS"], env["ROWS"]) == ("400", "150")


def test_serve_flags_are_parsed_once_into_the_serve_options() -> None:
    """--serve and its options come out of coio-tui's one parse, beside the tabs' own flags."""
    command = parse_command(
        ["--serve", "--serve-host", "::1", "--serve-port=0", "--serve-max-tabs", "3", "--bots=2"]
    )
    assert command.serve == ServeOptions("::1", 0, TabLimits(3, 8), ("--bots=2",))
    assert command.settings.bots == 2


@pytest.mark.parametrize(
    ("argv", "limits"),
    [
        ([], TabLimits(64, 8)),
        (["--serve-max-tabs-per-client", "2"], TabLimits(64, 2)),
        (["--serve-max-tabs-per-c=3", "--serve-max-tabs", "5"], TabLimits(5, 3)),
        (["--serve-max-tabs=5", "--serve-max-tabs-per-client=9"], TabLimits(5, 9)),
    ],
)
def test_both_tab_caps_parse_into_one_setting(argv: list[str], limits: TabLimits) -> None:
    """--serve-max-tabs and --serve-max-tabs-per-client, in any order, give one TabLimits."""
    serve = parse_command(["--serve", *argv]).serve
    assert serve is not None
    assert serve.max_tabs == limits


def test_a_bad_per_client_cap_is_a_usage_error() -> None:
    """--serve-max-tabs-per-client 0 is rejected by the parser with the range, exit 2."""
    result = run_tui("--serve", "--serve-max-tabs-per-client", "0")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        "coio-tui: error: argument --serve-max-tabs-per-client: must be 1-1000, got 0"
    )
