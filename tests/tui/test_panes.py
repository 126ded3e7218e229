"""The panes on their own: bounded transcript, follow-at-bottom, selection, wire chunks, palette,
and the side pane folding away on a narrow terminal."""

from __future__ import annotations

import asyncio

import pytest
import trio
from textual.geometry import Region
from textual.widgets import Tab, TabbedContent

from coio.tui.app import CoioApp
from coio.tui.messages import EchoItem, WireChunk
from coio.tui.settings import Settings
from coio.tui.widgets import wire as wire_module
from coio.tui.widgets.chat_input import ChatInput
from coio.tui.widgets.link_pane import LinkPane
from coio.tui.widgets.wire import WirePane
from tests.tui.peers import scripted_peer
from tests.tui.pilot_support import LayoutRequests, after_refresh, chats, log_text, wait_for

pytestmark = pytest.mark.asyncio


def offline(**settings: object) -> CoioApp:
    return CoioApp(Settings(**settings), connect=False)  # type: ignore[arg-type]


async def test_transcript_keeps_only_the_configured_history() -> None:
    """--history N: the transcript keeps the newest N lines and drops the oldest."""
    app = offline(history=100)
    async with app.run_test() as pilot:
        transcript = chats(app)[0].transcript
        for n in range(350):
            transcript.add_note(f"note {n}")
        await pilot.pause()
        text = log_text(transcript)
        assert len(transcript.lines) == 100
        assert "note 349" in text
        assert "note 249" not in text


async def test_transcript_follows_new_lines_only_while_at_the_bottom() -> None:
    """New lines scroll the view when it is at the bottom, and leave it alone when scrolled up."""
    app = offline()
    async with app.run_test() as pilot:
        transcript = chats(app)[0].transcript
        for n in range(100):
            transcript.add_note(f"note {n}")
        await after_refresh(pilot, transcript)  # the writes' scrolls to the end have run
        assert transcript.is_vertical_scroll_end
        transcript.scroll_to(y=10, animate=False)
        await wait_for(pilot, lambda: transcript.scroll_y == 10)
        for n in range(20):
            transcript.add_note(f"later {n}")
        await after_refresh(pilot, transcript)  # any scroll the writes asked for has run
        assert transcript.scroll_y == 10
        transcript.scroll_end(animate=False)
        await wait_for(pilot, lambda: transcript.is_vertical_scroll_end)
        transcript.add_note("newest")
        await after_refresh(pilot, transcript)
        assert transcript.is_vertical_scroll_end


async def test_transcript_keeps_following_when_the_wire_pane_opens_and_closes() -> None:
    """F2 shrinking or growing the transcript does not count as the reader scrolling away."""
    app = offline()
    async with app.run_test() as pilot:
        transcript = chats(app)[0].transcript
        for n in range(14):
            transcript.add_note(f"line {n}")
        await pilot.pause()
        for step in ("shown", "hidden again"):
            await pilot.press("f2")
            await pilot.pause()
            transcript.add_note(f"LASTLINE {step}")
            # The resize's scroll comes after a layout; a reader scrolled away would never
            # see the end again, so waiting for it still proves the log kept following.
            await wait_for(pilot, lambda: transcript.is_vertical_scroll_end)
            assert transcript.max_scroll_y > 0, step  # the test needs a scrolled view
            bottom = transcript.lines[-1].plain
            assert bottom.endswith(f"LASTLINE {step}"), step


async def test_mouse_selection_copies_transcript_text() -> None:
    """Dragging over the transcript selects its text, ready to copy."""
    app = offline()
    async with app.run_test(size=(100, 30)) as pilot:
        transcript = chats(app)[0].transcript
        transcript.add_note("first line to copy")
        transcript.add_note("second line to copy")
        await pilot.pause()
        # (1, 1) is the first character inside the border; rows are the two notes.
        await pilot.mouse_down(transcript, offset=(10, 1))
        await pilot.hover(transcript, offset=(22, 2))
        await pilot.mouse_up(transcript, offset=(22, 2))
        await pilot.pause()
        selected = app.screen.get_selected_text()
        assert selected is not None
        assert selected.startswith("first line to copy\n")
        assert selected.split("\n")[1].endswith(" second line t")  # up to the mouse


async def test_a_read_of_many_echoes_renders_only_the_rows_on_screen() -> None:
    """10,000 echoes in one message are one append: only the lines on screen get rendered."""
    app = offline()
    async with app.run_test(size=(100, 30)) as pilot:
        transcript = chats(app)[0].transcript
        await pilot.pause()
        items = [
            EchoItem(n, f"echo {n}", f"ECHO {n}".encode(), True, 0.0004, 0.0) for n in range(10_000)
        ]
        transcript.add_echoes(items)
        await after_refresh(pilot, transcript)
        await pilot.pause()
        assert transcript.line_count == 10_000
        assert transcript.is_vertical_scroll_end
        assert "← ECHO 9999 · 0.4 ms" in transcript.render_line(transcript.size.height - 1).text
        assert 0 < len(transcript._strips) <= transcript.size.height  # rendered: what is seen


async def test_a_long_line_folds_at_the_width_and_copies_as_one_line() -> None:
    """A line wider than the pane takes several rows; selecting over them copies it unbroken."""
    app = offline()
    async with app.run_test(size=(100, 30)) as pilot:
        transcript = chats(app)[0].transcript
        long = "x" * 150 + "END"
        transcript.add_note(long)
        transcript.add_note("after")
        await pilot.pause()
        width = transcript.scrollable_content_region.width
        rows = -(-len(transcript.lines[0].plain) // width)
        assert rows >= 2  # the test needs a folded line
        assert transcript.virtual_size.height == rows + 1
        assert transcript.render_line(rows - 1).text.rstrip().endswith("END")
        # From the first character inside the border to past the end of "after".
        await pilot.mouse_down(transcript, offset=(1, 1))
        await pilot.hover(transcript, offset=(width, rows + 1))
        await pilot.mouse_up(transcript, offset=(width, rows + 1))
        await pilot.pause()
        assert app.screen.get_selected_text() == log_text(transcript)


async def test_a_reader_scrolled_up_keeps_their_place_as_old_lines_drop() -> None:
    """At the --history bound, lines dropped at the top do not move what a reader scrolled to."""
    app = offline(history=100)
    async with app.run_test() as pilot:
        transcript = chats(app)[0].transcript
        for n in range(100):
            transcript.add_note(f"note {n}")
        await after_refresh(pilot, transcript)
        transcript.scroll_to(y=50, animate=False)
        await wait_for(pilot, lambda: transcript.scroll_y == 50)
        assert transcript.render_line(0).text.rstrip().endswith("note 50")
        for n in range(10):
            transcript.add_note(f"later {n}")
        await after_refresh(pilot, transcript)
        assert transcript.scroll_y == 40
        assert transcript.render_line(0).text.rstrip().endswith("note 50")
        assert not transcript.following


async def test_hidden_wire_pane_keeps_a_bounded_backlog(monkeypatch: pytest.MonkeyPatch) -> None:
    """While hidden, the wire pane holds at most its history; shown, it has the newest chunks."""
    monkeypatch.setattr(wire_module, "WIRE_HISTORY", 200)  # the same code path, quicker
    app = offline()
    async with app.run_test() as pilot:
        chat = chats(app)[0]
        wire = chat.query_one(WirePane)
        for n in range(900):
            data = f"chunk {n}".encode()
            chat.post_message(WireChunk(1, False, data, len(data), 0.0))
        await pilot.pause()
        assert wire.size.height == 0  # hidden: nothing laid out, yet the backlog is bounded
        assert len(wire.lines) == 200
        await pilot.press("f2")
        await wait_for(pilot, lambda: "chunk 899" in log_text(wire))
        assert len(wire.lines) <= 200
        assert "chunk 699\n" not in log_text(wire)
        assert "chunk 700\n" in log_text(wire)


async def test_each_tcp_read_is_its_own_wire_chunk() -> None:
    """A banner split over two TCP reads shows as two escaped chunks, then the verified banner."""
    with scripted_peer(b"wel", b"come!\r\x00", gap=0.5) as port:
        app = CoioApp(Settings(port=port))
        async with app.run_test() as pilot:
            chat = chats(app)[0]
            await pilot.press("f2")
            await wait_for(pilot, lambda: chat.link_pane.banner is True)
            wire = chat.query_one(WirePane)
            await wait_for(pilot, lambda: "come!" in log_text(wire))
            rows = [r for r in log_text(wire).splitlines() if "recv" in r]
            assert rows[0].endswith("← recv      3 B wel")
            assert rows[1].endswith("← recv      7 B come!\\r\\0")


async def test_command_palette_offers_connection_commands_and_theme() -> None:
    """The palette has connect, disconnect, new connection, wire, clear and theme."""
    app = offline()
    async with app.run_test():
        titles = {command.title for command in app.get_system_commands(app.screen)}
    expected = {"Connect", "Disconnect", "New connection", "Toggle wire pane", "Clear", "Theme"}
    assert expected <= titles


async def test_an_unexpected_network_error_ends_the_app_with_a_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A bug on the trio side is not swallowed: the app exits 1 and says what failed."""

    async def broken() -> None:
        await trio.lowlevel.checkpoint()
        raise ZeroDivisionError("boom")

    app = offline()
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.guest.running)  # trio starts after the first frame
        app.guest.spawn(broken)
        await wait_for(pilot, lambda: app.return_code is not None, 5)
    assert app.return_code == 1
    assert "network side failed: ZeroDivisionError('boom')" in capsys.readouterr().err


MARKUP_NAME = "[@click=app.quit]QUIT[/] [bold red]x[/]"


async def test_a_name_with_markup_is_shown_as_plain_text_on_the_tabs() -> None:
    """--name is never markup: the tab labels show its characters, and clicking one is harmless."""
    app = offline(name=MARKUP_NAME, clients=2)
    async with app.run_test() as pilot:
        labels = [tab.label.plain for tab in app.query(Tab)]
        assert labels == [MARKUP_NAME, f"{MARKUP_NAME}-2"]
        assert all(not tab.label.spans for tab in app.query(Tab))  # no style, no @click
        await pilot.click(Tab, offset=(2, 0))
        await pilot.pause()
        assert app.is_running


async def test_a_tab_switch_overtaken_by_another_leaves_the_later_tab_shown() -> None:
    """A switch made while the previous switch's focus is under way: the later tab stays shown."""
    app = offline(clients=3)
    async with app.run_test() as pilot:
        await pilot.pause()
        tabs = app.query_one(TabbedContent)
        panes = {f"conn-{n}": pane for n, pane in enumerate(chats(app), 1)}
        for tab, pane in panes.items():
            pane.transcript.add_note(f"written while {tab} may be hidden")
        for steps in range(2):  # how far the first switch's focus gets before the second
            for first, second in (("conn-2", "conn-3"), ("conn-1", "conn-2"), ("conn-3", "conn-1")):
                tabs.active = first
                for _ in range(steps):
                    await asyncio.sleep(0)
                tabs.active = second
                shown = panes[second]
                await wait_for(
                    pilot,
                    lambda shown=shown, second=second: (
                        app.focused is shown.query_one(ChatInput)
                        and f"{second} may be hidden" in log_text(shown.transcript)
                    ),
                    explain=lambda: f"active {tabs.active!r}, focused {app.focused!r}",
                )
                await pilot.pause(0.02)  # room for a late focus from the first switch to land
                assert tabs.active == second, f"{first} came back after {steps} steps"


def footer_actions(app: CoioApp) -> list[str]:
    """The actions of the keys the footer shows now (its key widgets, found by type name)."""
    return [str(getattr(key, "action", "")) for key in app.query("Footer FooterKey")]


async def test_below_100_columns_the_side_pane_folds_and_f4_lays_it_over_the_transcript() -> None:
    """80 columns: the transcript takes the width; F4 shows the pane on top of it, F4 hides it."""
    app = offline()
    async with app.run_test(size=(80, 24)) as pilot:
        chat = chats(app)[0]
        pane = chat.query_one(LinkPane)
        await wait_for(pilot, lambda: chat.transcript.region.width == 80)
        assert pane.region.width == 0  # folded: not on screen at all
        await wait_for(pilot, lambda: "toggle_details" in footer_actions(app))
        await pilot.press("f4")
        await wait_for(pilot, lambda: pane.region.width == 38)
        assert pane.region.right == 80  # against the right edge
        assert chat.transcript.region.width == 80  # laid over the transcript, not beside it
        on_top, _ = app.screen.get_widget_at(pane.region.x + 2, pane.region.y + 1)
        assert on_top in pane.walk_children(with_self=True)  # drawn above the transcript
        await pilot.press("f4")
        await wait_for(pilot, lambda: pane.region.width == 0)
        assert chat.transcript.region.width == 80


async def test_widening_the_terminal_unfolds_the_side_pane_and_hides_f4() -> None:
    """Widened past 100 columns the pane sits beside the transcript again and F4 leaves the
    footer; narrowed again, the pane is folded, not left open as an overlay."""
    app = offline()
    async with app.run_test(size=(80, 24)) as pilot:
        chat = chats(app)[0]
        pane = chat.query_one(LinkPane)
        await pilot.press("f4")
        await wait_for(pilot, lambda: pane.region.width == 38)
        await pilot.resize_terminal(120, 30)
        await wait_for(pilot, lambda: chat.transcript.region.width == 120 - 38)
        assert pane.region.x == 120 - 38  # beside the transcript, to its right
        await wait_for(pilot, lambda: "toggle_details" not in footer_actions(app))
        await pilot.press("f4")  # not offered here: does nothing
        await pilot.pause()
        assert chat.transcript.region.width == 120 - 38
        assert pane.region.width == 38
        await pilot.resize_terminal(99, 30)
        await wait_for(pilot, lambda: chat.transcript.region.width == 99)
        assert pane.region.width == 0
        await pilot.resize_terminal(100, 30)  # the first width that has room for both
        await wait_for(pilot, lambda: chat.transcript.region.width == 100 - 38)


async def test_a_line_longer_than_the_box_scrolls_to_keep_the_cursor_in_view() -> None:
    """Keys only repaint the box (no layout), yet a line wider than it still scrolls: its end
    is shown while typing, its start after Home."""
    app = offline()
    async with app.run_test(size=(80, 24)) as pilot:
        box = chats(app)[0].query_one(ChatInput)
        box.focus()
        words = [f"w{n:03}" for n in range(20)]  # 99 columns: wider than the box (76)

        def shown() -> str:
            rows = box.render_lines(Region(0, 0, *box.outer_size))
            return " | ".join(strip.text for strip in rows)

        await pilot.press(*" ".join(words))
        await wait_for(pilot, lambda: "w019" in shown(), explain=shown)
        assert "w000" not in shown()
        await pilot.press("home")
        await wait_for(pilot, lambda: "w000" in shown(), explain=shown)
        assert "w019" not in shown()


def box_text(box: ChatInput) -> str:
    return " | ".join(strip.text for strip in box.render_lines(Region(0, 0, *box.outer_size)))


async def test_a_line_cut_short_without_moving_the_cursor_scrolls_back_into_view() -> None:
    """Ctrl+K on a long line scrolled sideways: what is left fits, and is shown from its start."""
    app = offline()
    async with app.run_test(size=(80, 24)) as pilot:
        box = chats(app)[0].query_one(ChatInput)
        box.focus()
        await pilot.press(*" ".join(f"w{n:03}" for n in range(20)))
        await wait_for(pilot, lambda: box.scroll_x > 0, explain=lambda: box_text(box))
        await pilot.press(*["left"] * 55, "ctrl+k")
        await wait_for(pilot, lambda: box.value.endswith("w008"), explain=lambda: box.value)
        await wait_for(pilot, lambda: "w000" in box_text(box), explain=lambda: box_text(box))


async def test_a_key_in_the_message_box_repaints_it_without_a_layout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A key changes the box's virtual width; that asks for a repaint of the box, not a layout
    of the screen (a layout frame costs several repaints while the transcript floods)."""
    app = offline()
    async with app.run_test(size=(120, 40)) as pilot:
        box = chats(app)[0].query_one(ChatInput)
        box.focus()
        await pilot.press(*"abc")
        await wait_for(pilot, lambda: box.value == "abc")
        await after_refresh(pilot, box)
        layouts = LayoutRequests(monkeypatch, box)
        await pilot.press(*"def")
        await wait_for(pilot, lambda: "abcdef" in box_text(box), explain=lambda: box_text(box))
        await after_refresh(pilot, box)
        assert layouts.count == 0
