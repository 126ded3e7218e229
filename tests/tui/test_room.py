"""Classroom demo: bots chatting as trio tasks; the demo server's own figures in the room bar."""

from __future__ import annotations

import pytest

from coio.tui.app import CoioApp
from coio.tui.demo import DemoServer
from coio.tui.messages import BotsReport, ServerReport
from coio.tui.settings import Settings
from coio.tui.widgets.room_bar import RoomBar
from tests.support import running_server
from tests.tui.pilot_support import wait_for


@pytest.mark.asyncio
async def test_bots_chat_with_the_server_and_show_their_figures() -> None:
    """--bots 6 --bot-rate 20: six extra connections echo lines; the room bar shows their rate."""
    with running_server() as server:
        app = CoioApp(Settings(port=server.port, bots=6, bot_rate=20))
        async with app.run_test(size=(120, 34)) as pilot:
            bar = app.query_one(RoomBar)

            def busy() -> bool:
                r = bar.bots_report
                return r is not None and r.connected == 6 and r.echoed >= 60 and r.per_second > 0

            await wait_for(pilot, busy, 20)
            report = bar.bots_report
            assert report is not None
            assert report.p50 is not None
            assert report.p99 is not None
            assert report.p50 <= report.p99
            assert report.errors == 0
            assert report.per_second < 6 * 20 * 1.5  # paced, never a burst to catch up
            text = bar.render_text().plain
            assert "6 at 20/s each · 6 connected" in text
            assert "msgs/s · " in text
            assert "rtt p50 " in text
        assert "live=7" in server.log()  # six bots and the tab, all on the one server


@pytest.mark.asyncio
async def test_demo_room_bar_shows_the_servers_live_count_and_rate() -> None:
    """--demo --bots 3: the bar shows the server's own live count and msgs/s, then its loss."""
    server = DemoServer()
    try:
        settings = Settings(host=server.host, port=server.port, bots=3, bot_rate=10)
        app = CoioApp(settings, demo=server)
        async with app.run_test(size=(120, 34)) as pilot:
            bar = app.query_one(RoomBar)

            def counted() -> bool:
                r = bar.server_report
                return r is not None and r.live == 4 and (r.per_second or 0) > 0

            await wait_for(pilot, counted, 20)
            assert "server  gevent · 4 live · 0 waiting · " in bar.render_text().plain
            server.stop()
            await wait_for(pilot, lambda: "server  figures unavailable" in bar.render_text().plain)
            assert "(Connection refused)" in bar.render_text().plain
    finally:
        server.stop()


@pytest.mark.asyncio
async def test_reports_after_the_room_bar_is_gone_are_ignored() -> None:
    """Figures arriving while the screen is torn down do not raise in the app."""
    app = CoioApp(Settings(bots=2), connect=False)
    async with app.run_test() as pilot:
        await app.query_one(RoomBar).remove()
        app.post_message(ServerReport(live=1, total=1, per_second=1.0))
        app.post_message(
            BotsReport(
                bots=2, connected=2, echoed=1, per_second=1, p50=0, p99=0, errors=0, last_error=""
            )
        )
        await pilot.pause(0.2)
        assert app.is_running
