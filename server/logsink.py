"""Log lines leave the hub without blocking it: a bounded queue, written out by a real thread.

A record is formatted where it is logged (in the hub, as before); it is written elsewhere.
`LogSink` is a logging handler that puts each formatted line in a bounded queue and returns;
one OS thread takes the lines off the queue and writes them to stderr. coio-server never
monkey-patches, so `threading` here is the real one (`start_log_sink` refuses to run if it
was patched): a write() that blocks, say on a stderr pipe nobody reads, blocks that thread
alone, with the GIL released, and the hub goes on serving.

When the queue is full a line is dropped and counted (`dropped`, coio_log_dropped_total in
/metrics). Once the writer has caught up (the queue is empty again) it writes one line saying
how many were dropped. `close` gives the writer a bounded time to write what is still queued,
so a server's last lines survive when stderr is fine and a blocked one cannot hold up exit.

Standard library only: the --workers parent, which never imports gevent, logs through it too.
A forked child (a worker) gets a queue and a writer thread of its own at once; what the
parent had queued is the parent's to write.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
import weakref
from collections import deque

# Lines the writer may fall behind by before lines are dropped: seconds' worth of connect and
# disconnect lines at thousands of connections per second, about 1.5 MB at ~150 bytes a line.
LOG_QUEUE_LINES = 10_000
# Lines joined into one write() while the writer is behind: fewer system calls and GIL
# hand-offs per line, and a batch is still small (tens of kB).
WRITE_BATCH_LINES = 256
# After a write, how long the writer lets lines gather before it looks again: a line after a
# quiet spell goes out at once, a busy server's in some fifty writes a second at most,
# instead of waking the writer (and trading the GIL with it) line by line.
GATHER_SECONDS = 0.02
# On exit, how long queued lines get to be written: enough for a full queue on a working
# stderr, short enough that a blocked one cannot keep a stopping server from exiting.
FLUSH_TIMEOUT = 2.0

_sinks: weakref.WeakSet[LogSink] = weakref.WeakSet()


class LogSink(logging.Handler):
    """A logging handler that never blocks its caller: see the module docstring."""

    def __init__(self, fd: int = 2, capacity: int = LOG_QUEUE_LINES) -> None:
        super().__init__()
        self.fd = fd
        self.capacity = capacity
        self.dropped = 0  # lines dropped since start, under self.lock
        self._reported = 0  # of those, how many the writer has said it dropped
        self._closed = False  # no more lines are taken: the writer writes what it has, exits
        # The queue: a deque the logging side appends to and the writer empties (each call
        # atomic), and an event that wakes the writer. Only the first line after the writer
        # last looked sets it, and after each write the writer lets GATHER_SECONDS of lines
        # gather: a burst costs a wake-up per GATHER_SECONDS. Woken for every line (as with
        # a queue.Queue), the writer traded the GIL with the hub line by line, and
        # coio-server pinned to one core accepted a quarter fewer connections a second
        # (echoload -m connrate: 10.4k a second, 14.1k before; 14.1k with this).
        self._lines: deque[str]
        self._wake: threading.Event
        self._thread: threading.Thread
        self._start_writer()
        _sinks.add(self)

    def _start_writer(self) -> None:
        self._lines = deque()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._write_lines, name="coio-log", daemon=True)
        # The writer takes no process signal (each stays with the main thread, where Python,
        # libev and the supervisor's sigwaitinfo expect it): it starts with all of them blocked.
        old = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
        try:
            self._thread.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)

    def emit(self, record: logging.LogRecord) -> None:
        """Queue the formatted line, or drop and count it if the queue is full."""
        try:
            line = self.format(record)
        except Exception as exc:  # a bad format string: say so rather than lose the line
            line = f"log line {record.msg!r} could not be formatted: {exc!r}"
        self._put(line + "\n")

    def _put(self, text: str) -> None:
        if self._closed or len(self._lines) >= self.capacity:
            self.dropped += 1
            return
        self._lines.append(text)
        if not self._wake.is_set():
            self._wake.set()

    def write(self, text: str) -> int:
        """Queue raw text as one item (a file-like sink for gevent's hub error reports)."""
        with self.lock:  # type: ignore[union-attr]  # Handler.createLock() made it
            self._put(text)
        return len(text)

    def flush(self) -> None:
        """Nothing to do: writing is the writer thread's job (``close`` waits for it)."""

    def close(self) -> None:
        """Write what is queued, waiting at most FLUSH_TIMEOUT; called by logging.shutdown()."""
        self.stop(FLUSH_TIMEOUT)
        super().close()

    def stop(self, timeout: float) -> bool:
        """Let the writer write every line queued so far and exit, waiting at most
        ``timeout`` seconds (the first call only); return whether it has. Later lines are
        dropped."""
        if not self._closed:
            self._closed = True
            self._wake.set()
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _write_lines(self) -> None:
        """The writer thread: write lines in batches until ``stop`` and all are written."""
        lines, wake = self._lines, self._wake  # after a fork the child has its own
        while True:
            wake.wait()
            wake.clear()  # before looking: a line queued from now on sets it again
            while lines:
                batch = [lines.popleft() for _ in range(min(len(lines), WRITE_BATCH_LINES))]
                self._write("".join(batch), len(batch))
            self._report_drops()  # caught up
            if self._closed and not lines:
                return
            time.sleep(GATHER_SECONDS)

    def _report_drops(self) -> None:
        """Caught up: say how many lines were dropped since the last time we said so."""
        dropped = self.dropped  # read without the lock: a stale count is reported next time
        if dropped == self._reported:
            return
        record = logging.LogRecord(
            "coio.server",
            logging.WARNING,
            __file__,
            0,
            "log: %d lines dropped while stderr was not taking them",
            (dropped - self._reported,),
            None,
        )
        self._reported = dropped
        self._write(self.format(record) + "\n", 1)

    def _write(self, text: str, count: int) -> None:
        """Write ``text`` (``count`` lines) in full; if stderr is gone, count them dropped."""
        view = memoryview(text.encode("utf-8", "backslashreplace"))
        while view:
            try:
                written = os.write(self.fd, view)
            except OSError:  # stderr closed or broken: nothing more can be written now
                with self.lock:  # type: ignore[union-attr]
                    self.dropped += count
                return
            view = view[written:]


def start_log_sink(level: str, fmt: str) -> LogSink:
    """Log everything at ``level`` and above through a `LogSink` on stderr, in ``fmt``.

    The root logger's other handlers are removed. A sink this process already runs (one a
    worker inherited from its supervisor) is kept, given the new format.
    """
    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("threading"):
        raise RuntimeError("the log writer needs a real thread: do not monkey-patch threading")
    root = logging.getLogger()
    sink = next((h for h in root.handlers if isinstance(h, LogSink) and not h._closed), None)
    for handler in list(root.handlers):
        if handler is not sink:
            root.removeHandler(handler)
            handler.close()
    if sink is None:
        sink = LogSink()
        root.addHandler(sink)
    sink.setFormatter(logging.Formatter(fmt))
    root.setLevel(level)
    return sink


def _after_fork_in_child() -> None:
    """A forked child has no writer thread, and the queue's lock may have been held by the
    parent's at the moment of the fork: give each open sink a new queue and thread."""
    for sink in list(_sinks):
        if not sink._closed:
            sink.dropped = sink._reported = 0
            sink._start_writer()


os.register_at_fork(after_in_child=_after_fork_in_child)
