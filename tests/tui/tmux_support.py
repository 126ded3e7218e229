"""Drive a real coio-tui in tmux: run it in a session, read the screen, check how it ended."""

from __future__ import annotations

import shlex
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from coio.programs import program
from tests.support import wait_until


def tmux(*args: str) -> str:
    return subprocess.run(
        ["tmux", *args], capture_output=True, text=True, check=True, timeout=10
    ).stdout


@contextmanager
def tui_session(tag: str, args: str, rc_file: Path) -> Iterator[str]:
    """Run ``coio-tui ARGS`` in a new 120x34 tmux session and yield the session's name.

    The exit code is written to ``rc_file``; the session is killed afterwards, whatever happened.
    """
    session = f"coio-e2e-{tag}-{time.monotonic_ns()}"
    # readline, loaded in the test process, exports COLUMNS=80 and LINES=24 to its environment;
    # tmux hands them on and Textual would take them over the window's real size.
    app = shlex.join(["env", "-u", "COLUMNS", "-u", "LINES", *program("coio-tui")])
    command = f"{app} {args}; echo $? > {rc_file}; sleep 30"
    tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "34", command)
    try:
        yield session
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False, timeout=10)


def wait_for_screen(session: str, needle: str, within: float = 20.0) -> str:
    deadline = time.monotonic() + within
    screen = ""
    while time.monotonic() < deadline:
        screen = tmux("capture-pane", "-t", session, "-p")
        if needle in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{needle!r} never appeared on screen:\n{screen}")


def assert_exited_cleanly(session: str, rc_file: Path) -> None:
    """coio-tui has exited with 0 and printed no traceback."""
    assert wait_until(rc_file.exists, 15), "coio-tui did not exit"
    assert rc_file.read_text().strip() == "0"
    assert "Traceback" not in tmux("capture-pane", "-t", session, "-p", "-S", "-100")
