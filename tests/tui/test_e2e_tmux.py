"""The real coio-tui program in tmux: three clients against one server, then a clean quit."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import count_phrase, running_server, wait_until
from tests.tui.tmux_support import (
    assert_exited_cleanly,
    tmux,
    tui_session,
    wait_for_screen,
)

pytestmark = [pytest.mark.e2e, pytest.mark.needs_tool("tmux", "tmux")]


def test_three_clients_chat_and_quit_cleanly(tmp_path: Path) -> None:
    """Three tabs connect to one server, a typed line is echoed, Ctrl+Q exits 0."""
    rc_file = tmp_path / "rc"
    with (
        running_server() as server,
        tui_session("chat", f"--port {server.port} --clients 3", rc_file) as session,
    ):
        wait_for_screen(session, "welcome! ✓ verified")
        tmux("send-keys", "-t", session, "hello from tmux", "Enter")
        screen = wait_for_screen(session, "HELLO FROM TMUX")
        assert "client-2" in screen
        assert "client-3" in screen
        connected = wait_until(lambda: count_phrase(server.log(), "connect id=") >= 3, 10)
        assert connected, server.log()
        assert count_phrase(server.log(), "connect id=") == 3, server.log()
        assert "live=3\n" in server.log()
        tmux("send-keys", "-t", session, "C-q")
        assert_exited_cleanly(session, rc_file)


def test_demo_with_bots_shows_the_room_and_quits_cleanly(tmp_path: Path) -> None:
    """`coio-tui --demo --bots 5`: the room bar shows the bots and the server's count; exit 0."""
    rc_file = tmp_path / "rc"
    with tui_session("bots", "--demo --bots 5 --bot-rate 4", rc_file) as session:
        wait_for_screen(session, "5 connected")
        wait_for_screen(session, "6 live")  # five bots and the tab, counted by the server
        tmux("send-keys", "-t", session, "C-q")
        assert_exited_cleanly(session, rc_file)


def test_demo_switches_its_server_model_from_the_command_palette(tmp_path: Path) -> None:
    """`coio-tui --demo --model blocking --clients 2`: one tab served, one waiting; the palette's
    "Server model: threads" restarts the server and both tabs are served; exit 0."""
    rc_file = tmp_path / "rc"
    with tui_session("model", "--demo --model blocking --clients 2", rc_file) as session:
        wait_for_screen(session, "blocking · 1 live · 1 waiting")
        tmux("send-keys", "-t", session, "C-p")
        wait_for_screen(session, "Search for commands")
        tmux("send-keys", "-t", session, "-l", "Server model: threads")
        wait_for_screen(session, "Restart the demo server on its port")
        tmux("send-keys", "-t", session, "Enter")
        wait_for_screen(session, "threads · 2 live · 0 waiting")
        tmux("send-keys", "-t", session, "-l", "after the switch")
        tmux("send-keys", "-t", session, "Enter")
        wait_for_screen(session, "AFTER THE SWITCH")
        tmux("send-keys", "-t", session, "C-q")
        assert_exited_cleanly(session, rc_file)
