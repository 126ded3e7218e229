"""Helpers for Pilot tests: wait for a condition, read a log widget's text."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot
from textual.widgets import RichLog

from tui.app import CoioApp
from tui.widgets.chat_pane import ChatPane


async def wait_for(pilot: Pilot[int], condition: Callable[[], bool], within: float = 15.0) -> None:
    """Let the app run until ``condition()`` holds; fail the test after ``within`` s."""
    steps = int(within / 0.05)
    for _ in range(steps):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"condition not met within {within} s")


def log_text(log: RichLog) -> str:
    """Everything a RichLog shows, as plain text."""
    return "\n".join(strip.text for strip in log.lines)


def chats(app: CoioApp) -> list[ChatPane]:
    return list(app.query(ChatPane))
