"""A RichLog whose text can be selected and copied, with bounded memory while hidden."""

from __future__ import annotations

from collections import deque

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.events import Resize
from textual.selection import Selection
from textual.strip import Strip
from textual.widgets import RichLog


class SelectableLog(RichLog):
    """``RichLog`` plus mouse selection (Textual's ``Log`` has it, ``RichLog`` does not).

    Lines are written as Rich ``Text`` with markup off by the subclasses, through ``add()``:
    new lines are followed while ``following`` is True, that is, until the reader scrolls up.
    A layout change (a pane opening beside it) moves the bottom but is not the reader
    scrolling away, so it leaves ``following`` alone.
    """

    ALLOW_SELECT = True

    def __init__(self, *, max_lines: int, id: str | None = None) -> None:
        super().__init__(max_lines=max_lines, wrap=True, markup=False, highlight=False, id=id)
        # RichLog holds writes made before its size is known (a hidden tab or pane) in an
        # unbounded deque; a flooding peer would grow it forever. Keep only what fits.
        self._deferred_renders = deque(maxlen=max_lines)
        self.following = True

    def add(self, text: Text) -> None:
        """Append ``text``; scroll to it only while the reader follows the newest lines."""
        self.write(text, scroll_end=self.following)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self.size.height:  # a hidden log has no bottom to be at
            self.following = round(new_value) >= self.max_scroll_y

    def on_resize(self, event: Resize) -> None:
        if self.following:  # keep the newest line in view as the log grows or shrinks
            self.call_after_refresh(self.scroll_end, animate=False, immediate=True)

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        text = "\n".join(strip.text for strip in self.lines)
        return selection.extract(text), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self._line_cache.clear()
        self.refresh()

    def _render_line(self, y: int, scroll_x: int, width: int) -> Strip:
        if y >= len(self.lines):
            return Strip.blank(width, self.rich_style)
        selection = self.text_selection
        if selection is None:
            line = super()._render_line(y, scroll_x, width)
        else:
            strip = self._highlight(self.lines[y], selection.get_span(y))
            line = strip.crop_extend(scroll_x, scroll_x + width, self.rich_style)
        # Offsets tell the screen which character the mouse is over, for selection.
        return line.apply_offsets(scroll_x, y)

    def _highlight(self, strip: Strip, span: tuple[int, int] | None) -> Strip:
        if span is None:
            return strip
        text = strip.text
        start, end = span
        end = len(text) if end == -1 else end
        first, last = cell_len(text[:start]), cell_len(text[:end])
        # Only the background changes: the theme's selection colour over this widget's.
        tint = self.screen.get_component_styles("screen--selection").background
        style = Style(bgcolor=(self.background_colors[1] + tint).rich_color)
        chosen = strip.crop(first, last)
        marked = Strip([Segment(t, s + style if s else style, c) for t, s, c in chosen])
        return Strip.join([strip.crop(0, first), marked, strip.crop(last, strip.cell_length)])
