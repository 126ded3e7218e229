"""The classroom bots, seen from the UI: they run in a process of their own
(``bot_process.py``) and this side posts its figures to the app as BotsReport messages.

However many bots chat, the UI's event loop only reads a short line a few times a second.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from typing import IO

import trio
from trio.lowlevel import FdStream

from ..limits import MAX_BOT_RATE, MAX_BOTS
from ..messages import BotsReport
from .bot_process import BotFigures
from .connection import Post
from .guest import PartEnded
from .reasons import describe

__all__ = ["MAX_BOTS", "MAX_BOT_RATE", "BotSwarm", "BotsProcessFailed"]

MODULE = "coio.tui.net.bot_process"  # run as `python -m`: from a checkout or a wheel alike
STOP_GRACE = 2.0  # seconds the bots' process gets to exit after SIGTERM, then SIGKILL
MAX_REPORT_BYTES = 4096  # a line longer than this is not a report (one is ~200 bytes)
ERROR_TAIL_BYTES = 4096  # the end of the process's stderr, read for why it ended
MAX_REASON_CHARS = 200  # of its last stderr line, shown in the one-line error


class BotsProcessFailed(PartEnded):
    """The bots' process ended on its own, or sent a line that is not a report."""


class BotSwarm:
    """``count`` bots each sending ``rate`` lines per second, in a process of their own.

    ``run`` (a trio task) starts that process, posts its figures through ``post`` and ends it
    when cancelled. ``pid`` is the process's while one runs; ``figures`` its latest report,
    its CPU time included.
    """

    def __init__(self, count: int, rate: float, host: str, port: int, post: Post) -> None:
        self.count = count
        self.rate = rate
        self.host = host
        self.port = port
        self._post = post
        self.pid: int | None = None
        self.figures: BotFigures | None = None

    def command(self) -> list[str]:
        """The bots' process, living as long as this one."""
        return [
            sys.executable,
            *("-m", MODULE, "--bots", str(self.count), "--rate", repr(self.rate)),
            *("--host", self.host, "--port", str(self.port), "--parent", str(os.getpid())),
        ]

    async def run(self) -> None:
        """Run the bots' process and post its figures until cancelled.

        BotsProcessFailed says why when the process ends on its own or sends something that
        is not a report (the app shows that line and runs this again after a delay).
        """
        with tempfile.TemporaryFile(prefix="coio-bots-") as errors:
            proc, reports, keep_alive = self._start(errors)
            try:
                await self._relay(reports)
            finally:
                with trio.CancelScope(shield=True):
                    await _end(proc)
                    await reports.aclose()
                    os.close(keep_alive)
                    self.pid = None
            raise BotsProcessFailed(_why_ended(proc.returncode, errors))

    def _start(self, errors: IO[bytes]) -> tuple[subprocess.Popen[bytes], FdStream, int]:
        """Start the process: its stdout as a stream, and the write end of its stdin, which
        this side never writes to and closes only when done (the child stops at its EOF)."""
        stdin_read, keep_alive = os.pipe()
        reports_read, reports_write = os.pipe()
        try:
            # Popen here, on trio's own thread, not in trio.run_process's worker thread: the
            # kernel's parent-death signal follows the thread that started the child, and a
            # worker thread ends once idle for a few seconds. In the app this is the UI's main
            # thread, for the app's whole life; fork and exec cost it a few ms per start.
            proc = subprocess.Popen(
                self.command(), stdin=stdin_read, stdout=reports_write, stderr=errors
            )
        except OSError as exc:
            os.close(keep_alive)
            os.close(reports_read)
            raise BotsProcessFailed(f"could not start the bots' process: {describe(exc)}") from exc
        finally:
            os.close(stdin_read)
            os.close(reports_write)
        self.pid = proc.pid
        return proc, FdStream(reports_read), keep_alive

    async def _relay(self, reports: trio.abc.ReceiveStream) -> None:
        """Post the newest report of each read until the process closes its stdout."""
        pending = b""
        while chunk := await reports.receive_some(MAX_REPORT_BYTES):
            *lines, pending = (pending + chunk).split(b"\n")
            if len(pending) > MAX_REPORT_BYTES:
                raise BotsProcessFailed("the bots' process sent a line too long to be a report")
            newest, problem = None, ""
            for line in lines:  # reports read together: only the newest is posted
                try:
                    newest = BotFigures.from_line(line)
                except ValueError as exc:
                    problem = f"the bots' process sent a bad report: {exc}"
                    break
            if newest is not None:
                self._show(newest)
            if problem:
                raise BotsProcessFailed(problem)

    def _show(self, figures: BotFigures) -> None:
        self.figures = f = figures
        self._post(
            BotsReport(
                bots=f.bots,
                connected=f.connected,
                echoed=f.echoed,
                per_second=f.per_second,
                p50=f.p50,
                p99=f.p99,
                errors=f.errors,
                last_error=f.last_error,
            )
        )


async def _end(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM (the bots' process has no handler for it: it ends at once), SIGKILL after
    STOP_GRACE, and reap it."""
    if proc.poll() is None:
        proc.terminate()
        with trio.move_on_after(STOP_GRACE):
            await trio.to_thread.run_sync(proc.wait, abandon_on_cancel=True)
        if proc.poll() is None:
            proc.kill()
    await trio.to_thread.run_sync(proc.wait)


def _why_ended(code: int, errors: IO[bytes]) -> str:
    """One line: how the process ended and the last line of its stderr, if any."""
    if code < 0:
        try:
            how = f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            how = f"was killed by signal {-code}"
    else:
        how = f"exited with status {code}"
    size = errors.seek(0, os.SEEK_END)
    errors.seek(max(0, size - ERROR_TAIL_BYTES))
    said = [line.strip() for line in errors.read().decode("utf-8", "replace").splitlines()]
    said = [line for line in said if line]
    last = f": {said[-1][:MAX_REASON_CHARS]}" if said else ""
    return f"the bots' process {how}{last}"
