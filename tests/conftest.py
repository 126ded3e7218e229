"""Fixtures shared by every test folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import ServerProcess, need_tool, running_server


@pytest.fixture
def server() -> Iterator[ServerProcess]:
    """A real `coio-server` subprocess on a free loopback port."""
    with running_server() as proc:
        yield proc


def pytest_runtest_setup(item: pytest.Item) -> None:
    """``@pytest.mark.needs_tool(tool, apt_package)``: skip (or, in CI, fail) without the tool."""
    for mark in item.iter_markers("needs_tool"):
        need_tool(*mark.args, **mark.kwargs)
