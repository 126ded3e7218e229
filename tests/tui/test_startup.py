"""Start-up: the collector, which coio-tui's main turns off while the app starts, is back on
once the app has started, whether its network side came up or not."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest
from textual.screen import Screen
from textual.widget import Widget
from textual.worker import WorkerFailed

from coio.tui import cli
from coio.tui.app import CoioApp
from coio.tui.net.guest import TrioGuest
from coio.tui.settings import Settings
from coio.tui.widgets.chat_input import ChatInput
from tests.tui.pilot_support import wait_for


@pytest.fixture
def collector_off() -> Iterator[None]:
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.asyncio
@pytest.mark.usefixtures("collector_off")
async def test_the_collector_is_back_on_once_the_network_side_is_up() -> None:
    app = CoioApp(Settings(port=1), connect=False)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.guest.running)
        await wait_for(pilot, gc.isenabled)


@pytest.mark.asyncio
@pytest.mark.usefixtures("collector_off")
async def test_the_collector_is_back_on_when_the_network_side_fails_to_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The start-up's end runs even when trio fails to start, before the app ends."""

    async def broken(self: TrioGuest) -> None:
        raise RuntimeError("trio would not start")

    ended: list[bool] = []  # the collector's state when the start-up ended
    started = CoioApp._started

    def spy(self: CoioApp) -> None:
        started(self)
        ended.append(gc.isenabled())

    monkeypatch.setattr(TrioGuest, "start", broken)
    monkeypatch.setattr(CoioApp, "_started", spy)
    app = CoioApp(Settings(port=1), connect=False)
    with pytest.raises(WorkerFailed, match="trio would not start"):
        async with app.run_test() as pilot:
            await wait_for(pilot, lambda: bool(ended))
    assert ended == [True]


def test_coio_tui_runs_its_app_with_the_collector_off_and_leaves_it_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """main() turns the collector off before the app is made; it is on when main returns,
    also when the app never started (here: run() returns at once)."""
    seen: list[bool] = []

    def run(self: CoioApp) -> None:
        seen.append(gc.isenabled())

    monkeypatch.setattr(CoioApp, "run", run)
    assert gc.isenabled()
    assert cli.main(["--port", "1"]) == 0
    assert seen == [False]
    assert gc.isenabled()


def test_once_started_a_terminal_app_freezes_its_start_up_and_collects_fully_less_often(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Outside tests (not headless) the objects alive at the end of the start-up leave the
    collector's walks and full collections come after 100 middle ones instead of 10."""
    thresholds = gc.get_threshold()
    monkeypatch.setattr(CoioApp, "is_headless", property(lambda self: False))
    app = CoioApp(Settings(port=1), connect=False)
    gc.disable()
    try:
        app._started()
        assert gc.isenabled()
        assert gc.get_freeze_count() > 1_000
        assert gc.get_threshold() == (thresholds[0], thresholds[1], 100)
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
        gc.enable()


def test_coio_tui_leaves_the_collector_on_when_its_app_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def run(self: CoioApp) -> None:
        raise RuntimeError("the app failed")

    monkeypatch.setattr(CoioApp, "run", run)
    with pytest.raises(RuntimeError, match="the app failed"):
        cli.main(["--port", "1"])
    assert gc.isenabled()


def test_the_collectors_settings_are_put_back_when_the_app_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An app run in a process that goes on (not headless) leaves its collector as it was."""
    thresholds = gc.get_threshold()
    monkeypatch.setattr(CoioApp, "is_headless", property(lambda self: False))
    app = CoioApp(Settings(port=1), connect=False)

    async def started_and_ended() -> None:
        app._started()
        assert gc.get_threshold()[2] == 100
        await app.on_unmount()

    try:
        asyncio.run(started_and_ended())
        assert gc.get_threshold() == thresholds
        assert gc.get_freeze_count() == 0
        assert gc.isenabled()
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
        gc.enable()


@pytest.mark.asyncio
async def test_the_first_widget_focused_is_the_message_box(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing else takes the focus on the way (each focus change composes the footer anew)."""
    focused: list[str] = []
    set_focus = Screen.set_focus

    def spy(screen: Screen[object], widget: Widget | None, *args: object, **kwargs: object) -> None:
        if widget is not None:
            focused.append(type(widget).__name__)
        set_focus(screen, widget, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Screen, "set_focus", spy)
    app = CoioApp(Settings(port=1), connect=False)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.focused is not None)
        assert isinstance(app.focused, ChatInput)
    assert focused[0] == "ChatInput", focused
