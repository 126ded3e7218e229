"""The message box: Enter sends, Up/Down walk the history, a pasted block sends line by line."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import Reactive
from textual.widgets import Input

HISTORY_SIZE = 500  # lines remembered for Up/Down


class ChatInput(Input):
    """An ``Input`` with shell-like history and multi-line paste."""

    BINDINGS = [
        Binding("up", "history_back", "Previous", show=False),
        Binding("down", "history_forward", "Next", show=False),
    ]

    # Input sets its virtual width to the text's on every key, and Widget's virtual_size asks
    # for a layout of the whole screen when it changes. The box's size comes from its own CSS
    # (width: 100%, docked at the bottom) and it has no scrollbars, so a key needs only a
    # repaint, not a layout of every widget on the screen in the frame the key waits for.
    # What that layout also did, keeping the scroll within the text, watch_virtual_size does.
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False, repaint=True)

    def watch_virtual_size(self) -> None:
        # A line made shorter without moving the cursor (Ctrl+K, Delete) must not stay
        # scrolled past its own end.
        if self.scroll_x > self.max_scroll_x:
            self.scroll_to(x=self.max_scroll_x, animate=False, immediate=True, force=True)

    @dataclass
    class Lines(Message):
        """The user sent these lines (one for Enter, several for a pasted block)."""

        chat_input: ChatInput
        lines: list[str]

        @property
        def control(self) -> ChatInput:
            return self.chat_input

    def __init__(self, *, placeholder: str = "", id: str | None = None) -> None:
        super().__init__(placeholder=placeholder, id=id)
        self.history: list[str] = []
        self._cursor = 0  # position in history; len(history) means "the line being typed"
        self._draft = ""

    def remember(self, line: str) -> None:
        if line and (not self.history or self.history[-1] != line):
            self.history.append(line)
            del self.history[:-HISTORY_SIZE]
        self._cursor = len(self.history)
        self._draft = ""

    def action_history_back(self) -> None:
        if self._cursor == 0:
            return
        if self._cursor == len(self.history):
            self._draft = self.value
        self._cursor -= 1
        self._show(self.history[self._cursor])

    def action_history_forward(self) -> None:
        if self._cursor >= len(self.history):
            return
        self._cursor += 1
        self._show(self._draft if self._cursor == len(self.history) else self.history[self._cursor])

    def _show(self, text: str) -> None:
        self.value = text
        self.cursor_position = len(text)

    async def action_submit(self) -> None:
        # The box can hold several lines (what was left of a paste): one chat line each.
        lines = [line for line in self.value.splitlines() if line]
        if lines:
            self.post_message(self.Lines(self, lines))

    def _on_paste(self, event: events.Paste) -> None:
        lines = event.text.splitlines()
        if len(lines) <= 1:
            super()._on_paste(event)
            return
        event.stop()
        # The paste continues a line being typed; lines left unsent (several) stay whole.
        held = self.value + "\n" if "\n" in self.value else self.value
        lines = (held + event.text).splitlines()
        self.post_message(self.Lines(self, [line for line in lines if line]))
