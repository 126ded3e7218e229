"""`--demo`: a local coio-server child on a free loopback port, stopped when the app exits."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

LISTEN_LINE = re.compile(r"listening on \[?([0-9a-fA-F.:]+)\]?:(\d+)")
STOP_GRACE = 5.0  # seconds the server gets to exit after SIGTERM


class DemoServerError(RuntimeError):
    """The local server could not be started; the message is one line for the user."""


def server_command() -> list[str]:
    script = Path(sys.executable).parent / "coio-server"
    return [str(script)] if script.exists() else [sys.executable, "-m", "server"]


class DemoServer:
    """A coio-server child process bound to 127.0.0.1 on a free port."""

    def __init__(self, extra: list[str] | None = None) -> None:
        cmd = [*server_command(), "--host", "127.0.0.1", "--port", "0", *(extra or [])]
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline()
        match = LISTEN_LINE.search(first)
        if match is None:
            self.stop()
            raise DemoServerError(f"the local coio-server did not start ({first.strip()!r})")
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
        if self.proc.stdout is not None:
            self.proc.stdout.close()
