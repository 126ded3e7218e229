"""Fixtures shared by every test folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import ServerProcess, running_server


@pytest.fixture
def server() -> Iterator[ServerProcess]:
    """A real `coio-server` subprocess on a free loopback port."""
    with running_server() as proc:
        yield proc
