"""`coio-tui --demo` in tmux ended by a signal: a clean exit, and never an orphaned server."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from tests.support import wait_until
from tests.tui.tmux_support import (
    assert_exited_cleanly,
    tmux,
    tui_session,
    wait_for_screen,
)

pytestmark = [pytest.mark.e2e, pytest.mark.needs_tool("tmux", "tmux")]


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


def start_demo(session: str) -> tuple[int, int]:
    """Wait for `coio-tui --demo` in ``session``; return the app's and the demo server's PIDs."""
    wait_for_screen(session, "welcome! ✓ verified")
    shell = int(tmux("display", "-p", "-t", session, "#{pane_pid}"))
    (app,) = children(shell)
    (server,) = children(app)
    return app, server


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_stop_signal_quits_cleanly_and_stops_the_demo_server(tmp_path: Path, sig: int) -> None:
    """SIGTERM or SIGHUP: exit 0, the terminal restored, the demo server stopped."""
    rc_file = tmp_path / "rc"
    with tui_session("sig", "--demo", rc_file) as session:
        app, server = start_demo(session)
        os.kill(app, sig)
        assert_exited_cleanly(session, rc_file)
        assert wait_until(lambda: not alive(server), 10), "the demo server outlived the app"
        assert tmux("display", "-p", "-t", session, "#{alternate_on}").strip() == "0"
        assert tmux("display", "-p", "-t", session, "#{mouse_any_flag}").strip() == "0"


def test_the_demo_server_dies_with_a_killed_app(tmp_path: Path) -> None:
    """kill -9 of coio-tui --demo: the kernel's parent-death signal stops the server too."""
    rc_file = tmp_path / "rc"
    with tui_session("kill", "--demo", rc_file) as session:
        app, server = start_demo(session)
        os.kill(app, signal.SIGKILL)
        assert wait_until(rc_file.exists, 15)
        assert wait_until(lambda: not alive(server), 10), "the demo server was orphaned"
