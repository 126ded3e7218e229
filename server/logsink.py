"""Log lines leave the hub without blocking it: a pipe of the server's own, copied to stderr
by a child process.

A record is formatted where it is logged (in the hub, as before) and written with one
non-blocking write() to a pipe the server makes at start; a child process, the copier
(named coio-log), copies that pipe to stderr. Only the copier ever waits on stderr: when
stderr is a pipe nobody reads, the copier blocks there and the hub goes on serving.

Not a thread: a second thread, even one asleep, makes every echo dearer, because glibc's
malloc and system calls take their multi-threaded paths for good once a thread exists (an
idle thread measured +0.25 µs a 1 KiB echo, about 7% of the reactor's handler; an idle child
process, nothing), and the server's thread count (coio_threads) stays what its model makes.

When the pipe is full, lines wait in a bounded queue (LOG_QUEUE_LINES) until it has room:
``want_room(True)`` asks the owner to call `flush` then (the hub arms a write watcher; the
--workers parent, which has no hub, tries again at its next line). A line that finds the
queue full is dropped and counted (`dropped`: coio_log_dropped_total in /metrics); once the
queue is empty again, one line says how many were dropped. `stop` (also run at exit by
logging.shutdown()) gives the queue and then the copier at most FLUSH_TIMEOUT to get
everything out: a server's last lines survive when stderr works, and a blocked stderr
cannot hold up exit (the copier is then killed).

--workers: the parent starts the one copier; each worker it forks inherits the pipe and
writes to it itself, at most PIPE_BUF bytes a write, so lines never interleave. Standard
library only: the parent never imports gevent.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import select
import signal
import sys
import time
import weakref
from collections import deque
from collections.abc import Callable

# Lines that may wait for room in the pipe before lines are dropped: seconds' worth of
# connect and disconnect lines at thousands of connections per second, about 1.5 MB at most.
LOG_QUEUE_LINES = 10_000
# On exit, how long the queued lines and the copier get to reach stderr: enough for a full
# queue on a working stderr, short enough that a blocked one cannot hold up a stopping server.
FLUSH_TIMEOUT = 2.0
COPIER_NAME = "coio-log"  # the copier's process name (ps, /proc/PID/comm)
# After each copy, the copier lets this long of lines gather in the pipe: a busy server's
# lines go out in some hundred writes a second, not two system calls of the copier's per
# line (on the server's core, that cost 7% of the connection rate); a line after a quiet
# spell still goes out at once. Far less than the pipe holds comes in meanwhile.
GATHER_SECONDS = 0.01
_PR_SET_NAME = 15
_COPY_BYTES = 64 * 1024  # what the copier reads at a time: a pipe's default capacity

_sinks: weakref.WeakSet[LogSink] = weakref.WeakSet()


class LogSink(logging.Handler):
    """A logging handler that never blocks its caller: see the module docstring."""

    def __init__(self, fd: int = 2, capacity: int = LOG_QUEUE_LINES) -> None:
        super().__init__()
        self.capacity = capacity
        self.dropped = 0  # lines dropped since start, under self.lock
        self._reported = 0  # of those, how many a line has said were dropped
        self._waiting: deque[bytes] = deque()  # lines the pipe had no room for yet
        self._closed = False  # stopped: no more lines are taken
        self._done = False  # stopped, and everything reached stderr
        # Called with True when the pipe is full (call flush() once it has room), with False
        # when that is no longer needed; None: the next line tries again.
        self.want_room: Callable[[bool], None] | None = None
        self._asked = False
        self.pipe, self.copier = _start_copier(fd)
        self._owner = os.getpid()  # the process that waits for the copier at the end
        _sinks.add(self)

    def emit(self, record: logging.LogRecord) -> None:
        """Queue the formatted line and write what the pipe takes; drop it if the queue is full."""
        try:
            line = self.format(record)
        except Exception as exc:  # a bad format string: say so rather than lose the line
            line = f"log line {record.msg!r} could not be formatted: {exc!r}"
        self._put(line + "\n")

    def write(self, text: str) -> int:
        """Queue raw text (a file-like sink for gevent's hub error reports)."""
        with self.lock:  # type: ignore[union-attr]  # Handler.createLock() made it
            self._put(text)
        return len(text)

    def flush(self) -> None:
        """Write what waits, as far as the pipe has room (called back by ``want_room``)."""
        with self.lock:  # type: ignore[union-attr]
            if not self._closed:
                self._send()

    def _put(self, text: str) -> None:
        if self._closed or len(self._waiting) >= self.capacity:
            self.dropped += 1
            return
        self._waiting.append(text.encode("utf-8", "backslashreplace"))
        if not self._asked:  # else the pipe is full and a flush() is due once it has room
            self._send()

    def _send(self) -> None:
        """Write waiting lines while the pipe takes them: whole lines, at most PIPE_BUF
        bytes a write (atomic, so lines of several processes never mix)."""
        waiting = self._waiting
        while waiting:
            batch = [waiting.popleft()]
            size = len(batch[0])
            while waiting and size + len(waiting[0]) <= select.PIPE_BUF:
                size += len(waiting[0])
                batch.append(waiting.popleft())
            data = b"".join(batch)
            try:
                written = os.write(self.pipe, data)
            except BlockingIOError:
                written = 0
            except OSError:  # the copier is gone (stderr closed): nothing can be written now
                self.dropped += len(batch) + len(waiting)
                waiting.clear()
                break
            if written < len(data):
                waiting.appendleft(data[written:])
                self._ask(True)
                return
            if not waiting and self.dropped > self._reported:
                waiting.append(self._dropped_line())
        self._ask(False)

    def _ask(self, want: bool) -> None:
        if self.want_room is not None and want != self._asked:
            self._asked = want
            self.want_room(want)

    def _dropped_line(self) -> bytes:
        """Caught up: one line saying how many lines were dropped since the last one."""
        record = logging.LogRecord(
            "coio.server",
            logging.WARNING,
            __file__,
            0,
            "log: %d lines dropped while stderr was not taking them",
            (self.dropped - self._reported,),
            None,
        )
        self._reported = self.dropped
        return (self.format(record) + "\n").encode()

    def close(self) -> None:
        """Write what is queued, waiting at most FLUSH_TIMEOUT; called by logging.shutdown()."""
        self.stop(FLUSH_TIMEOUT)
        super().close()

    def stop(self, timeout: float) -> bool:
        """Write what waits and (in the process that started it) let the copier finish,
        waiting at most ``timeout`` seconds in all; return whether everything reached
        stderr. Later lines are dropped."""
        with self.lock:  # type: ignore[union-attr]
            if self._closed:
                return self._done
            deadline = time.monotonic() + timeout
            self._ask(False)
            self.want_room = None
            self._closed = True
            self._send()
            while self._waiting and (left := deadline - time.monotonic()) > 0:
                select.select([], [self.pipe], [], left)
                self._send()
            written = not self._waiting
            os.close(self.pipe)  # the copier ends once every process has closed it
        if os.getpid() == self._owner:
            written = _wait_for(self.copier, deadline) and written
        self._done = written
        return written


def _start_copier(fd: int) -> tuple[int, int]:
    """Fork the copier; return the pipe's write end (non-blocking) and the copier's pid."""
    read_end, write_end = os.pipe()  # both close on exec
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            _copy(read_end, fd)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(read_end)
    os.set_blocking(write_end, False)
    return write_end, pid


def _copy(source: int, target: int) -> None:
    """The copier: bytes from ``source`` to ``target`` until every writer has closed the
    pipe, and nothing else (it holds no other descriptor)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(_PR_SET_NAME, COPIER_NAME.encode(), 0, 0, 0)
    # A Ctrl-C reaches the terminal's whole process group, a service manager's stop may
    # reach the whole service: the copier stays until the server's last line is out.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    for low, high in ((0, min(source, target)), (min(source, target) + 1, max(source, target))):
        os.closerange(low, high)
    os.closerange(max(source, target) + 1, os.sysconf("SC_OPEN_MAX"))
    while chunk := os.read(source, _COPY_BYTES):
        view = memoryview(chunk)
        while view:
            view = view[os.write(target, view) :]
        time.sleep(GATHER_SECONDS)


def _wait_for(pid: int, deadline: float) -> bool:
    """Wait for child ``pid`` to exit until ``deadline``; then kill it. Whether it exited."""
    while True:
        try:
            exited, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # already reaped (the --workers parent reaps any child)
            return True
        if exited:
            return True
        if time.monotonic() >= deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            return False
        time.sleep(0.005)


def start_log_sink(level: str, fmt: str) -> LogSink:
    """Log everything at ``level`` and above through a `LogSink` on stderr, in ``fmt``.

    The root logger's other handlers are removed. A sink this process already uses (one a
    worker inherited from its supervisor) is kept, given the new format.
    """
    root = logging.getLogger()
    sink = next((h for h in root.handlers if isinstance(h, LogSink) and not h._closed), None)
    for handler in list(root.handlers):
        if handler is not sink:
            root.removeHandler(handler)
            handler.close()
    if sink is None:
        sys.stderr.flush()  # nothing written before is left to reach stderr after the copier's
        sink = LogSink()
        root.addHandler(sink)
    sink.setFormatter(logging.Formatter(fmt))
    root.setLevel(level)
    return sink


def _after_fork_in_child() -> None:
    """A forked worker writes to the same pipe, but what its parent had queued, counted or
    asked for is the parent's: start afresh."""
    for sink in list(_sinks):
        sink._waiting = deque()
        sink.dropped = sink._reported = 0
        sink.want_room = None
        sink._asked = False


os.register_at_fork(after_in_child=_after_fork_in_child)
