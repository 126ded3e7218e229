"""`--workers N`: N forked server processes sharing one listening socket, supervised.

The parent binds the socket (so `--port 0` picks one port, and a bad address is one line
before anything forks), prints the listening line, and forks N workers that each accept
from that socket (gevent's pre-fork pattern; the kernel hands each connection to a worker
that is waiting in accept). The parent never imports gevent: it only waits for signals.

- A worker that dies is started again; more than RESTART_LIMIT restarts within
  RESTART_WINDOW seconds is a crash loop: the parent stops everything and exits 1.
- SIGTERM or SIGINT: each worker gets SIGTERM and stops as a single server does (idle
  clients closed at once, busy ones given the grace period); the parent exits 0 when
  all have exited. Workers die with the parent if it is killed outright (PDEATHSIG).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("coio.server")

# A worker that keeps dying must not be restarted in a tight loop forever.
RESTART_LIMIT = 5
RESTART_WINDOW = 10.0
# After the grace period, workers get this long to exit before they are killed.
KILL_AFTER = 3.0
_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGCHLD}
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Ask Linux to SIGTERM this process when its parent dies (no orphans)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the parent still stops workers itself
        pass


class Supervisor:
    """Forks ``count`` workers running ``target(index)`` and keeps them running."""

    def __init__(self, count: int, target: Callable[[int], int], grace: float) -> None:
        self.count = count
        self.target = target
        self.grace = grace
        self.workers: dict[int, int] = {}  # pid -> worker index
        self._restarts: list[float] = []

    def run(self) -> int:
        """Start the workers and supervise them until a signal or a crash loop; exit code."""
        old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        try:
            for index in range(1, self.count + 1):
                self._fork(index)
            return self._supervise()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)

    def _fork(self, index: int) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the worker
            code = 1
            try:
                _die_with_parent()
                signal.pthread_sigmask(signal.SIG_SETMASK, set())
                code = self.target(index)
            except BaseException:  # a worker must never return into the parent's code
                logging.getLogger("coio.server").exception("worker %d failed", index)
            finally:
                logging.shutdown()  # write what is logged (a bounded wait)
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        self.workers[pid] = index
        log.info("worker %d started pid=%d", index, pid)

    def _supervise(self) -> int:
        while True:
            info = signal.sigwaitinfo(_SIGNALS)
            if info.si_signo == signal.SIGCHLD:
                for pid, index, status in self._reap():
                    log.warning("worker %d pid=%d exited (%s); restarting", index, pid, status)
                    if self._crash_loop():
                        log.error(
                            "workers died %d times in %gs; stopping", RESTART_LIMIT, RESTART_WINDOW
                        )
                        self._stop_all(signal.SIGTERM)
                        return 1
                    self._fork(index)
            else:
                name = signal.Signals(info.si_signo).name
                log.info("%s: stopping %d workers (grace %gs)", name, len(self.workers), self.grace)
                self._stop_all(signal.SIGTERM)
                return 0

    def _reap(self) -> list[tuple[int, int, str]]:
        dead = []
        while self.workers:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            index = self.workers.pop(pid, None)
            if index is not None:
                dead.append((pid, index, _describe(status)))
        return dead

    def _crash_loop(self) -> bool:
        now = time.monotonic()
        self._restarts = [t for t in self._restarts if now - t < RESTART_WINDOW] + [now]
        return len(self._restarts) > RESTART_LIMIT

    def _stop_all(self, sig: signal.Signals) -> None:
        for pid in self.workers:
            _signal(pid, sig)
        deadline = time.monotonic() + self.grace + KILL_AFTER
        while self.workers and time.monotonic() < deadline:
            self._reap()
            if self.workers:
                signal.sigtimedwait({signal.SIGCHLD}, 0.05)
        for pid in self.workers:
            log.warning("worker pid=%d did not stop; killing it", pid)
            _signal(pid, signal.SIGKILL)
        while self.workers:
            self._reap()
            if self.workers:
                signal.sigtimedwait({signal.SIGCHLD}, 0.05)


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"


def bind_listener(host: str, port: int, backlog: int) -> socket.socket:
    """Bind and listen as gevent's StreamServer would, without importing gevent."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    infos = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM, 0, socket.AI_PASSIVE)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(infos[0][4])
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)  # several workers accept from it: a lost race must not block
    return sock


def describe_address(sock: socket.socket) -> tuple[str, int]:
    address: Any = sock.getsockname()
    return address[0], address[1]
