"""What coio relies on in textual-serve's internals is still there and still behaves so.

The names are the ones tui/web/textual_serve_adapter.py lists; the expected signatures and the
packet format are written out here, from textual-serve 1.1's source.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
import re
import sys
import time
import tomllib
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import aiohttp
import pytest
from packaging.requirements import Requirement
from textual_serve.app_service import AppService
from textual_serve.download_manager import DownloadManager
from textual_serve.server import Server

from coio.tui.web.textual_serve_adapter import AppProcess
from tests.support import ServerProcess
from tests.web.support import WebServer, app_socket_url, running_web

ROOT = Path(__file__).resolve().parents[2]
ADAPTER = ROOT / "tui" / "web" / "textual_serve_adapter.py"
SOURCE_FOLDERS = ("src", "protocol", "server", "tui", "loadgen")
# Each private name the adapter uses, with its signature in textual-serve 1.1 (None: an
# attribute set in __init__) and whether it is a coroutine function.
PRIVATE = {
    "AppService._open_app_process": (
        "(self, width: 'int' = 80, height: 'int' = 24) -> 'Process'",
        True,
    ),
    "AppService._build_environment": (
        "(self, width: 'int' = 80, height: 'int' = 24) -> 'dict[str, str]'",
        False,
    ),
    "AppService._process": (None, False),
    "AppService._stdin": (None, False),
    "Server._make_app": ("(self) -> 'web.Application'", True),
    "Server._process_messages": (
        "(self, websocket: 'web.WebSocketResponse', app_service: 'AppService') -> 'None'",
        True,
    ),
}
CLASSES: dict[str, type] = {"AppService": AppService, "Server": Server}

# A stand-in app speaking textual-serve's pipe protocol as 1.1 does: a b"__GANGLION__" line,
# then packets of a type byte (D data, M meta), a 4-byte big-endian size and the payload.
# It reports what it was started with, echoes data upper-cased and exits on a quit meta.
FAKE_APP = r"""
import json, os, sys
out, inp = sys.stdout.buffer, sys.stdin.buffer
def packet(kind, payload):
    out.write(kind + len(payload).to_bytes(4, "big") + payload)
    out.flush()
out.write(b"__GANGLION__\n")
names = ("TEXTUAL_DRIVER", "COLUMNS", "ROWS", "COIO_WITHHELD", "COIO_KEPT")
packet(b"D", json.dumps({
    "argv": sys.argv[1:],
    "own_group": os.getpgid(0) == os.getpid(),
    "env": {name: os.environ.get(name) for name in names},
}).encode())
while len(header := inp.read(5)) == 5:
    kind, payload = header[:1], inp.read(int.from_bytes(header[1:], "big"))
    if kind == b"M" and json.loads(payload)["type"] == "quit":
        break
    if kind == b"D":
        packet(b"D", payload.upper())
"""


def pinned_range() -> Requirement:
    """textual-serve's requirement as pyproject.toml states it."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    (requirement,) = [
        parsed
        for line in project["dependencies"]
        if (parsed := Requirement(line)).name == "textual-serve"
    ]
    return requirement


def test_the_installed_textual_serve_is_within_the_pinned_range() -> None:
    """pyproject.toml bounds textual-serve above and below, and the installed one is inside."""
    specifier = pinned_range().specifier
    operators = {spec.operator for spec in specifier}
    assert operators & {"<", "<=", "~=", "=="}, f"no upper bound: {specifier}"
    assert operators & {">", ">=", "~=", "=="}, f"no lower bound: {specifier}"
    installed = version("textual-serve")
    assert specifier.contains(installed), f"textual-serve {installed} is outside {specifier}"


@pytest.mark.parametrize("name", list(PRIVATE))
def test_each_private_name_is_there_as_relied_on(name: str) -> None:
    """Each private method has the signature the adapter calls or overrides; each private
    attribute is set (to None) when an app service is made."""
    owner, attribute = name.split(".")
    signature, coroutine = PRIVATE[name]
    if signature is None:
        service = AppService(
            "true",
            write_bytes=_ignore_bytes,
            write_str=_ignore_str,
            close=_nothing,
            download_manager=DownloadManager(),
        )
        assert attribute in vars(service)
        assert vars(service)[attribute] is None
        return
    method = getattr(CLASSES[owner], attribute)
    assert str(inspect.signature(method)) == signature
    assert inspect.iscoroutinefunction(method) is coroutine


def test_the_adapters_override_keeps_textual_serves_signature() -> None:
    """AppProcess._open_app_process can be called exactly as AppService.start calls it."""
    ours = inspect.signature(AppProcess._open_app_process)
    theirs = inspect.signature(AppService._open_app_process)
    assert ours == theirs


def _documented_names() -> set[str]:
    docstring = ast.get_docstring(ast.parse(ADAPTER.read_text())) or ""
    return set(re.findall(r"``(\w+\._\w+)[(`]", docstring))


def _private_attributes(tree: ast.AST) -> set[str]:
    """Every ``x._name`` (one leading underscore) read, written or defined in ``tree``."""
    names = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    names |= {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    return {name for name in names if name.startswith("_") and not name.startswith("__")}


def test_the_adapter_documents_every_private_name_it_uses() -> None:
    """The adapter's docstring lists exactly the private names its code touches, and this
    file checks each of them."""
    documented = _documented_names()
    assert documented == set(PRIVATE)
    used = _private_attributes(ast.parse(ADAPTER.read_text()))
    assert used == {name.split(".")[1] for name in documented}


def coio_modules() -> Iterator[Path]:
    for folder in SOURCE_FOLDERS:
        yield from (ROOT / folder).rglob("*.py")


def test_only_the_adapter_reaches_into_textual_serve() -> None:
    """No other coio module imports textual_serve, and no other module of coio.tui (the only
    package that may build on the adapter) uses, defines or overrides a private name the
    adapter relies on."""
    private = {name.split(".")[1] for name in PRIVATE}
    importers = []
    users = []
    for path in coio_modules():
        tree = ast.parse(path.read_text(), str(path))
        imported = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        } | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        if any(name.split(".")[0] == "textual_serve" for name in imported):
            importers.append(path.relative_to(ROOT).as_posix())
        in_tui = path.is_relative_to(ROOT / "tui")
        if in_tui and path != ADAPTER and _private_attributes(tree) & private:
            users.append(path.relative_to(ROOT).as_posix())
    assert importers == ["tui/web/textual_serve_adapter.py"]
    assert users == []


async def _ignore_bytes(data: bytes) -> None:
    pass


async def _ignore_str(data: str) -> None:
    pass


async def _nothing() -> None:
    pass


async def _next_data(received: asyncio.Queue[bytes]) -> bytes:
    return await asyncio.wait_for(received.get(), 20)


@pytest.mark.timeout(60)
def test_an_app_process_starts_relays_and_quits_through_textual_serves_own_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """AppService.start spawns through the adapter's hook (argv as given, own process group,
    textual-serve's environment less the withheld name); run reads the process it set;
    send_bytes writes the pipe it set; stop's quit ends the app."""
    received: asyncio.Queue[bytes] = asyncio.Queue()

    async def write_bytes(data: bytes) -> None:
        received.put_nowait(data)

    async def scenario() -> tuple[dict[str, object], bytes, int | None]:
        app = AppProcess(
            [sys.executable, "-c", FAKE_APP, "two words", "$HOME;"],
            withheld=("COIO_WITHHELD",),
            write_bytes=write_bytes,
            write_str=_ignore_str,
            close=_nothing,
            download_manager=DownloadManager(),
        )
        await app.start(91, 27)
        report = json.loads(await _next_data(received))
        assert await app.send_bytes(b"hello, app")
        echo = await _next_data(received)
        await asyncio.wait_for(app.stop(), 20)
        assert app.process is not None
        code = await asyncio.wait_for(app.process.wait(), 20)
        return report, echo, code

    monkeypatch.setenv("COIO_WITHHELD", "secret")
    monkeypatch.setenv("COIO_KEPT", "kept")
    report, echo, code = asyncio.run(scenario())
    assert report == {
        "argv": ["two words", "$HOME;"],
        "own_group": True,
        "env": {
            "TEXTUAL_DRIVER": "textual.drivers.web_driver:WebDriver",
            "COLUMNS": "91",
            "ROWS": "27",
            "COIO_WITHHELD": None,
            "COIO_KEPT": "kept",
        },
    }
    assert echo == b"HELLO, APP"
    assert code == 0


@pytest.mark.timeout(60)
def test_the_served_app_socket_relays_the_pages_messages(server: ServerProcess) -> None:
    """On the real `coio-tui --serve`, the relay answers the page's ping over the app socket."""

    async def scenario(web: WebServer) -> list[object]:
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(app_socket_url(web.url, width=80, height=24)) as ws,
        ):
            await ws.send_json(["ping", "probe 1"])
            deadline = time.monotonic() + 30
            while True:
                left = deadline - time.monotonic()
                assert left > 0, "no pong within 30 s"
                message = await ws.receive(timeout=left)
                if message.type == aiohttp.WSMsgType.TEXT:
                    answer: list[object] = json.loads(message.data)
                    return answer
                assert message.type == aiohttp.WSMsgType.BINARY, message

    with running_web("--port", str(server.port)) as web:
        answer = asyncio.run(scenario(web))
        code, out = web.stop()
    assert answer == ["pong", "probe 1"]
    assert code == 0, out
    assert "Traceback" not in out
