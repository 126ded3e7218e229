"""Classroom demo: bots chatting as trio tasks; the demo server's own figures in the room bar."""

from __future__ import annotations

import pytest
from textual.geometry import Region

from coio.tui.app import CoioApp
from coio.tui.demo import DemoServer
from coio.tui.messages import BotsReport, ServerReport
from coio.tui.net.server_metrics import MetricsTarget
from coio.tui.settings import Settings
from coio.tui.widgets.room_bar import RoomBar
from tests.support import running_server
from tests.tui.pilot_support import room_bots_report, room_server_report, wait_for


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


@pytest.mark.parametrize(
    ("width", "bots", "server"),
    [
        (
            80,
            "bots    40 at 2/s · 40 conn · 80 msg/s · 4812 echoed · p50/p99 0.6/4.2 ms",
            "server  blocking · 41 live · 1 wait · 80 msg/s · 3 thr · 300.0 KiB/client",
        ),
        (
            120,
            "bots    40 at 2/s each · 40 connected · 80 msgs/s · 4812 echoed · "
            "rtt p50 0.6 ms p99 4.2 ms",
            "server  blocking · 41 live · 1 waiting · 80 msgs/s · 3 threads · "
            "mem/client 300.0 KiB · 43 since start",
        ),
    ],
)
@pytest.mark.asyncio
async def test_the_room_bar_fits_its_two_lines_at_80_columns(
    width: int, bots: str, server: str
) -> None:
    """At 80 columns the bar words its figures tersely, on two unwrapped lines; wide, in full."""
    metrics = MetricsTarget("127.0.0.1", 9, "/metrics")  # never read: connect=False
    app = CoioApp(Settings(bots=40, bot_rate=2), connect=False, server_metrics=metrics)
    async with app.run_test(size=(width, 24)) as pilot:
        bar = app.query_one(RoomBar)
        bar.bots_report = room_bots_report()
        bar.server_report = room_server_report("blocking", waiting=1)
        await pilot.pause()
        await wait_for(pilot, lambda: bar.outer_size.height == 4)  # two lines and the border
        assert bar.size.height == 2  # its content: one line each, neither wrapped
        rows = [strip.text for strip in bar.render_lines(Region(0, 0, *bar.outer_size))]
        assert bots in rows[1]
        assert server in rows[2]
        assert "…" not in rows[1] + rows[2]
