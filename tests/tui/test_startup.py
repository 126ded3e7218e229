"""Start-up: the collector, which coio-tui's main turns off while the app starts, is back on
once the app has started, whether its network side came up or not."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from textual.worker import WorkerFailed

from coio.tui.app import CoioApp
from coio.tui.net.guest import TrioGuest
from coio.tui.settings import Settings
from tests.tui.pilot_support import wait_for

pytestmark = pytest.mark.asyncio


@pytest.fixture
def collector_off() -> Iterator[None]:
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.usefixtures("collector_off")
async def test_the_collector_is_back_on_once_the_network_side_is_up() -> None:
    app = CoioApp(Settings(port=1), connect=False)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.guest.running)
        await wait_for(pilot, gc.isenabled)


@pytest.mark.usefixtures("collector_off")
async def test_the_collector_is_back_on_when_the_network_side_fails_to_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(self: TrioGuest) -> None:
        raise RuntimeError("trio would not start")

    monkeypatch.setattr(TrioGuest, "start", broken)
    app = CoioApp(Settings(port=1), connect=False)
    with pytest.raises(WorkerFailed, match="trio would not start"):
        async with app.run_test() as pilot:
            await wait_for(pilot, gc.isenabled)
    assert gc.isenabled()
