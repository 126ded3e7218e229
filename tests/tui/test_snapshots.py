"""SVG snapshots of the main screens: fixed clock, messages fed in, no live network."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from textual.pilot import Pilot

from coio.tui.app import CoioApp
from coio.tui.messages import (
    BannerChecked,
    Echoes,
    EchoItem,
    LinesSent,
    LinkState,
    StateChanged,
    WireChunk,
)
from coio.tui.net.server_metrics import MetricsTarget
from coio.tui.settings import Settings
from coio.tui.widgets.chat_input import ChatInput
from tests.tui.pilot_support import chats, room_bots_report, room_server_report, wait_for

T0 = 1_764_000_000.0  # a fixed wall-clock moment for every timestamp shown
SIZE = (110, 32)


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Timestamps render in UTC, whatever the machine's zone."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def offline_app(clients: int = 1) -> CoioApp:
    return CoioApp(Settings(port=8080, clients=clients), connect=False)


async def feed_chat(pilot: Pilot[int], banner_ok: bool = True) -> None:
    app = pilot.app
    assert isinstance(app, CoioApp)
    for box in app.query(ChatInput):
        box.cursor_blink = False  # a blinking cursor would make each capture depend on timing
    for chat in chats(app):
        chat.transcript.clock = lambda: T0
        chat.link_pane.clock = lambda: T0 + 42
        chat.post_message(StateChanged(1, LinkState.CONNECTED, "127.0.0.1:8080"))
        await pilot.pause()
        chat.link_pane.connected_at = T0
        if not banner_ok:
            said = b"HTTP/1.1 400 Bad Request\r\n\r\n"
            chat.post_message(WireChunk(1, False, said, len(said), T0))
            chat.post_message(BannerChecked(1, False, said))
            continue
        chat.post_message(WireChunk(1, False, b"welcome!", 8, T0))
        chat.post_message(BannerChecked(1, True, b"welcome!"))
        lines = ["hello", "straße", "[bold]not markup[/]", "tab\there \x1b[31m"]
        wire = b"".join(line.encode() + b"\n" for line in lines)
        chat.post_message(WireChunk(1, True, wire, len(wire), T0 + 1))
        chat.post_message(LinesSent(1, list(enumerate(lines)), T0 + 1))
        items = [
            EchoItem(i, line, line.upper().encode(), True, 0.0004 + i * 0.0001, T0 + 1)
            for i, line in enumerate(lines)
        ]
        echo = b"".join(item.echo + b"\n" for item in items)
        chat.post_message(WireChunk(1, False, echo, len(echo), T0 + 1))
        chat.post_message(Echoes(1, items))
    await pilot.pause()  # the messages handled: each pane's figures are due for a redraw
    panes = [chat.link_pane for chat in chats(app)]
    await wait_for(pilot, lambda: not any(pane._figures_due for pane in panes))


def test_chat_screen(snap_compare) -> None:
    """The chat tab: transcript with round trips and the connection pane."""
    assert snap_compare(offline_app(), terminal_size=SIZE, run_before=feed_chat)


def test_chat_screen_with_wire_pane(snap_compare) -> None:
    """F2 shows the wire pane with each read and write as its own escaped chunk."""

    async def run_before(pilot: Pilot[int]) -> None:
        await feed_chat(pilot)
        await pilot.press("f2")

    assert snap_compare(offline_app(), terminal_size=SIZE, run_before=run_before)


def test_wrong_banner_screen(snap_compare) -> None:
    """A peer that is not an echo server: the warning and what it said."""

    async def run_before(pilot: Pilot[int]) -> None:
        await feed_chat(pilot, banner_ok=False)

    assert snap_compare(offline_app(), terminal_size=SIZE, run_before=run_before)


def test_three_tabs(snap_compare) -> None:
    """--clients 3: three tabs, the first one shown."""
    assert snap_compare(offline_app(3), terminal_size=SIZE, run_before=feed_chat)


async def feed_room(pilot: Pilot[int]) -> None:
    """The chat, and the room bar's figures from 40 bots and the server."""
    await feed_chat(pilot)
    pilot.app.post_message(room_bots_report())
    pilot.app.post_message(room_server_report("gevent", waiting=0))
    await pilot.pause()


def classroom_app() -> CoioApp:
    metrics = MetricsTarget("127.0.0.1", 9100, "/metrics")  # never read: no live network
    settings = Settings(port=8080, bots=40, bot_rate=2)
    return CoioApp(settings, connect=False, server_metrics=metrics)


def test_classroom_room_bar(snap_compare) -> None:
    """--demo --bots 40: the room bar with the bots' figures and the server's own."""
    assert snap_compare(classroom_app(), terminal_size=SIZE, run_before=feed_room)


def test_projector_80x24_folds_the_side_pane(snap_compare) -> None:
    """80x24: the transcript takes the width, F4 is offered, the room bar fits its two lines."""
    assert snap_compare(classroom_app(), terminal_size=(80, 24), run_before=feed_room)


def test_projector_80x24_f4_lays_the_side_pane_over_the_transcript(snap_compare) -> None:
    """80x24 and F4: the connection pane drawn over the transcript's right edge."""

    async def run_before(pilot: Pilot[int]) -> None:
        await feed_room(pilot)
        await pilot.press("f4")

    assert snap_compare(classroom_app(), terminal_size=(80, 24), run_before=run_before)


def test_wide_200x50_keeps_the_side_pane_beside_the_transcript(snap_compare) -> None:
    """200x50: the pane beside a wide transcript, the room bar in full words, no F4."""
    assert snap_compare(classroom_app(), terminal_size=(200, 50), run_before=feed_room)
