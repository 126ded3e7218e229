"""`--demo`: a local coio-server child on a free loopback port, stopped when the app exits."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

LISTEN_LINE = re.compile(r"listening on \[?([0-9a-fA-F.:]+)\]?:(\d+)")
STOP_GRACE = 5.0  # seconds the server gets to exit after SIGTERM
# The demo server logs a stats line this often (when anything moved); the app shows it.
STATS_INTERVAL = 1.0


def with_parent_death_signal(argv: list[str]) -> list[str]:
    """Prefix ``argv`` so the kernel sends it SIGTERM when this process dies, even by SIGKILL.

    ``setpriv`` (util-linux) sets the signal and then execs ``argv``, so the PID stays the
    server's. Where it is missing (not Linux) the orderly stop on exit still applies.
    """
    setpriv = shutil.which("setpriv")
    return argv if setpriv is None else [setpriv, "--pdeathsig", "TERM", "--", *argv]


class DemoServerError(RuntimeError):
    """The local server could not be started; the message is one line for the user."""


def server_command() -> list[str]:
    script = Path(sys.executable).parent / "coio-server"
    return [str(script)] if script.exists() else [sys.executable, "-m", "server"]


class DemoServer:
    """A coio-server child process bound to 127.0.0.1 on a free port.

    With ``log=True`` its log (stderr) is a pipe and ``log_fd`` its read end, for the app to
    show the server's live figures; the reader must keep reading, or the server blocks once
    the pipe is full. Otherwise the log is discarded and ``log_fd`` is None.
    """

    def __init__(self, extra: list[str] | None = None, *, log: bool = False) -> None:
        cmd = [*server_command(), "--host", "127.0.0.1", "--port", "0"]
        cmd += ["--stats-interval", str(STATS_INTERVAL), *(extra or [])]
        self.proc = subprocess.Popen(
            with_parent_death_signal(cmd),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE if log else subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        self.log_fd = None if self.proc.stderr is None else self.proc.stderr.fileno()
        first = self.proc.stdout.readline()
        match = LISTEN_LINE.search(first)
        if match is None:
            self.stop()
            said = first.strip() or "no address line"
            raise DemoServerError(f"the local coio-server did not start ({said})")
        self.host = match.group(1)
        self.port = int(match.group(2))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
