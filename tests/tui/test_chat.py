"""coio-tui against a real coio-server: echoes, history, queueing, faults and safety."""

from __future__ import annotations

import signal
import socket
import threading

import pytest
from textual import events
from textual.widgets import Sparkline, TabbedContent

from coio.tui.app import CoioApp
from coio.tui.messages import LinkState
from coio.tui.net import connection
from coio.tui.net.backoff import Backoff
from coio.tui.net.connection import OUTBOX_LINES
from coio.tui.safe import MAX_SHOWN_CHARS
from coio.tui.settings import Settings
from coio.tui.widgets.chat_input import ChatInput
from coio.tui.widgets.wire import WirePane
from tests.support import running_server
from tests.tui.peers import scripted_peer
from tests.tui.pilot_support import Notes, chats, log_text, wait_for

pytestmark = pytest.mark.asyncio


async def test_send_shows_echo_with_round_trip() -> None:
    """Enter sends the line; the transcript shows the uppercase echo with its RTT."""
    with running_server() as server:
        app = CoioApp(Settings(port=server.port))
        async with app.run_test() as pilot:
            chat = chats(app)[0]
            await wait_for(pilot, lambda: chat.link_pane.banner is True)
            await pilot.press(*"hello straße", "enter")
            await wait_for(pilot, lambda: chat.stats.echoed_lines == 1)
            text = log_text(chat.transcript)
            assert "→ hello straße" in text
            assert "← HELLO STRASSE · " in text
            assert " ms" in text.splitlines()[-1]
            assert chat.query_one(ChatInput).value == ""
            assert chat.stats.last_rtt is not None


async def test_history_walks_with_up_and_down() -> None:
    """Up recalls earlier lines, newest first; Down returns to the draft."""
    with running_server() as server:
        app = CoioApp(Settings(port=server.port))
        async with app.run_test() as pilot:
            chat = chats(app)[0]
            box = chat.query_one(ChatInput)
            await wait_for(pilot, lambda: chat.connected)
            for word in ("one", "two"):
                await pilot.press(*word, "enter")
            await pilot.press(*"dra")
            # A key is handled a few messages after press() returns: wait for its effect.
            await pilot.press("up")
            await wait_for(pilot, lambda: box.value == "two", explain=lambda: repr(box.value))
            await pilot.press("up")
            await wait_for(pilot, lambda: box.value == "one", explain=lambda: repr(box.value))
            await pilot.press("down", "down")
            await wait_for(pilot, lambda: box.value == "dra", explain=lambda: repr(box.value))


async def test_multiline_paste_sends_one_line_per_line() -> None:
    """A pasted block is sent as one chat line per pasted line, in order."""
    with running_server() as server:
        app = CoioApp(Settings(port=server.port))
        async with app.run_test() as pilot:
            chat = chats(app)[0]
            await wait_for(pilot, lambda: chat.connected)
            chat.query_one(ChatInput).post_message(events.Paste("alpha\nbeta\ngamma"))
            await wait_for(pilot, lambda: chat.stats.echoed_lines == 3)
            text = log_text(chat.transcript)
            assert text.index("ALPHA") < text.index("BETA") < text.index("GAMMA")


async def test_lines_typed_while_down_are_sent_once_in_order_after_restart() -> None:
    """Lines typed with the server down are queued, then delivered once, in order."""
    with running_server() as first:
        port = first.port
    app = CoioApp(Settings(port=port))
    async with app.run_test() as pilot:
        chat = chats(app)[0]
        await wait_for(pilot, lambda: chat.link is not None)
        assert chat.link is not None
        chat.link.worker.backoff = Backoff(first=0.05, cap=0.3)  # retry soon after the restart
        await wait_for(pilot, lambda: chat.link_pane.state is LinkState.WAITING)
        for i in range(5):
            await pilot.press(*f"queued {i}", "enter")
        link = chat.link
        assert link is not None
        await wait_for(
            pilot,
            lambda: log_text(chat.transcript).count("(queued: sent on reconnect)") == 5,
            explain=lambda: log_text(chat.transcript),
        )
        assert link.queued == 5
        with running_server("--port", str(port)):
            await wait_for(pilot, lambda: chat.stats.echoed_lines == 5, within=30)
            await pilot.pause(0.3)
            text = log_text(chat.transcript)
        echoes = [line for line in text.splitlines() if "← QUEUED" in line]
        assert [e.split("← ")[1].split(" ·")[0] for e in echoes] == [
            f"QUEUED {i}" for i in range(5)
        ]
        assert chat.link.queued == 0


async def test_server_killed_shows_reconnecting_without_crash() -> None:
    """When the server dies the tab says so and retries; the app keeps running."""
    with running_server() as server:
        app = CoioApp(Settings(port=server.port))
        async with app.run_test() as pilot:
            chat = chats(app)[0]
            await wait_for(pilot, lambda: chat.connected)
            server.stop(signal.SIGKILL)
            await wait_for(pilot, lambda: chat.link_pane.state is LinkState.WAITING)
            assert chat.link_pane.retry_at is not None
            assert "connection ended" in log_text(chat.transcript)
            assert app.is_running


def _fake_http_server() -> tuple[socket.socket, threading.Thread]:
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            conn.recv(100)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener, thread


async def test_wrong_banner_is_reported_and_shown_on_the_wire() -> None:
    """A peer that is not an echo server is flagged; the wire pane shows what it said."""
    listener, thread = _fake_http_server()
    with listener:
        app = CoioApp(Settings(port=listener.getsockname()[1]))
        async with app.run_test() as pilot:
            chat = chats(app)[0]
            await wait_for(pilot, lambda: chat.link_pane.banner is False)
            assert "not an echo server" in log_text(chat.transcript)
            wire = chat.query_one(WirePane)
            assert chat.wire_shown
            await wait_for(pilot, lambda: wire.region.height > 0)  # opened on screen
            await wait_for(pilot, lambda: "HTTP/1.1 400 Bad Request\\r\\n" in log_text(wire))
            assert "not an echo server" in chat.link_pane.render_text().plain
    thread.join(5)


async def test_several_connections_each_get_their_own_echo() -> None:
    """--clients 3 opens three tabs; each sends and sees only its own echo."""
    with running_server() as server:
        app = CoioApp(Settings(port=server.port, clients=3))
        async with app.run_test() as pilot:
            panes = chats(app)
            assert len(panes) == 3
            await wait_for(pilot, lambda: all(p.connected for p in panes))
            for n, pane in enumerate(panes):
                assert pane.link is not None
                pane.link.send_line(f"from tab {n}")
            await wait_for(pilot, lambda: all(p.stats.echoed_lines == 1 for p in panes))
            tabs = app.query_one(TabbedContent)
            for n, pane in enumerate(panes):
                tabs.active = f"conn-{n + 1}"  # hidden logs render later
                log = pane.transcript
                await wait_for(
                    pilot,
                    lambda log=log: "FROM TAB" in log_text(log),
                    explain=lambda log=log: f"log size {log.size}, {len(log.lines)} lines",
                )
                text = log_text(pane.transcript)
                assert f"FROM TAB {n}" in text
                assert all(f"FROM TAB {m}" not in text for m in range(3) if m != n)
            await pilot.press("ctrl+n")  # a new tab is shown, and typing goes to it
            await wait_for(pilot, lambda: len(chats(app)) == 4)
            fourth = chats(app)[3].query_one(ChatInput)
            await wait_for(
                pilot,
                lambda: tabs.active == "conn-4" and app.focused is fourth,
                explain=lambda: f"active {tabs.active!r}, focused {app.focused!r}",
            )


async def test_markup_and_escapes_from_the_network_are_shown_literally() -> None:
    """Echoed markup and terminal escapes are shown as text, never interpreted."""
    evil = "[bold red]x [@click=app.quit]q[/] \x1b[31mred \x1b]52;c;aGk=\x07"
    with running_server() as server:
        app = CoioApp(Settings(port=server.port))
        async with app.run_test() as pilot:
            chat = chats(app)[0]
            await wait_for(pilot, lambda: chat.connected)
            await wait_for(pilot, lambda: chat.link is not None)
            assert chat.link is not None
            chat.link.send_line(evil)
            await wait_for(pilot, lambda: chat.stats.echoed_lines == 1)
            text = log_text(chat.transcript)
            assert "[BOLD RED]X [@CLICK=APP.QUIT]Q[/]" in text
            assert "\\x1b[31MRED" in text
            assert "\\x1b]52;C;AGK=\\x07" in text
            assert "\x1b" not in text
            assert app.is_running


async def test_full_outbox_refuses_and_keeps_the_unsent_lines() -> None:
    """Past OUTBOX_LINES queued lines the rest of a paste stays in the box, with an error."""
    with running_server() as gone:
        port = gone.port
    app = CoioApp(Settings(port=port))
    notes = Notes(app)
    async with app.run_test() as pilot:
        chat = chats(app)[0]
        await wait_for(pilot, lambda: chat.link is not None)
        assert chat.link is not None
        await wait_for(pilot, lambda: chat.link_pane.state is LinkState.WAITING)
        box = chat.query_one(ChatInput)
        pasted = [f"p{n}" for n in range(OUTBOX_LINES + 3)]
        box.post_message(events.Paste("\n".join(pasted)))
        await wait_for(pilot, lambda: chat.link.queued == OUTBOX_LINES)
        assert box.value.split("\n") == pasted[OUTBOX_LINES:]
        assert any("outbox full" in m for m in notes.messages)
        pending = log_text(chat.transcript).count("(queued: sent on reconnect)")
        assert pending == OUTBOX_LINES


async def test_user_disconnect_says_lines_wait_for_connect_and_reconnect_notifies() -> None:
    """F3 disconnects: typed lines say they wait for F3; connecting again sends and notifies."""
    with running_server() as server:
        app = CoioApp(Settings(port=server.port))
        notes = Notes(app)
        async with app.run_test() as pilot:
            chat = chats(app)[0]
            await wait_for(pilot, lambda: chat.link_pane.banner is True)
            await pilot.press("f3")
            await wait_for(pilot, lambda: chat.link_pane.state is LinkState.OFFLINE)
            await pilot.press(*"later", "enter")
            await wait_for(
                pilot, lambda: "(queued: sent when you connect (F3))" in log_text(chat.transcript)
            )
            await pilot.pause(0.5)
            assert chat.stats.sent_lines == 0  # nothing goes out behind the user's back
            await pilot.press("f3")
            await wait_for(pilot, lambda: chat.stats.echoed_lines == 1)
            assert "← LATER" in log_text(chat.transcript)
            messages = notes.messages
            assert any("connection ended" in m for m in messages)
            assert any("reconnected" in m for m in messages)


async def test_lines_for_a_peer_that_is_not_coio_are_held_and_said_so() -> None:
    """After a wrong banner typed lines are held, never sent, and the transcript says why."""
    listener, thread = _fake_http_server()
    with listener:
        app = CoioApp(Settings(port=listener.getsockname()[1]))
        async with app.run_test() as pilot:
            chat = chats(app)[0]
            await wait_for(pilot, lambda: chat.link_pane.banner is False)
            await pilot.press(*"hello?", "enter")
            await wait_for(
                pilot, lambda: "(held: the peer is not a coio server)" in log_text(chat.transcript)
            )
            await pilot.pause(0.3)
            assert chat.stats.sent_lines == 0
    thread.join(5)


async def test_paste_onto_unsent_lines_keeps_every_line_separate() -> None:
    """A paste while the box holds lines left from a full outbox sends each line on its own."""
    with running_server() as gone:
        port = gone.port
    app = CoioApp(Settings(port=port))
    async with app.run_test() as pilot:
        chat = chats(app)[0]
        await wait_for(pilot, lambda: chat.link is not None)
        assert chat.link is not None
        await wait_for(pilot, lambda: chat.link_pane.state is LinkState.WAITING)
        box = chat.query_one(ChatInput)
        box.post_message(events.Paste("\n".join(f"a{n}" for n in range(OUTBOX_LINES - 1))))
        await wait_for(pilot, lambda: chat.link.queued == OUTBOX_LINES - 1)
        box.post_message(events.Paste("b1\nb2\nb3"))  # only b1 fits
        await wait_for(pilot, lambda: box.value == "b2\nb3")
        box.post_message(events.Paste("c1\nc2"))  # still full: all four stay, each a line
        await wait_for(pilot, lambda: box.value == "b2\nb3\nc1\nc2")
        box.value = "d"
        box.post_message(events.Paste("1\nd2"))  # a paste continues a line being typed
        await wait_for(pilot, lambda: box.value == "d1\nd2")
        assert chat.link.queued == OUTBOX_LINES
        assert app.is_running


async def test_classic_tutorial_server_that_echoes_raw_chunks_interoperates() -> None:
    """A server that sends `welcome!` then uppercases raw chunks works like coio-server."""
    with scripted_peer(b"welcome!", echo_upper=True) as port:
        app = CoioApp(Settings(port=port))
        async with app.run_test() as pilot:
            chat = chats(app)[0]
            await wait_for(pilot, lambda: chat.link_pane.banner is True)
            await pilot.press(*"hi there", "enter")
            await wait_for(pilot, lambda: chat.stats.echoed_lines == 1)
            assert "← HI THERE · " in log_text(chat.transcript)
            assert chat.stats.mismatches == 0
            pane = chat.link_pane.render_text().plain
            assert "welcome! ✓ verified" in pane
            assert "p50/p99  " in pane
            await wait_for(pilot, lambda: len(chat.link_pane.query_one(Sparkline).data or []) == 1)


async def test_a_very_long_line_is_echoed_and_shown_shortened() -> None:
    """A 300 kB line goes out and back whole; the transcript shows its start and the count."""
    with running_server() as server:
        app = CoioApp(Settings(port=server.port))
        async with app.run_test() as pilot:
            chat = chats(app)[0]
            await wait_for(pilot, lambda: chat.connected)
            await wait_for(pilot, lambda: chat.link is not None)
            assert chat.link is not None
            chat.link.send_line("é" * 150_000)
            await wait_for(pilot, lambda: chat.stats.echoed_lines == 1)
            text = log_text(chat.transcript).replace("\n", "")
            assert "É" * 100 in text
            assert f"… (+{150_000 - MAX_SHOWN_CHARS} chars)" in text
            assert chat.stats.mismatches == 0
            assert chat.stats.received_bytes == 8 + 300_001


async def test_a_server_busy_with_another_tab_is_not_called_foreign_and_its_banner_clears_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--model blocking: tab 2 waits in the backlog; past the banner timeout it is 'not served
    yet' (never 'not a coio server'); tab 1 leaves, the banner comes and the warning clears."""
    monkeypatch.setattr(connection, "BANNER_TIMEOUT", 1.0)  # the same code path, sooner
    with running_server("--model", "blocking") as server:
        app = CoioApp(Settings(port=server.port))
        notes = Notes(app)
        async with app.run_test(size=(120, 34)) as pilot:
            first = chats(app)[0]
            await wait_for(pilot, lambda: first.link_pane.banner is True)
            second = await app.add_connection()
            await wait_for(pilot, lambda: second.link_pane.banner_waited == 1.0)
            pane = second.link_pane.render_text().plain
            assert "⚠ not served yet" in pane
            assert "(no banner after 1 s)" in pane
            assert "busy, or not coio" in pane
            assert "not a coio server" not in pane
            note = (
                "⚠ no banner yet after 1 s — the server has not served us "
                "(busy, or not a coio server)"
            )
            assert note in log_text(second.transcript)
            warning = (
                f"{second.chat_name}: no banner after 1 s — the server is busy, "
                "or not a coio server"
            )

            def said() -> list[tuple[str, str]]:
                return notes.seen

            await wait_for(
                pilot, lambda: (warning, "warning") in said(), explain=lambda: repr(said())
            )
            assert not any("the peer is not a coio server" in m for m, _ in said())
            assert second.wire_shown  # opened to show that nothing came
            await wait_for(pilot, lambda: app.focused is second.query_one(ChatInput))
            await pilot.press(*"my turn", "enter")
            held = "⧗ my turn  (held: no banner from the server yet)"
            await wait_for(pilot, lambda: held in log_text(second.transcript))
            await wait_for(pilot, lambda: first.link is not None)
            assert first.link is not None
            first.link.disconnect()  # the server is free: it accepts tab 2 and greets it
            await wait_for(pilot, lambda: second.link_pane.banner is True)
            pane = second.link_pane.render_text().plain
            assert "welcome! ✓ verified" in pane
            assert "not served yet" not in pane
            assert "no banner after" not in pane
            text = log_text(second.transcript)
            assert "the banner came after 1 s: a coio server after all" in text
            assert not second.wire_shown  # it was opened for the banner: closed with it
            await wait_for(pilot, lambda: second.stats.echoed_lines == 1)  # the held line
            assert "← MY TURN · " in log_text(second.transcript)
