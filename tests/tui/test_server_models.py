"""The live IO lesson: `--demo --model M`, the room bar's figures per model, and a switch of
model while the tabs are connected (the server restarted on the same port)."""

from __future__ import annotations

import pytest
from textual.message import Message

from coio.tui import demo as demo_module
from coio.tui.app import CoioApp
from coio.tui.cli import parse_command
from coio.tui.demo import DemoServer, DemoServerError
from coio.tui.messages import Echoes, LinesUnanswered, ServerReport
from coio.tui.settings import Settings
from coio.tui.widgets.chat_input import ChatInput
from coio.tui.widgets.room_bar import RoomBar
from tests.tui.pilot_support import Notes, chats, wait_for

SIZE = (120, 34)


def figures(bar: RoomBar) -> tuple[str, int, int | None] | None:
    """The bar's model, live and waiting figures, once it has read them."""
    r = bar.server_report
    if r is None or r.unavailable:
        return None
    return r.model, r.live, r.waiting


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--model", "threads"], "--model picks the --demo server's IO model; add --demo"),
        (["--demo", "--model", "fibers"], "argument --model: invalid choice: 'fibers'"),
    ],
)
def test_a_bad_model_flag_is_one_usage_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """--model without --demo, or a model coio-server lacks, exits 2 with one line."""
    with pytest.raises(SystemExit) as exit_info:
        parse_command(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err.splitlines()[-1]


def test_the_model_flag_reaches_the_command_and_stays_off_browser_tabs() -> None:
    """--demo --model blocking picks the model; --serve keeps it for its own demo server."""
    assert parse_command(["--demo", "--model", "blocking"]).model == "blocking"
    assert parse_command(["--demo"]).model == "gevent"
    serve = parse_command(["--serve", "--demo", "--model", "select", "--name", "ann"]).serve
    assert serve is not None
    assert serve.tab_argv == ("--name", "ann")


def test_a_restart_comes_back_on_the_same_ports_with_the_new_model() -> None:
    """restart(model): the old process is gone, the new one serves on the same two ports."""
    server = DemoServer("select")
    try:
        port, metrics_url, old = server.port, server.metrics_url, server.proc
        server.restart("threads")
        assert (server.port, server.metrics_url, server.model) == (port, metrics_url, "threads")
        assert old.returncode == 0
        assert server.running
    finally:
        server.stop()
    assert not server.running


def test_a_restart_on_a_port_held_by_another_process_fails_with_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The port taken meanwhile: a few tries, then DemoServerError naming the port and why."""
    monkeypatch.setattr(demo_module, "REBIND_WITHIN", 0.5)
    holder = DemoServer()
    server = DemoServer()
    try:
        server.port = holder.port  # the port it must come back on is someone else's now
        with pytest.raises(DemoServerError) as error:
            server.restart("threads")
        assert f"on port {holder.port}" in str(error.value)
        assert "already in use" in str(error.value)
        assert "\n" not in str(error.value)
        assert not server.running
    finally:
        server.stop()
        holder.stop()


@pytest.mark.timeout(60)
@pytest.mark.asyncio
async def test_blocking_serves_one_tab_while_the_other_waits_for_its_banner() -> None:
    """--demo --model blocking: tab 2 connects but gets no banner (the bar: 1 waiting) until
    tab 1 disconnects; then tab 2 is greeted and its queued line echoed."""
    server = DemoServer("blocking")
    try:
        app = CoioApp(Settings(host=server.host, port=server.port), demo=server)
        async with app.run_test(size=SIZE) as pilot:
            bar = app.query_one(RoomBar)
            first = chats(app)[0]
            await wait_for(pilot, lambda: first.link_pane.banner is True)
            second = await app.add_connection()
            await wait_for(pilot, lambda: second.connected)
            await wait_for(pilot, lambda: figures(bar) == ("blocking", 1, 1))
            assert "server  blocking · 1 live · 1 waiting · " in bar.render_text().plain
            assert second.link_pane.banner is not True  # connected, never greeted
            await wait_for(pilot, lambda: app.focused is second.query_one(ChatInput))
            await pilot.press(*"my turn", "enter")
            assert second.stats.echoed_lines == 0
            await wait_for(pilot, lambda: first.link is not None)
            assert first.link is not None
            first.link.disconnect()
            await wait_for(pilot, lambda: second.link_pane.banner is True)
            await wait_for(pilot, lambda: second.stats.echoed_lines == 1)
            await wait_for(pilot, lambda: figures(bar) == ("blocking", 1, 0))
    finally:
        server.stop()


def accounted(seen: list[Message], conn_id: int, line: str) -> tuple[list[bytes], int]:
    """The echoes of ``line`` on connection ``conn_id``, and how often it was unconfirmed."""
    echoes: list[bytes] = []
    unconfirmed = 0
    for message in {id(m): m for m in seen}.values():  # a bubbled message counts once
        if isinstance(message, Echoes) and message.conn_id == conn_id:
            echoes += [item.echo for item in message.items if item.sent == line]
        if isinstance(message, LinesUnanswered) and message.conn_id == conn_id:
            unconfirmed += sum(1 for _, text in message.lines if text == line)
    return echoes, unconfirmed


@pytest.mark.timeout(60)
@pytest.mark.asyncio
async def test_a_live_switch_from_gevent_to_threads() -> None:
    """Switching model mid-chat: the bar names the new model and its thread count grows with
    the clients, both tabs reconnect and echo, and a line typed during the switch is echoed
    exactly once or shown unconfirmed."""
    server = DemoServer("gevent")
    seen: list[Message] = []
    try:
        settings = Settings(host=server.host, port=server.port, clients=2)
        app = CoioApp(settings, demo=server)
        async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
            bar = app.query_one(RoomBar)
            tabs = chats(app)
            await wait_for(pilot, lambda: all(chat.link_pane.banner is True for chat in tabs))
            await wait_for(pilot, lambda: figures(bar) == ("gevent", 2, 0))
            assert isinstance(bar.server_report, ServerReport)
            gevent_threads = bar.server_report.threads
            assert gevent_threads is not None

            commands = [c.title for c in app.get_system_commands(app.screen)]
            assert "Server model: threads" in commands
            app.switch_model("threads")
            assert "restarting with model threads" in bar.render_text().plain
            await pilot.press(*"typed meanwhile", "enter")  # into tab 1, focused

            await wait_for(pilot, lambda: figures(bar) == ("threads", 2, 0), 30)
            await wait_for(pilot, lambda: not app.switching)
            await wait_for(pilot, lambda: all(chat.connected for chat in tabs))
            # One OS thread per client now: the count rises by (at least) one per tab.
            assert bar.server_report.threads is not None
            assert bar.server_report.threads >= gevent_threads + 2

            def settled() -> bool:
                echoes, unconfirmed = accounted(seen, 1, "typed meanwhile")
                return len(echoes) + unconfirmed >= 1

            await wait_for(pilot, settled)
            for chat in tabs:
                chat.query_one(ChatInput).focus()
                await pilot.press(*"after the switch", "enter")

            def both_echoed() -> bool:
                return all(accounted(seen, c, "after the switch")[0] for c in (1, 2))

            await wait_for(pilot, both_echoed)
            echoes, unconfirmed = accounted(seen, 1, "typed meanwhile")
            assert echoes == [b"TYPED MEANWHILE"] or (echoes == [] and unconfirmed == 1)
            assert "server  threads · 2 live · 0 waiting · " in bar.render_text().plain
    finally:
        server.stop()


@pytest.mark.timeout(60)
@pytest.mark.asyncio
async def test_a_switch_that_cannot_rebind_is_a_notification(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The port taken during a switch: an error notification, the app stays up and usable."""
    monkeypatch.setattr(demo_module, "REBIND_WITHIN", 0.5)
    holder = DemoServer()
    server = DemoServer()
    try:
        app = CoioApp(Settings(host=server.host, port=server.port), demo=server)
        notes = Notes(app)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: chats(app)[0].link_pane.banner is True)
            server.port = holder.port
            app.switch_model("threads")
            await wait_for(pilot, lambda: not app.switching)
            messages = notes.messages
            assert any("could not restart the demo server" in m for m in messages), messages
            assert app.is_running
            assert "restarting" not in app.query_one(RoomBar).render_text().plain
    finally:
        server.stop()
        holder.stop()
