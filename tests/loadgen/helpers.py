"""Helpers for coio-bench's tests: run the real command, and small fake servers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coio.programs import program

FAKE_SERVER = Path(__file__).with_name("fake_server.py")
# Short runs keep the suite fast; the figures are checked for consistency, never for speed.
QUICK = ("--duration", "0.5", "--warmup", "0.2")


def run_bench(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*program("coio-bench"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        **kwargs,
    )


def run_json(*args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    result = run_bench(*args, "--json")
    return result, json.loads(result.stdout)


@dataclass
class FakeServer:
    proc: subprocess.Popen[str]
    port: int

    def stop(self) -> int:
        """Stop the server; return how many lines it received."""
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=10)
        return int(out.split()[-1])


@contextmanager
def fake_server(mode: str) -> Iterator[FakeServer]:
    proc = subprocess.Popen(
        [sys.executable, str(FAKE_SERVER), mode],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    server = FakeServer(proc, int(proc.stdout.readline()))
    try:
        yield server
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)


def last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""
