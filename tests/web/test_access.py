"""Who may open a tab of `coio-tui --serve`: the token off loopback, the Origin, the caps.

The off-loopback server binds 0.0.0.0 (which is not loopback, so it needs a token) and the
tests reach it through 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import aiohttp
import pytest
import textual_serve

from coio.address import parse_serving_line, serving_line
from coio.programs import program
from coio.tui.web.cli import url_for
from coio.tui.web.options import TOKEN_ENV, access_token
from coio.tui.web.serve import loopback_host, same_origin, tab_size, token_matches
from tests.support import ServerProcess
from tests.web.support import (
    WebServer,
    app_socket_url,
    on_loopback,
    running_web,
    tab_processes,
    token_of,
    wait_for_tabs,
)

OFF_LOOPBACK = ("--serve-host", "0.0.0.0")
RANDOM_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")
TEMPLATE = Path(__file__).resolve().parents[2] / "tui" / "web" / "templates" / "app_index.html"


def page_with(url: str, token: str | None) -> str:
    """The page at ``url`` with ``token`` in place of its own (None: no token)."""
    query = "" if token is None else urlencode({"token": token})
    return urlsplit(url)._replace(query=query).geturl()


async def first_frame(ws: aiohttp.ClientWebSocketResponse, within: float = 30.0) -> bytes:
    """The first screen bytes the tab's app sends."""
    deadline = time.monotonic() + within
    while True:
        left = deadline - time.monotonic()
        assert left > 0, "the tab's app never drew"
        message = await ws.receive(timeout=left)
        if message.type == aiohttp.WSMsgType.BINARY:
            return bytes(message.data)
        assert message.type == aiohttp.WSMsgType.TEXT, message


async def handshake_status(session: aiohttp.ClientSession, url: str, **kwargs: str) -> int:
    """The HTTP status with which the server refuses an app socket at ``url``."""
    try:
        ws = await session.ws_connect(url, **kwargs)
    except aiohttp.WSServerHandshakeError as error:
        return error.status
    await ws.close()
    raise AssertionError(f"{url} was accepted")


@pytest.mark.timeout(60)
def test_off_loopback_no_or_a_wrong_token_gets_403_and_starts_no_app(
    server: ServerProcess,
) -> None:
    """Bound to 0.0.0.0, the page and app socket refuse a missing or wrong token with 403."""

    async def scenario(web: WebServer) -> None:
        page = on_loopback(web.url)
        token = token_of(page)
        assert token is not None
        async with aiohttp.ClientSession() as session:
            for wrong in (None, "", "wrong", token[:-1], token + "x", "é" * 32):
                async with session.get(page_with(page, wrong)) as response:
                    assert response.status == 403, wrong
                socket_url = app_socket_url(page, token=wrong)
                assert await handshake_status(session, socket_url) == 403, wrong
            assert tab_processes(web.proc.pid) == []

    with running_web(*OFF_LOOPBACK, "--port", str(server.port)) as web:
        asyncio.run(scenario(web))
        code, out = web.stop()
    assert code == 0
    assert out.count("no or wrong token") == 12
    assert "Traceback" not in out


@pytest.mark.timeout(60)
def test_off_loopback_the_printed_url_opens_the_page_and_a_tab(server: ServerProcess) -> None:
    """The URL on the serving line carries a random token: its page loads and its tab draws."""

    async def scenario(web: WebServer) -> None:
        page = on_loopback(web.url)
        async with aiohttp.ClientSession() as session:
            async with session.get(page) as response:
                assert response.status == 200
                assert "sessionWebsocketUrl" in await response.text()
            async with session.ws_connect(app_socket_url(page, width=90, height=30)) as ws:
                assert await first_frame(ws)
                assert len(wait_for_tabs(web.proc.pid, 1)) == 1

    with running_web(*OFF_LOOPBACK, "--port", str(server.port)) as web:
        token = token_of(web.url)
        assert token is not None
        assert RANDOM_TOKEN.fullmatch(token), web.url
        asyncio.run(scenario(web))
        code, out = web.stop()
    assert code == 0
    assert "tab 1 opened" in out


@pytest.mark.timeout(60)
def test_an_app_socket_from_another_origin_is_refused(server: ServerProcess) -> None:
    """With the right token, a browser's Origin other than the page's own gets 403, no app."""

    async def scenario(web: WebServer) -> None:
        page = on_loopback(web.url)
        own = f"http://127.0.0.1:{urlsplit(page).port}"
        foreign = [
            "http://evil.example",
            f"http://evil.example:{urlsplit(page).port}",
            f"https://127.0.0.1:{urlsplit(page).port}",
            "http://127.0.0.1:1",
            "null",
        ]
        async with aiohttp.ClientSession() as session:
            for origin in foreign:
                status = await handshake_status(session, app_socket_url(page), origin=origin)
                assert status == 403, origin
            assert tab_processes(web.proc.pid) == []
            async with session.ws_connect(app_socket_url(page), origin=own) as ws:
                assert await first_frame(ws)

    with running_web(*OFF_LOOPBACK, "--port", str(server.port)) as web:
        asyncio.run(scenario(web))
        code, out = web.stop()
    assert code == 0
    assert out.count("Origin") == 5


@pytest.mark.timeout(90)
def test_tabs_beyond_the_per_client_cap_are_turned_away(server: ServerProcess) -> None:
    """With a cap of 2 per client, a third tab from 127.0.0.1 is closed with 1013 and starts
    no app while the first two live; a tab from 127.0.0.2 still opens."""

    async def scenario(web: WebServer) -> None:
        page = on_loopback(web.url)
        async with aiohttp.ClientSession() as session:
            first = await session.ws_connect(app_socket_url(page))
            second = await session.ws_connect(app_socket_url(page))
            for ws in (first, second):
                assert await first_frame(ws)
            assert len(wait_for_tabs(web.proc.pid, 2)) == 2
            async with session.ws_connect(app_socket_url(page)) as third:
                message = await third.receive(timeout=10)
                assert message.type == aiohttp.WSMsgType.CLOSE
                assert message.data == aiohttp.WSCloseCode.TRY_AGAIN_LATER
                assert message.extra == "too many tabs from your address"
            assert len(tab_processes(web.proc.pid)) == 2
            assert not first.closed
            assert not second.closed
            other = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
            async with (
                aiohttp.ClientSession(connector=other) as elsewhere,
                elsewhere.ws_connect(app_socket_url(page)) as ws,
            ):
                assert await first_frame(ws)
                assert len(wait_for_tabs(web.proc.pid, 3)) == 3
            await first.close()
            await second.close()

    args = (*OFF_LOOPBACK, "--port", str(server.port), "--serve-max-tabs-per-client", "2")
    with running_web(*args) as web:
        asyncio.run(scenario(web))
        code, out = web.stop()
    assert code == 0
    assert "tab refused: 2 open from 127.0.0.1" in out


@pytest.mark.timeout(60)
def test_a_token_from_the_environment_guards_loopback_too(server: ServerProcess) -> None:
    """$COIO_SERVE_TOKEN sets the token, even on loopback; the tabs' apps never see it."""

    async def scenario(web: WebServer) -> dict[str, str]:
        async with aiohttp.ClientSession() as session:
            async with session.get(page_with(web.url, None)) as response:
                assert response.status == 403
            async with session.get(web.url) as response:
                assert response.status == 200
            async with session.ws_connect(app_socket_url(web.url)) as ws:
                assert await first_frame(ws)
                (app,) = wait_for_tabs(web.proc.pid, 1)
                raw = await asyncio.to_thread(Path(f"/proc/{app.pid}/environ").read_bytes)
        return dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)

    env = {TOKEN_ENV: "class-of-2025"}
    with running_web("--port", str(server.port), env=env) as web:
        assert web.url.startswith("http://127.0.0.1:")
        assert web.url.endswith("/?token=class-of-2025")
        app_env = asyncio.run(scenario(web))
        web.stop()
    assert TOKEN_ENV not in app_env
    assert "COLUMNS" in app_env  # the environment read is the app's


def test_an_unusable_token_in_the_environment_is_one_clear_line() -> None:
    """A $COIO_SERVE_TOKEN that a URL cannot carry as it is: one line, exit 2, nothing served."""
    result = subprocess.run(
        [*program("coio-tui"), "--serve", "--serve-port", "0"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, TOKEN_ENV: "two words"},
    )
    assert result.returncode == 2
    assert result.stderr == (f"coio-tui: ${TOKEN_ENV} may hold only letters, digits and - . _ ~\n")
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("host", "env", "token"),
    [
        ("127.0.0.1", {}, None),
        ("::1", {TOKEN_ENV: ""}, None),
        ("localhost", {TOKEN_ENV: "abc-DEF_1.2~3"}, "abc-DEF_1.2~3"),
        ("0.0.0.0", {TOKEN_ENV: "mine"}, "mine"),
    ],
)
def test_who_needs_a_token_and_which(host: str, env: dict[str, str], token: str | None) -> None:
    """Loopback needs none unless the environment sets one; a set one is used as it is."""
    assert access_token(host, env) == token


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "example.org"])
def test_off_loopback_the_token_is_random(host: str) -> None:
    """Off loopback without $COIO_SERVE_TOKEN, each server gets a fresh 32-character token."""
    first, second = access_token(host, {}), access_token(host, {TOKEN_ENV: ""})
    assert first is not None
    assert second is not None
    assert RANDOM_TOKEN.fullmatch(first)
    assert RANDOM_TOKEN.fullmatch(second)
    assert first != second


@pytest.mark.parametrize("value", ["a b", "tok&en", "tok?en", "é", "a/b", "a#b"])
def test_a_token_a_url_would_mangle_is_refused(value: str) -> None:
    """A set token must be URL-safe as it is, so the printed URL carries it exactly."""
    with pytest.raises(ValueError, match=TOKEN_ENV):
        access_token("127.0.0.1", {TOKEN_ENV: value})


@pytest.mark.parametrize(
    ("given", "token", "opens"),
    [
        (None, None, True),
        ("anything", None, True),
        (None, "s3cret", False),
        ("", "s3cret", False),
        ("s3cre", "s3cret", False),
        ("S3CRET", "s3cret", False),
        ("s3cret", "s3cret", True),
        ("é\udcff", "s3cret", False),  # any text a query decodes to is compared, never raises
    ],
)
def test_a_token_opens_only_its_own_server(
    given: str | None, token: str | None, opens: bool
) -> None:
    """token_matches: no token needed, or exactly the server's."""
    assert token_matches(given, token) is opens


@pytest.mark.parametrize(
    ("origin", "host", "same"),
    [
        (None, "127.0.0.1:8000", True),  # not a browser
        ("http://127.0.0.1:8000", "127.0.0.1:8000", True),
        ("http://LAPTOP:8000", "laptop:8000", True),
        ("http://example.org", "example.org:80", True),
        ("http://[::1]:8000", "[::1]:8000", True),
        ("http://127.0.0.1:8001", "127.0.0.1:8000", False),
        ("https://127.0.0.1:8000", "127.0.0.1:8000", False),
        ("http://evil.example:8000", "127.0.0.1:8000", False),
        ("null", "127.0.0.1:8000", False),
        ("http://127.0.0.1:99999", "127.0.0.1:8000", False),
        ("", "127.0.0.1:8000", False),
    ],
)
def test_only_the_pages_own_origin_is_same(origin: str | None, host: str, same: bool) -> None:
    """same_origin compares scheme, host and port, filling in default ports."""
    assert same_origin(origin, "http", host) is same


@pytest.mark.parametrize(
    ("query", "size"),
    [
        ({"width": "100", "height": "30"}, (100, 30)),
        ({"token": "t", "?width": "100", "height": "30"}, (100, 30)),
        ({"width": "wide"}, (80, 24)),
        ({}, (80, 24)),
    ],
)
def test_the_size_arrives_with_or_without_a_token_before_it(
    query: dict[str, str], size: tuple[int, int]
) -> None:
    """The page's socket URL ?token=T& followed by textual.js's ?width=W still sizes the app."""
    assert tab_size(query) == size


def test_textual_js_appends_the_size_to_the_socket_url_the_page_gives_it() -> None:
    """Pins what the page's "&" after the token relies on: textual.js adds "?width=..."."""
    script = Path(textual_serve.__file__).parent / "static" / "js" / "textual.js"
    assert 'new WebSocket(this.websocket_url+"?width="' in script.read_text()
    assert 'encodeURIComponent(token) + "&"' in TEMPLATE.read_text()


@pytest.mark.parametrize(
    ("host", "token", "url"),
    [
        ("127.0.0.1", None, "http://127.0.0.1:8000/"),
        ("127.0.0.1", "abc_-.~1", "http://127.0.0.1:8000/?token=abc_-.~1"),
        ("::1", "t", "http://[::1]:8000/?token=t"),
    ],
)
def test_the_serving_line_carries_the_token(host: str, token: str | None, url: str) -> None:
    """The URL printed on the serving line, token and all, reads back whole."""
    assert url_for(host, 8000, token) == url
    assert parse_serving_line(f"coio-tui: {serving_line(url)} (each tab ...)") == url


def test_help_documents_the_token_and_the_per_client_cap() -> None:
    """coio-tui --help names $COIO_SERVE_TOKEN and --serve-max-tabs-per-client."""
    result = subprocess.run(
        [*program("coio-tui"), "--help"], capture_output=True, text=True, timeout=30
    )
    text = " ".join(result.stdout.split())
    assert f"${TOKEN_ENV}" in text
    assert "Origin" in text
    assert "--serve-max-tabs-per-client N browser tabs served at once to one client" in text


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1:8000", True),
        ("127.0.0.1", True),
        ("localhost:8000", True),
        ("LOCALHOST", True),
        ("[::1]:8000", True),
        ("::1", True),
        ("127.5.6.7:80", True),
        ("evil.example:8000", False),
        ("evil.example", False),
        ("10.0.0.1:8000", False),
        ("127.0.0.1.evil.example:8000", False),
        ("", False),
    ],
)
def test_only_loopback_names_count_as_this_machine(host: str, loopback: bool) -> None:
    """loopback_host accepts localhost and loopback addresses, with or without a port."""
    assert loopback_host(host) is loopback


@pytest.mark.timeout(60)
def test_on_loopback_a_page_under_another_name_gets_403(server: ServerProcess) -> None:
    """Without a token, a request whose Host is another site's name (DNS rebinding) gets 403
    for the page and the app socket, and starts no app."""

    async def scenario(web: WebServer) -> None:
        port = urlsplit(web.url).port
        rebound = {"Host": f"evil.example:{port}"}
        async with aiohttp.ClientSession() as session:
            async with session.get(web.url, headers=rebound) as response:
                assert response.status == 403
            socket_url = app_socket_url(web.url)
            origin = f"http://evil.example:{port}"
            status = await handshake_status(
                session, socket_url, headers={**rebound, "Origin": origin}
            )
            assert status == 403
            async with session.get(web.url) as response:
                assert response.status == 200  # by its loopback address it still opens
            assert tab_processes(web.proc.pid) == []

    with running_web("--port", str(server.port)) as web:
        assert token_of(web.url) is None
        asyncio.run(scenario(web))
        code, out = web.stop()
    assert code == 0
    assert out.count("Host 'evil.example") == 2
