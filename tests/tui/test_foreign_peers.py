"""Peers that are not coio servers: silent, half a banner, or pushing lines nobody asked for."""

from __future__ import annotations

import threading
import time

import pytest
from textual.pilot import Pilot
from trio.testing import MockClock

from coio.tui.app import CoioApp
from coio.tui.net import connection
from coio.tui.net.guest import TrioGuest
from coio.tui.settings import Settings
from coio.tui.widgets.chat_input import ChatInput
from coio.tui.widgets.wire import WirePane
from tests.tui.peers import scripted_peer
from tests.tui.pilot_support import chats, log_text, wait_for

pytestmark = pytest.mark.asyncio

SHORT_TIMEOUT = 0.5  # seconds of trio's time: the same code path as BANNER_TIMEOUT


def frozen_trio(app: CoioApp) -> MockClock:
    """Give the app a trio clock that stands still until the test moves it.

    Whatever the machine's speed, the banner timeout then runs out only when the test says,
    never while the test is still typing. Network IO and the UI run as usual.
    """
    clock = MockClock()  # rate 0
    app.guest = TrioGuest(on_crash=app._network_crashed, clock=clock)
    return clock


async def run_out_banner_timeout(pilot: Pilot[int], app: CoioApp, clock: MockClock) -> None:
    """Move trio's clock past the banner timeout until the app names the peer."""
    chat = chats(app)[0]
    await wait_for(pilot, lambda: app.guest.running)  # trio starts after the first frame
    deadline = time.monotonic() + 15
    while chat.link_pane.banner is not False:
        assert time.monotonic() < deadline, "the banner timeout never ran out"
        clock.jump(SHORT_TIMEOUT)  # again each round: the banner watch may start late
        app.guest.call_soon(lambda: None)  # wake trio, so it sees the new time
        await pilot.pause(0.05)


@pytest.mark.parametrize(("said", "shown"), [(b"", "nothing arrived"), (b"wel", "wel")])
async def test_a_peer_that_never_sends_the_banner_is_named_after_the_timeout(
    monkeypatch: pytest.MonkeyPatch, said: bytes, shown: str
) -> None:
    """No banner within the timeout: 'not served yet', lines held, the wire pane opened."""
    monkeypatch.setattr(connection, "BANNER_TIMEOUT", SHORT_TIMEOUT)
    with scripted_peer(*([said] if said else [])) as port:
        app = CoioApp(Settings(port=port))
        clock = frozen_trio(app)
        async with app.run_test() as pilot:
            chat = chats(app)[0]
            await wait_for(pilot, lambda: chat.connected)
            chat.query_one(ChatInput).value = "early"  # typed within the timeout
            await pilot.press("enter")
            queued = "⧗ early  (queued: waiting for the server's banner)"
            await wait_for(pilot, lambda: queued in log_text(chat.transcript))
            await run_out_banner_timeout(pilot, app, clock)
            pane = chat.link_pane.render_text().plain
            assert "⚠ not served yet" in pane
            assert f"(no banner after {SHORT_TIMEOUT:g} s)" in pane
            note = (
                f"⚠ no banner yet after {SHORT_TIMEOUT:g} s — the server has not served us "
                "(busy, or not a coio server)"
            )
            assert note in log_text(chat.transcript)
            wire = chat.query_one(WirePane)
            await wait_for(pilot, lambda: wire.region.height > 0)  # opened by itself, on screen
            await wait_for(pilot, lambda: shown in log_text(wire))
            await pilot.press(*"later", "enter")
            held = "⧗ later  (held: no banner from the server yet)"
            await wait_for(pilot, lambda: held in log_text(chat.transcript))
            await pilot.pause(0.3)
            assert chat.stats.sent_lines == 0
            await wait_for(pilot, lambda: chat.link is not None)
            assert chat.link is not None
            assert chat.link.queued == 2


async def test_a_wrong_banner_opens_the_wire_pane_on_screen_and_f2_closes_it() -> None:
    """An SSH banner opens the wire pane visibly; the first F2 hides it, the next shows it."""
    with scripted_peer(b"SSH-2.0-OpenSSH_9.2p1\r\n") as port:
        app = CoioApp(Settings(port=port))
        async with app.run_test() as pilot:
            chat = chats(app)[0]
            wire = chat.query_one(WirePane)
            assert wire.region.height == 0  # closed until something calls for it
            await wait_for(pilot, lambda: chat.link_pane.banner is False)
            await wait_for(pilot, lambda: wire.region.height > 0)
            await wait_for(pilot, lambda: "SSH-2.0-OpenSSH_9.2p1\\r\\n" in log_text(wire))
            await pilot.press("f2")
            await wait_for(pilot, lambda: wire.region.height == 0)
            assert not chat.wire_shown
            await pilot.press("f2")
            await wait_for(pilot, lambda: wire.region.height > 0)
            assert chat.wire_shown


async def test_unsolicited_lines_are_counted_apart_from_round_trips() -> None:
    """Lines pushed before anything was sent are shown as unsolicited, with no RTT or echo count."""
    with scripted_peer(b"welcome!", b"one\ntwo\n", echo_upper=True) as port:
        app = CoioApp(Settings(port=port))
        async with app.run_test() as pilot:
            chat = chats(app)[0]
            await wait_for(pilot, lambda: chat.stats.unsolicited == 2)
            assert chat.stats.echoed_lines == 0
            assert not chat.stats.rtts
            pushed = [ln for ln in log_text(chat.transcript).splitlines() if "← " in ln]
            assert [ln.split("← ")[1] for ln in pushed] == [
                "one  ⚠ unsolicited line",
                "two  ⚠ unsolicited line",
            ]
            await wait_for(pilot, lambda: chat.link is not None)
            assert chat.link is not None
            chat.link.send_line("hi")
            await wait_for(pilot, lambda: chat.stats.echoed_lines == 1)
            assert len(chat.stats.rtts) == 1
            assert (chat.stats.unsolicited, chat.stats.mismatches) == (2, 0)
            assert "← HI · " in log_text(chat.transcript)
            pane = chat.link_pane.render_text().plain
            assert "unsolicited 2 lines" in pane


async def test_a_banner_after_the_timeout_still_verifies_and_sends_held_lines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A slow server whose banner comes after the timeout is verified; held lines then go out."""
    monkeypatch.setattr(connection, "BANNER_TIMEOUT", SHORT_TIMEOUT)
    rest = threading.Event()  # the rest of the banner comes when the test says
    with scripted_peer(b"wel", b"come!", release=rest, echo_upper=True) as port:
        app = CoioApp(Settings(port=port))
        clock = frozen_trio(app)
        async with app.run_test() as pilot:
            chat = chats(app)[0]
            await run_out_banner_timeout(pilot, app, clock)
            chat.query_one(ChatInput).value = "held"
            await pilot.press("enter")
            held = "(held: no banner from the server yet)"
            await wait_for(pilot, lambda: held in log_text(chat.transcript))
            rest.set()
            await wait_for(pilot, lambda: chat.stats.echoed_lines == 1)
            assert chat.link_pane.banner is True
            assert "welcome! ✓ verified" in chat.link_pane.render_text().plain
            text = log_text(chat.transcript)
            assert f"the banner came after {SHORT_TIMEOUT:g} s: a coio server after all" in text
            assert "← HELD · " in text
