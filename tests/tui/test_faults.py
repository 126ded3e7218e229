"""coio-tui under faults: the server restarting mid-chat, a flooding peer, hostile bytes."""

from __future__ import annotations

import signal
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from coio.tui.app import CoioApp
from coio.tui.messages import LinkState
from coio.tui.net.backoff import MAX_DELAY, Backoff
from coio.tui.net.connection import MAX_UNSHOWN_READS
from coio.tui.settings import Settings
from coio.tui.stats import percentile
from coio.tui.widgets.chat_input import ChatInput
from coio.tui.widgets.wire import WIRE_HISTORY, WirePane
from tests.stress.figures import record_stress_figures  # noqa: F401  (autouse: to stress.txt)
from tests.support import running_server
from tests.tui.peers import scripted_peer
from tests.tui.pilot_support import chats, input_to_render_ms, log_text, rss_mb, wait_for

pytestmark = pytest.mark.asyncio

FLOOD_PEER = Path(__file__).with_name("flood_peer.py")
# A 50 MB flood may grow the app's memory by this much at most: a few times what the bounded
# transcript and wire pane hold (README: +7 MiB), far below what keeping the flood would take.
FLOOD_GROWTH_BOUND_MIB = 32
# Keys typed during a flood must still render: the median delay from key to screen.
FLOOD_RENDER_MEDIAN_MS = 250


@pytest.mark.stress  # about 10 s: a kill, several retries and a restart
async def test_restart_while_typing_delivers_each_queued_line_once_in_order() -> None:
    """Server killed and restarted while typing: queued lines shown pending, sent once, in order."""
    with running_server() as first:
        port = first.port
        app = CoioApp(Settings(port=port))
        async with app.run_test() as pilot:
            chat = chats(app)[0]
            await wait_for(pilot, lambda: chat.link is not None)
            assert chat.link is not None
            await wait_for(pilot, lambda: chat.link_pane.banner is True)
            await pilot.press(*"before", "enter")
            await wait_for(pilot, lambda: chat.stats.echoed_lines == 1)
            assert chat.link.worker.backoff.cap == MAX_DELAY == 8.0  # what the user gets
            # Short delays, so the test sees the cap reached within a second or two.
            chat.link.worker.backoff = Backoff(first=0.05, cap=0.4)
            delays: list[float] = []
            set_state = chat.link_pane.set_state

            def record(state: LinkState, detail: str, retry_in: float | None) -> None:
                if retry_in is not None:
                    delays.append(retry_in)
                set_state(state, detail, retry_in)

            chat.link_pane.set_state = record  # type: ignore[method-assign]
            first.stop(signal.SIGKILL)
            await wait_for(pilot, lambda: not chat.connected)
            typed = [f"line {i}" for i in range(12)]
            for burst in (typed[:4], typed[4:8], typed[8:]):
                for line in burst:
                    await pilot.press(*line, "enter")
                await pilot.pause(0.5)  # keep typing across several failed retries
            assert chat.link.queued == len(typed)
            pending = [ln for ln in log_text(chat.transcript).splitlines() if "⧗" in ln]
            assert [p.split("⧗ ")[1].split("  (queued")[0] for p in pending] == typed
            assert len(delays) >= 4
            assert max(delays) == 0.4  # doubled up to the cap, never past it
            with running_server("--port", str(port)):
                await wait_for(pilot, lambda: chat.stats.echoed_lines == 1 + len(typed), 30)
                await pilot.pause(0.3)
            text = log_text(chat.transcript)
            echoes = [ln.split("← ")[1].split(" ·")[0] for ln in text.splitlines() if "← " in ln]
            assert echoes == ["BEFORE", *(f"LINE {i}" for i in range(12))]  # each once, in order
            sent = [ln.split("→ ")[1] for ln in text.splitlines() if "→ " in ln]
            assert sent == ["before", *typed]
            assert chat.link.queued == 0
            assert chat.stats.mismatches == 0


def start_flood(mode: str, megabytes: int) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, str(FLOOD_PEER), mode, str(megabytes)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    return proc, int(proc.stdout.readline().split()[1])


async def flood(mode: str, megabytes: int) -> tuple[list[float], float]:
    """Run the app against a flooding peer; type meanwhile; return latencies and RSS growth."""
    proc, port = start_flood(mode, megabytes)
    try:
        app = CoioApp(Settings(port=port, history=2_000))
        async with app.run_test() as pilot:
            chat = chats(app)[0]
            await wait_for(pilot, lambda: chat.link is not None)
            assert chat.link is not None
            await pilot.press("f2")  # the wire pane shown: the heavier case
            before = rss_mb()
            total = megabytes * 1024 * 1024
            latencies: list[float] = []
            box = chat.query_one(ChatInput)
            done = False
            while not done:  # at least one round of keys, however fast the flood is read
                done = chat.stats.received_bytes >= total + (8 if mode == "lines" else 0)
                assert app.is_running
                latencies += await input_to_render_ms(app, box, "abcdefghij")
                box.value = ""
                assert chat.link.worker.unshown_reads <= MAX_UNSHOWN_READS
            grown = rss_mb() - before
            assert len(chat.transcript.lines) <= 2_000
            wire = chat.query_one(WirePane)
            assert len(wire.lines) <= WIRE_HISTORY
            assert "\x1b" not in log_text(chat.transcript) + log_text(wire)
    finally:
        proc.kill()
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
    return latencies, grown


def report(name: str, latencies: list[float], grown: float, bounded: bool = True) -> None:
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    render_bound = f" (bound {FLOOD_RENDER_MEDIAN_MS} ms)" if bounded else ""
    growth_bound = f" (bound {FLOOD_GROWTH_BOUND_MIB} MiB)" if bounded else ""
    print(
        f"\n{name}: input-to-render p50 {p50:.1f} ms{render_bound},"
        f" p99 {p99:.1f} ms, max {max(latencies):.1f} ms over {len(latencies)} keys"
    )
    print(f"{name}: app RSS grew {grown:.0f} MiB{growth_bound}")


async def test_small_flood_is_read_with_backpressure_and_bounded_panes() -> None:
    """A peer pushing 4 MB of unsolicited lines: all read, panes capped, UI keeps rendering keys."""
    latencies, grown = await flood("lines", 4)
    report("4 MB unsolicited lines", latencies, grown, bounded=False)
    assert latencies
    assert grown < 200


@pytest.mark.stress
async def test_flood_of_50_mb_unsolicited_lines_keeps_the_ui_responsive() -> None:
    """50 MB of unsolicited lines after a real banner: keys still render, memory stays bounded."""
    latencies, grown = await flood("lines", 50)
    report("50 MB unsolicited lines", latencies, grown)
    assert statistics.median(latencies) < FLOOD_RENDER_MEDIAN_MS
    assert grown < FLOOD_GROWTH_BOUND_MIB


@pytest.mark.stress
async def test_flood_of_50_mb_from_a_foreign_peer_keeps_the_ui_responsive() -> None:
    """50 MB of escapes and markup with no banner: keys still render, memory stays bounded."""
    latencies, grown = await flood("foreign", 50)
    report("50 MB foreign bytes", latencies, grown)
    assert statistics.median(latencies) < FLOOD_RENDER_MEDIAN_MS
    assert grown < FLOOD_GROWTH_BOUND_MIB


HOSTILE = b"[bold red]x [@click=app.quit]q[/] \x1b[2J\x1b]52;c;aGk=\x07 \xe2\x80\xae rtl \xff"


async def test_hostile_banner_is_shown_escaped_in_every_pane() -> None:
    """A peer whose first bytes are markup and escapes: shown literally, nothing interpreted."""
    with scripted_peer(HOSTILE) as port:
        app = CoioApp(Settings(port=port))
        async with app.run_test() as pilot:
            chat = chats(app)[0]
            await wait_for(pilot, lambda: chat.link_pane.banner is False)
            wire = chat.query_one(WirePane)
            await wait_for(pilot, lambda: "52;c;" in log_text(wire))
            shown = {
                "transcript": log_text(chat.transcript),
                "wire": log_text(wire).replace("\n", ""),  # undo wrapping
                "connection": chat.link_pane.render_text().plain,
            }
            for pane, text in shown.items():
                assert "\x1b" not in text, pane
                assert "\u202e" not in text, pane  # a bidi override would reorder the screen
            assert "[bold red]x [@click=app.quit]q[/] \\x1b[2J\\x1b]52;c;aGk=\\x07" in shown["wire"]
            assert "\\u202e rtl \\xff" in shown["wire"]
            assert "[bold red]x [@click=app.quit]" in shown["transcript"]
            assert "\\x1b" in shown["connection"]
            assert app.is_running


async def test_hostile_echo_lines_are_shown_literally_and_flagged() -> None:
    """Unsolicited echo lines carrying markup, CSI and OSC 52 are shown as text and flagged."""
    with scripted_peer(b"welcome!", HOSTILE + b"\n") as port:
        app = CoioApp(Settings(port=port))
        async with app.run_test() as pilot:
            chat = chats(app)[0]
            await wait_for(pilot, lambda: chat.stats.unsolicited == 1)
            text = log_text(chat.transcript)
            assert "[bold red]x [@click=app.quit]q[/] \\x1b[2J\\x1b]52;c;aGk=\\x07" in text
            assert "unsolicited line" in text
            assert (chat.stats.echoed_lines, chat.stats.mismatches) == (0, 0)
            assert "\x1b" not in text
            assert app.is_running
