"""Helpers for Pilot tests: wait for a condition or a refresh, read a log's text, time input."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from textual import events
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Input

from coio.tui.app import CoioApp
from coio.tui.messages import BotsReport, ServerReport
from coio.tui.widgets.chat_pane import ChatPane
from coio.tui.widgets.selectable_log import SelectableLog


async def wait_for(
    pilot: Pilot[int],
    condition: Callable[[], bool],
    within: float = 15.0,
    explain: Callable[[], str] | None = None,
) -> None:
    """Let the app run until ``condition()`` holds; fail after ``within`` s of clock time."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            detail = f": {explain()}" if explain else ""
            raise AssertionError(f"condition not met within {within} s{detail}")
        await pilot.pause(0.05)


async def after_refresh(pilot: Pilot[int], widget: Widget) -> None:
    """Wait until what ``widget`` has deferred to after a refresh so far (scrolls) has run.

    Such callbacks run in order, so once one posted now has run, every earlier one has too:
    an assertion that follows sees their effect, not the state before a refresh came.
    """
    done: list[bool] = []
    widget.call_after_refresh(done.append, True)
    await wait_for(pilot, lambda: bool(done), explain=lambda: "no refresh came")


class LayoutRequests:
    """Counts the layouts of the screen that ``widget`` asks for (its ``refresh(layout=True)``)
    while the test runs: what a change of it costs beyond its own repaint. Others' layouts
    (the app still settling on a busy machine) are not counted."""

    def __init__(self, monkeypatch: Any, widget: Widget) -> None:
        self.count = 0
        cls = type(widget)
        original = cls.refresh

        def refresh(this: Widget, *regions: Any, **kwargs: Any) -> Widget:
            if this is widget and kwargs.get("layout"):
                self.count += 1
            return original(this, *regions, **kwargs)

        monkeypatch.setattr(cls, "refresh", refresh)


def log_text(log: SelectableLog) -> str:
    """Everything a transcript or wire pane holds, as plain text, a line per line written."""
    return "\n".join(line.plain for line in log.lines)


def chats(app: CoioApp) -> list[ChatPane]:
    return list(app.query(ChatPane))


async def input_to_render_ms(app: CoioApp, box: Input, keys: str) -> list[float]:
    """Press each key in turn; how long (ms) until the box next renders with it typed."""
    seen: dict[str, float] = {}
    render_line = box.render_line

    def spy(y: int) -> Strip:
        seen.setdefault(box.value, time.perf_counter())
        return render_line(y)

    box.render_line = spy  # type: ignore[method-assign]
    latencies = []
    try:
        for key in keys:
            target = box.value + key
            start = time.perf_counter()
            app.post_message(events.Key(key, key))
            deadline = start + 10
            while target not in seen:
                assert time.perf_counter() < deadline, (
                    f"{key!r} not rendered in 10 s: value {box.value!r}, focus {app.focused!r}"
                )
                await asyncio.sleep(0.0005)
            latencies.append((seen[target] - start) * 1000)
            await asyncio.sleep(0.02)  # keys a person types, not a burst
    finally:
        del box.render_line
    return latencies


def rss_mb() -> float:
    """This process's resident memory in MiB (VmRSS)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def room_bots_report() -> BotsReport:
    """The bots' figures the room-bar tests and snapshots draw: 40 bots chatting."""
    return BotsReport(
        bots=40,
        connected=40,
        echoed=4812,
        per_second=79.6,
        p50=0.00061,
        p99=0.0042,
        errors=0,
        last_error="",
    )


def room_server_report(model: str, waiting: int) -> ServerReport:
    """The server's figures beside them: 41 live (the bots and one tab) under ``model``."""
    return ServerReport(
        live=41,
        total=43,
        per_second=80.0,
        model=model,
        threads=3,
        waiting=waiting,
        memory=41 * 300 * 1024,
    )


class Notes:
    """Every notification the app is asked to show, as (message, severity), in order.

    Made before the app runs: it wraps the app's public ``notify`` (widgets' ``notify`` calls
    it too), so no test reads Textual's private notification list."""

    def __init__(self, app: CoioApp) -> None:
        self.seen: list[tuple[str, str]] = []
        original = app.notify

        def notify(message: str, *args: Any, **kwargs: Any) -> None:
            self.seen.append((str(message), str(kwargs.get("severity", "information"))))
            original(message, *args, **kwargs)

        app.notify = notify  # type: ignore[method-assign]

    @property
    def messages(self) -> list[str]:
        return [message for message, _ in self.seen]
