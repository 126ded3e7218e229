"""`coio-tui --demo` in tmux ended by a signal: a clean exit, and never an orphaned server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.tui.tmux_support import tmux, wait_for_screen

pytestmark = pytest.mark.e2e

TUI = Path(sys.executable).parent / "coio-tui"


def children(pid: int) -> list[int]:
    """The live child processes of ``pid``, read from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_until(condition: object, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def start_demo(session: str, rc_file: Path) -> tuple[int, int]:
    """Start `coio-tui --demo` in tmux; return the app's and the demo server's PIDs."""
    command = f"{TUI} --demo; echo $? > {rc_file}; sleep 30"
    tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "34", command)
    wait_for_screen(session, "welcome! ✓ verified")
    shell = int(tmux("display", "-p", "-t", session, "#{pane_pid}"))
    (app,) = children(shell)
    (server,) = children(app)
    return app, server


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_stop_signal_quits_cleanly_and_stops_the_demo_server(tmp_path: Path, sig: int) -> None:
    """SIGTERM or SIGHUP: exit 0, the terminal restored, the demo server stopped."""
    session = f"coio-e2e-sig-{time.monotonic_ns()}"
    rc_file = tmp_path / "rc"
    try:
        app, server = start_demo(session, rc_file)
        os.kill(app, sig)
        assert wait_until(rc_file.exists, 15), "coio-tui did not exit"
        assert rc_file.read_text().strip() == "0"
        assert wait_until(lambda: not alive(server), 10), "the demo server outlived the app"
        assert tmux("display", "-p", "-t", session, "#{alternate_on}").strip() == "0"
        assert tmux("display", "-p", "-t", session, "#{mouse_any_flag}").strip() == "0"
        assert "Traceback" not in tmux("capture-pane", "-t", session, "-p", "-S", "-100")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False, timeout=10)


def test_the_demo_server_dies_with_a_killed_app(tmp_path: Path) -> None:
    """kill -9 of coio-tui --demo: the kernel's parent-death signal stops the server too."""
    session = f"coio-e2e-kill-{time.monotonic_ns()}"
    rc_file = tmp_path / "rc"
    try:
        app, server = start_demo(session, rc_file)
        os.kill(app, signal.SIGKILL)
        assert wait_until(rc_file.exists, 15)
        assert wait_until(lambda: not alive(server), 10), "the demo server was orphaned"
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False, timeout=10)
