"""The demo server's own figures, read from its log on stderr: live connections and msgs/s."""

from __future__ import annotations

import os
import re

import trio

from ..messages import ServerReport
from .connection import Post

# Longest log line kept while waiting for its newline; a longer one is dropped, not buffered.
MAX_LOG_LINE = 4096
_FIELD = re.compile(r"([a-z_/]+)=(\S+)")


class ServerLogReader:
    """Folds coio-server log lines into live / total / msgs-per-second figures."""

    def __init__(self) -> None:
        self.live = 0
        self.total = 0
        self.per_second: float | None = None
        self._partial = b""

    def feed(self, data: bytes) -> bool:
        """Take a chunk of the log; True if any figure changed."""
        *lines, rest = (self._partial + data).split(b"\n")
        self._partial = rest if len(rest) <= MAX_LOG_LINE else b""
        changed = False
        for raw in lines:
            changed |= self._line(raw.decode("utf-8", "replace"))
        return changed

    def quiet(self) -> bool:
        """No stats line for a while: the server logs one only when something moved."""
        if self.per_second in (None, 0.0):
            return False
        self.per_second = 0.0
        return True

    def report(self, running: bool = True) -> ServerReport:
        return ServerReport(
            live=self.live, total=self.total, per_second=self.per_second, running=running
        )

    def _line(self, line: str) -> bool:
        fields = dict(_FIELD.findall(line))
        if "live" not in fields:
            return False
        try:
            self.live = int(fields["live"])
            if " stats " in f" {line} " and "msgs/s" in fields:
                self.total = int(fields.get("total", self.total))
                self.per_second = float(fields["msgs/s"])
            elif " connect id=" in line:
                self.total += 1
        except ValueError:
            return False
        return True


async def watch_server_log(fd: int, post: Post, stale_after: float) -> None:
    """Read the server's stderr (a duplicate of ``fd``) until it closes, posting figures."""
    reader = ServerLogReader()
    async with trio.lowlevel.FdStream(os.dup(fd)) as stream:
        while True:
            with trio.move_on_after(stale_after) as scope:
                data = await stream.receive_some(65536)
            if scope.cancelled_caught:
                if reader.quiet():
                    post(reader.report())
                continue
            if not data:
                post(reader.report(running=False))
                return
            if reader.feed(data):
                post(reader.report())
