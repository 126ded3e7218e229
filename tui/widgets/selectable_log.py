"""A log of styled lines that costs O(visible rows) to append to and to paint, with selection.

Built on Textual's Line API (``ScrollView`` + ``render_line``): a line is kept as its parts
(text, style) and its width in cells, in a bounded list; it becomes segments and a ``Strip``
only when it is on screen. Long lines fold at the pane's width, cell by cell, so a
line's height is arithmetic on its width and the rows above any line are a running sum:
finding the line under row ``y`` is a bisect, and an append costs the same whether the log
holds ten lines or ten thousand.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate
from typing import NamedTuple

from rich.cells import cell_len, get_character_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.cache import LRUCache
from textual.events import Resize
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip

# Rendered lines kept: a few screens' worth, so repainting and scrolling back are cheap. Each
# Strip carries its own small caches (7 objects for the GC to walk) and the strips cropped and
# styled from it, so not more than needed: with 256, gc.get_objects() during a flood counted
# about 12,000 such caches.
STRIP_CACHE = 96


Part = tuple[str, str]  # some text and its Rich style ("" for none); never markup

# A line as stored: its parts and its width, as a plain tuple. Once a collection has looked at
# them, the garbage collector stops tracking plain tuples of strings and numbers (inner ones
# first, a level per collection), never a NamedTuple's instance: 10,000 kept lines then cost
# the next full collections nothing.
Stored = tuple[tuple[Part, ...], int]


class Line(NamedTuple):
    """One line as written: its styled parts and its width in cells. Rendered only if seen."""

    parts: tuple[Part, ...]
    cells: int

    @property
    def plain(self) -> str:
        return "".join([piece for piece, _ in self.parts])


def styled_line(*parts: Part) -> Line:
    """A line from ``(text, style)`` parts. Costs a width check per part, nothing more: parts
    repeated on many lines (a time stamp, an arrow) are the same string objects, and their
    widths come from Rich's cache."""
    cells = 0
    for piece, _ in parts:
        cells += len(piece) if piece.isascii() else cell_len(piece)
    return Line(parts, cells)


def _rows(cells: int, width: int) -> int:
    """Rows a line of ``cells`` takes when folded at ``width`` (one row while width is unknown)."""
    return max(1, -(-cells // width)) if width > 0 else 1


def _char_at_cell(plain: str, cell: int) -> int:
    """Index of the character that starts at (or straddles) cell ``cell`` of ``plain``."""
    if plain.isascii():
        return cell
    seen = 0
    for index, ch in enumerate(plain):
        if seen >= cell:
            return index
        seen += get_character_cell_size(ch)
    return len(plain)


class SelectableLog(ScrollView):
    """Lines of styled parts (never markup: the subclasses escape network text), followed at
    the bottom.

    New lines are followed while ``following`` is True, that is, until the reader scrolls up.
    A layout change (a pane opening beside it) moves the bottom but is not the reader
    scrolling away, so it leaves ``following`` alone. Mouse selection and copy use Textual's
    widget selection API: each row carries the (character, line) offsets of its text.
    """

    ALLOW_SELECT = True
    DEFAULT_CSS = """
    SelectableLog {
        background: $surface;
        color: $foreground;
        overflow-y: scroll;
        overflow-x: hidden;
        &:focus {
            background-tint: $foreground 5%;
        }
    }
    """

    def __init__(self, *, max_lines: int, id: str | None = None) -> None:
        super().__init__(id=id)
        self.max_lines = max_lines
        self.following = True
        self._lines: list[Stored] = []  # lines before _start were dropped: trimmed in batches
        self._ends: list[int] = []  # rows from _lines[0] through each line, at _wrap
        self._start = 0
        self._serial0 = 0  # how many lines were ever trimmed: _lines[i] is line _serial0 + i
        self._wrap = 0  # the width lines fold at; 0 while the size is unknown (hidden)
        self._strips: LRUCache[int, Strip] = LRUCache(STRIP_CACHE)
        self._painting: tuple[Style, int, int] | None = None  # see render_lines

    # -- reading -------------------------------------------------------------------------

    @property
    def lines(self) -> Sequence[Line]:
        """The lines kept, oldest first (a copy: O(lines), for tests and reports)."""
        return [Line(parts, cells) for parts, cells in self._lines[self._start :]]

    @property
    def line_count(self) -> int:
        return len(self._lines) - self._start

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        text = "\n".join(line.plain for line in self.lines)
        return selection.extract(text), "\n"

    # -- writing -------------------------------------------------------------------------

    def add(self, line: Line) -> None:
        """Append one line."""
        self.add_lines((line,))

    def add_lines(self, lines: Sequence[Line]) -> None:
        """Append ``lines`` with one refresh; scroll to them only while following."""
        if not lines:
            return
        if len(lines) > self.max_lines:
            lines = lines[-self.max_lines :]
        ends, wrap = self._ends, self._wrap
        total = ends[-1] if ends else 0
        for line in lines:
            total += _rows(line.cells, wrap)
            ends.append(total)
        self._lines.extend([(line.parts, line.cells) for line in lines])
        dropped_rows = self._drop_oldest()
        self._update_virtual_size()
        if self.following:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        elif dropped_rows:  # the reader's lines moved up: keep them where they were
            self.scroll_to(y=max(0, self.scroll_y - dropped_rows), animate=False, immediate=True)
        self.refresh()

    def clear(self) -> None:
        self._lines, self._ends = [], []
        self._serial0 += self._start
        self._start = 0
        self._strips.clear()
        self._update_virtual_size()
        self.refresh()

    def _base(self) -> int:
        """Rows taken by the dropped lines still in the lists."""
        return self._ends[self._start - 1] if self._start else 0

    def _drop_oldest(self) -> int:
        """Drop lines beyond ``max_lines``; how many rows they took."""
        excess = self.line_count - self.max_lines
        if excess <= 0:
            return 0
        before = self._base()
        self._start += excess
        dropped = self._base() - before
        if self._start >= max(self.max_lines // 4, 64):  # trim in batches: O(1) per line
            self._compact()
        return dropped

    def _compact(self) -> None:
        start, base = self._start, self._base()
        del self._lines[:start]
        self._ends = [end - base for end in self._ends[start:]]
        self._serial0 += start
        self._start = 0

    def _rewrap(self, width: int) -> None:
        """Fold every line at ``width``: O(lines) integer sums, done on resize only."""
        self._compact()
        self._wrap = width
        self._ends = list(accumulate(_rows(cells, width) for _, cells in self._lines))

    def _update_virtual_size(self) -> None:
        rows = self._ends[-1] - self._base() if self._ends else 0
        self.virtual_size = Size(self._wrap, rows)

    # -- following and resizing ----------------------------------------------------------

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self.size.height:  # a hidden log has no bottom to be at
            self.following = round(new_value) >= self.max_scroll_y

    def on_resize(self, event: Resize) -> None:
        width = self.scrollable_content_region.width
        if width and width != self._wrap:
            self._rewrap(width)
            self._update_virtual_size()
        if self.following:  # keep the newest line in view as the log grows or shrinks
            self.call_after_refresh(self.scroll_end, animate=False, immediate=True)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()  # a theme change restyles every line

    # -- painting ------------------------------------------------------------------------

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()

    def _locate(self, row: int) -> tuple[int, int] | None:
        """The line (index into _lines) showing virtual row ``row``, and its row within it."""
        ends = self._ends
        target = row + self._base()
        index = bisect_right(ends, target, self._start)
        if index >= len(ends) or row < 0:
            return None
        return index, target - (ends[index - 1] if index else 0)

    def render_lines(self, crop: Region) -> list[Strip]:
        # What every row of one paint shares, looked up once for the paint instead of once a
        # row: the style alone walks the widget's ancestors, the costliest part of a row.
        self._painting = self._paint_context()
        try:
            return super().render_lines(crop)
        finally:
            self._painting = None

    def _paint_context(self) -> tuple[Style, int, int]:
        # Lines fold at the width: there is no sideways scroll.
        return self.rich_style, self.scrollable_content_region.width, self.scroll_offset.y

    def render_line(self, y: int) -> Strip:
        style, width, scroll_y = self._painting or self._paint_context()
        found = self._locate(scroll_y + y)
        if found is None:
            return Strip.blank(width, style)
        index, row = found
        wrap = self._wrap or width
        strip = self._line_strip(index)
        first = row * wrap
        # Folding is by cells: a double-width character cut by the fold shows as two spaces
        # (Strip.crop's rule); the copied text still has it, taken from the line, not the rows.
        piece = strip.crop_extend(first, first + wrap, style).extend_cell_length(width, style)
        x = first and _char_at_cell(Line(*self._lines[index]).plain, first)
        # Offsets tell the screen which character the mouse is over, for selection.
        return piece.apply_style(style).apply_offsets(x, index - self._start)

    def _line_strip(self, index: int) -> Strip:
        """Line ``index`` rendered whole (not folded), with the selection shown."""
        selection = self.text_selection
        key = self._serial0 + index
        strip = self._strips.get(key)
        if strip is None:
            parts, cells = self._lines[index]
            # Straight to segments, a part each: a line has no newline, tab or markup to lay
            # out, so Rich's Text.render would only rebuild these (at twice the cost per row).
            get_style = self.app.console.get_style
            segments = [
                Segment(piece, get_style(style) if style else None)
                for piece, style in parts
                if piece
            ]
            strip = Strip(segments, cells)
            self._strips[key] = strip
        if selection is None:
            return strip
        return self._highlight(strip, selection.get_span(index - self._start))

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
