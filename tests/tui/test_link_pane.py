"""The connection pane's words and figures: plurals, byte counts that agree, wrapped reasons."""

from __future__ import annotations

import pytest
from rich.cells import cell_len
from textual.geometry import Region

from coio.tui.app import CoioApp
from coio.tui.messages import BannerChecked, Echoes, EchoItem, LinesSent, LinkState, WireChunk
from coio.tui.settings import Settings
from coio.tui.widgets.link_pane import LinkPane
from tests.tui.pilot_support import LayoutRequests, after_refresh, chats, wait_for

pytestmark = pytest.mark.asyncio

LABEL = " " * 9  # the label column: continuation lines start here


def offline() -> CoioApp:
    return CoioApp(Settings(), connect=False)


async def test_one_message_and_one_queued_line_are_singular() -> None:
    """'1 msg' and '1 line', never '1 msgs' or '1 lines'; other counts stay plural."""
    app = offline()
    async with app.run_test() as pilot:
        chat = chats(app)[0]
        chat.post_message(LinesSent(1, [(0, "hi")], 0.0))
        chat.post_message(Echoes(1, [EchoItem(0, "hi", b"HI", True, 0.001, 0.0)]))
        await pilot.pause()
        chat.link_pane.queued = 1
        text = chat.link_pane.render_text().plain
        assert "sent     1 msg · " in text
        assert "echoed   1 msg · " in text
        assert "queued   1 line\n" in text
        chat.link_pane.queued = 2
        assert "queued   2 lines\n" in chat.link_pane.render_text().plain


async def test_sent_and_echoed_bytes_both_count_chat_lines_only() -> None:
    """The 8-byte banner is not counted as echoed: 'hi' out and 'HI' back are 3 B each way."""
    app = offline()
    async with app.run_test() as pilot:
        chat = chats(app)[0]
        chat.post_message(WireChunk(1, False, b"welcome!", 8, 0.0))
        chat.post_message(BannerChecked(1, True, b"welcome!"))
        chat.post_message(WireChunk(1, True, b"hi\n", 3, 0.0))
        chat.post_message(LinesSent(1, [(0, "hi")], 0.0))
        chat.post_message(WireChunk(1, False, b"HI\n", 3, 0.0))
        chat.post_message(Echoes(1, [EchoItem(0, "hi", b"HI", True, 0.001, 0.0)]))
        await pilot.pause()
        text = chat.link_pane.render_text().plain
        assert "sent     1 msg · 3 B" in text
        assert "echoed   1 msg · 3 B" in text
        assert chat.stats.received_bytes == 11  # everything read is still known


@pytest.mark.parametrize(
    "detail", ["connection refused (is coio-server running?)", "x" * 50, "no route to host"]
)
async def test_a_long_reason_wraps_under_its_value_not_the_labels(detail: str) -> None:
    """A long state reason wraps within the value column; no line runs into the labels."""
    app = offline()
    async with app.run_test(size=(120, 34)) as pilot:  # wide: the pane is beside the transcript
        pane = chats(app)[0].link_pane
        pane.set_state(LinkState.WAITING, detail, 2.0)
        await pilot.pause()
        width = pane.content_size.width
        lines = pane.render_text().plain.splitlines()
        assert all(cell_len(line) <= width for line in lines), lines
        start = next(i for i, line in enumerate(lines) if line.startswith("state"))
        reason = [line for line in lines[start + 1 :] if line.startswith(LABEL)]
        assert "".join(part.strip() for part in reason).replace(" ", "") == detail.replace(" ", "")


async def test_a_fact_set_on_the_pane_redraws_it_with_no_call_from_its_owner() -> None:
    """Setting a reactive (the queue) lays the pane out again with the new line shown."""
    app = offline()
    async with app.run_test(size=(120, 34)) as pilot:
        pane = chats(app)[0].link_pane
        facts = pane.query_one("#link-text")
        await pilot.pause()
        before = facts.outer_size.height
        pane.queued = 3
        # The once-a-second repaint never lays out again: only the watcher makes room.
        await wait_for(pilot, lambda: facts.outer_size.height == before + 1)
        rows = [strip.text for strip in facts.render_lines(Region(0, 0, *facts.outer_size))]
        assert "queued   3 lines" in [row.rstrip() for row in rows]


def facts_rows(app: CoioApp) -> list[str]:
    facts = chats(app)[0].link_pane.query_one("#link-text")
    return [s.text.rstrip() for s in facts.render_lines(Region(0, 0, *facts.outer_size))]


def change_figures(app: CoioApp, **figures: int) -> None:
    """Set the tab's figures and tell its connection pane, as the tab does after a read (an
    Echoes message would also grow the transcript, which lays the screen out on its own)."""
    pane = chats(app)[0].link_pane
    for name, value in figures.items():
        setattr(pane.stats, name, value)
    pane.mutate_reactive(LinkPane.stats)


async def test_figures_that_change_repaint_and_a_new_figure_line_gets_its_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In a flood the figures are repainted in place, with no layout of the screen; a figure
    line that appears (a mismatch) makes the pane a row taller and is shown in it."""
    app = offline()
    async with app.run_test(size=(120, 34)) as pilot:
        pane = chats(app)[0].link_pane
        change_figures(app, echoed_lines=1, echoed_bytes=3)
        await wait_for(pilot, lambda: "echoed   1 msg · 3 B" in facts_rows(app))
        await after_refresh(pilot, pane)
        height = len(facts_rows(app))
        layouts = LayoutRequests(monkeypatch, pane.query_one("#link-text"))
        change_figures(app, echoed_lines=2, echoed_bytes=6)
        await wait_for(pilot, lambda: "echoed   2 msgs · 6 B" in facts_rows(app))
        await after_refresh(pilot, pane)
        assert layouts.count == 0
        change_figures(app, mismatches=1)
        await wait_for(
            pilot,
            lambda: len(facts_rows(app)) == height + 1,
            explain=lambda: "\n".join(facts_rows(app)),
        )
        rows = facts_rows(app)
        assert "mismatch 1" in rows
        assert rows[-1].startswith("p50/p99"), rows  # the last line is not cut off
        assert layouts.count >= 1


async def test_figures_of_a_folded_pane_ask_for_no_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    """Below 100 columns the pane is folded away: its figures changing lays nothing out, and
    F4 shows it with the figures of the moment."""
    app = offline()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = chats(app)[0].link_pane
        await after_refresh(pilot, pane)
        layouts = LayoutRequests(monkeypatch, pane.query_one("#link-text"))
        change_figures(app, echoed_lines=1, echoed_bytes=3, mismatches=1)
        await wait_for(pilot, lambda: not pane._figures_due)  # the figures' redraw has run
        await after_refresh(pilot, pane)
        assert layouts.count == 0
        await pilot.press("f4")
        await wait_for(pilot, lambda: "mismatch 1" in facts_rows(app))
        assert "echoed   1 msg · 3 B" in facts_rows(app)
