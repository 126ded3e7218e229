"""`--workers N`: N forked server processes sharing one listening socket, supervised.

The parent binds the socket (so `--port 0` picks one port, and a bad address is one line
before anything forks), prints the listening line, and forks N workers that each accept
from that socket (gevent's pre-fork pattern; the kernel hands each connection to a worker
that is waiting in accept). The parent never imports gevent: it only waits for signals.

- A worker that crashes (killed by a signal, or a non-zero exit) is started again; more
  than RESTART_LIMIT restarts within RESTART_WINDOW seconds is a crash loop: the parent
  stops everything and exits 1.
- A worker that exits 0 without being asked by the parent did not crash: a worker exits 0
  only once SIGTERM or SIGINT has stopped it, so someone stopped it on purpose (an operator
  retiring it, a service manager signalling the whole group): it is not restarted, which
  would undo that, and it is not counted toward the crash loop. One line says so, and how
  many workers still serve; when none is left the parent exits 0.
- SIGTERM or SIGINT: each worker gets SIGTERM and stops as a single server does (idle
  clients closed at once, busy ones given the grace period); the parent exits 0 when
  all have exited.
- Workers die with the parent if it is killed outright (PDEATHSIG), and a worker whose
  parent died before it could ask for that (between fork and prctl) exits at once.
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


# Test-only ($COIO_SERVER_FAULT=slow-worker-start): how long a new worker waits before
# asking to die with its parent, so a test can kill the parent inside that window.
SLOW_START = 1.0


def _die_with_parent(parent: int) -> bool:
    """Ask Linux to SIGTERM this process when ``parent`` dies (no orphans); False if it
    already has: a death before the request sends no signal, so the worker must see to it."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the parent still stops workers itself
        pass
    return os.getppid() == parent


class Supervisor:
    """Forks ``count`` workers running ``target(index)`` and keeps them running.

    ``on_exit(pid)`` is called for each worker that has exited, once reaped. ``slow_start``
    (test-only) is how long a new worker waits before asking to die with its parent.
    """

    def __init__(
        self,
        count: int,
        target: Callable[[int], int],
        grace: float,
        on_exit: Callable[[int], None] | None = None,
        slow_start: float = 0.0,
    ) -> None:
        self.count = count
        self.target = target
        self.grace = grace
        self.on_exit = on_exit
        self.slow_start = slow_start
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
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the worker
            code = 1
            try:
                if self.slow_start:
                    time.sleep(self.slow_start)
                if _die_with_parent(parent):
                    signal.pthread_sigmask(signal.SIG_SETMASK, set())
                    code = self.target(index)
                else:
                    log.warning("worker %d: supervisor pid=%d is gone; exiting", index, parent)
            except BaseException:  # a worker must never return into the parent's code
                log.exception("worker %d failed", index)
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
                    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
                        log.warning(
                            "worker %d pid=%d stopped by itself (exit code 0), not a crash:"
                            " not restarted; %d of %d workers serving",
                            index,
                            pid,
                            len(self.workers),
                            self.count,
                        )
                        continue
                    log.warning(
                        "worker %d pid=%d exited (%s); restarting", index, pid, _describe(status)
                    )
                    if self._crash_loop():
                        log.error(
                            "workers died %d times in %gs; stopping", RESTART_LIMIT, RESTART_WINDOW
                        )
                        self._stop_all(signal.SIGTERM)
                        return 1
                    self._fork(index)
                if not self.workers:
                    log.info("every worker has stopped; exiting")
                    return 0
            else:
                name = signal.Signals(info.si_signo).name
                log.info("%s: stopping %d workers (grace %gs)", name, len(self.workers), self.grace)
                self._stop_all(signal.SIGTERM)
                return 0

    def _reap(self) -> list[tuple[int, int, int]]:
        """Collect exited workers: (pid, index, wait status) for each."""
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
                dead.append((pid, index, status))
                if self.on_exit is not None:
                    self.on_exit(pid)
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
