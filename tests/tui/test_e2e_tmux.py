"""The real coio-tui program in tmux: three clients against one server, then a clean quit."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import running_server
from tests.tui.tmux_support import tmux, wait_for_screen

pytestmark = pytest.mark.e2e

TUI = Path(sys.executable).parent / "coio-tui"


def test_three_clients_chat_and_quit_cleanly(tmp_path: Path) -> None:
    """Three tabs connect to one server, a typed line is echoed, Ctrl+Q exits 0."""
    assert shutil.which("tmux"), "tmux is required (.ci/run installs it)"
    session = f"coio-e2e-{time.monotonic_ns()}"
    rc_file = tmp_path / "rc"
    with running_server() as server:
        command = f"{TUI} --port {server.port} --clients 3; echo $? > {rc_file}; sleep 30"
        tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "34", command)
        try:
            wait_for_screen(session, "welcome! ✓ verified")
            tmux("send-keys", "-t", session, "hello from tmux", "Enter")
            screen = wait_for_screen(session, "HELLO FROM TMUX")
            assert "client-2" in screen
            assert "client-3" in screen
            deadline = time.monotonic() + 10
            while server.log().count("connect id=") < 3 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert "live=3" in server.log()
            tmux("send-keys", "-t", session, "C-q")
            deadline = time.monotonic() + 15
            while not rc_file.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert rc_file.read_text().strip() == "0"
            assert "Traceback" not in tmux("capture-pane", "-t", session, "-p", "-S", "-100")
        finally:
            subprocess.run(["tmux", "kill-session", "-t", session], check=False, timeout=10)


def test_demo_with_bots_shows_the_room_and_quits_cleanly(tmp_path: Path) -> None:
    """`coio-tui --demo --bots 5`: the room bar shows the bots and the server's count; exit 0."""
    session = f"coio-e2e-bots-{time.monotonic_ns()}"
    rc_file = tmp_path / "rc"
    command = f"{TUI} --demo --bots 5 --bot-rate 4; echo $? > {rc_file}; sleep 30"
    tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "34", command)
    try:
        wait_for_screen(session, "5 connected")
        wait_for_screen(session, "6 live")  # five bots and the tab, counted by the server
        tmux("send-keys", "-t", session, "C-q")
        deadline = time.monotonic() + 15
        while not rc_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert rc_file.read_text().strip() == "0"
        assert "Traceback" not in tmux("capture-pane", "-t", session, "-p", "-S", "-100")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False, timeout=10)
