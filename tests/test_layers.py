"""The rooms keep to their jobs: read every module's imports (ast) and check who imports whom."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ROOMS = {  # folder -> its package
    "protocol": "coio.protocol",
    "server": "coio.server",
    "tui": "coio.tui",
    "loadgen": "coio.loadgen",
    "src/coio": "coio",
}


def imports_of(path: Path, package: str) -> set[str]:
    """Absolute names of everything ``path`` imports, relative imports resolved."""
    module = package if path.name == "__init__.py" else f"{package}.{path.stem}"
    parts = module.split(".")
    if path.name == "__init__.py":
        parts.append("__init__")
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = parts[: len(parts) - node.level]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.add(name)
    return found


def room_imports(folder: str) -> dict[str, set[str]]:
    out = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        sub = path.parent.relative_to(ROOT / folder).parts
        package = ".".join([ROOMS[folder], *sub])
        out[str(path.relative_to(ROOT))] = imports_of(path, package)
    return out


def offenders(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{file} imports {name}"
        for file, names in room_imports(folder).items()
        for name in sorted(names)
        if any(name == bad or name.startswith(bad + ".") for bad in forbidden)
    ]


def test_the_walk_sees_imports() -> None:
    """The checks below would pass on nothing: make sure they read real imports."""
    seen = room_imports("tui")
    assert "textual.app" in seen["tui/app.py"]
    assert "coio.tui.widgets.chat_pane" in seen["tui/app.py"]  # `from .widgets.chat_pane ...`
    assert any("gevent" in n for n in room_imports("server")["server/models/greenlets.py"])


def test_the_protocol_core_is_stdlib_only() -> None:
    allowed = set(sys.stdlib_module_names) | {"coio.protocol", "__future__"}
    bad = [
        f"{file} imports {name}"
        for file, names in room_imports("protocol").items()
        for name in sorted(names)
        if name.split(".")[0] not in allowed and not name.startswith("coio.protocol")
    ]
    assert bad == []
    assert offenders("protocol", ("socket", "selectors", "asyncio")) == []


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [
        ("server", ("coio.tui", "coio.loadgen", "textual", "trio")),
        ("tui", ("coio.server", "coio.loadgen", "gevent")),
        ("loadgen", ("coio.server", "coio.tui", "gevent", "textual")),
        ("src/coio", ("coio.server", "coio.tui", "coio.loadgen", "gevent", "trio", "textual")),
    ],
)
def test_a_room_keeps_out_of_the_others(folder: str, forbidden: tuple[str, ...]) -> None:
    assert offenders(folder, forbidden) == []
