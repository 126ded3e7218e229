"""How many classroom bots coio-tui sustains while a person's typing still renders promptly.

    .venv/bin/python benchmarks/tui_bots.py [--seconds 6] [--configs 0x1,50x5,200x5,...]

Method: for each BOTSxRATE, start the demo's local coio-server (stats line every second) and
run the real app headless (Textual's run_test, 120x34) with --bots BOTS --bot-rate RATE, as
`coio-tui --demo --bots BOTS --bot-rate RATE` does. After the bots have connected, for
--seconds: type one key every 50 ms into the message box and time each from the key event to
the box's next render (input-to-render), while the bots chat. Reported: the bots' target and
achieved echoes/s, their echo RTT p50/p99 (from the app's own figures), the server's live
count and msgs/s as the room bar shows them, and input-to-render p50/p99/max. Prints figures
only; the machine's other load shows up in them.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from textual import events
from textual.strip import Strip

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coio.tui.app import CoioApp
from coio.tui.demo import DemoServer
from coio.tui.settings import Settings
from coio.tui.stats import percentile
from coio.tui.widgets.chat_input import ChatInput
from coio.tui.widgets.room_bar import RoomBar

DEFAULT_CONFIGS = "0x1,10x5,50x5,100x5,200x5,500x2,500x5,1000x2,1000x5"
KEY_GAP = 0.05  # seconds between keys: a fast typist


async def type_and_time(app: CoioApp, box: ChatInput, seconds: float) -> list[float]:
    """Type keys for ``seconds``; each key's ms from event to the box rendering it."""
    seen: dict[str, float] = {}
    rendered: dict[str, asyncio.Event] = {}
    render_line = box.render_line

    def spy(y: int) -> Strip:
        seen.setdefault(box.value, time.perf_counter())
        if box.value in rendered:
            rendered[box.value].set()
        return render_line(y)

    box.render_line = spy  # type: ignore[method-assign]
    latencies: list[float] = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        if len(box.value) > 60:
            box.value = ""
        target = box.value + "x"
        rendered[target] = asyncio.Event()
        start = time.perf_counter()
        app.post_message(events.Key("x", "x"))
        try:
            await asyncio.wait_for(rendered[target].wait(), 10)
        except TimeoutError:
            print(f"  a key did not render within 10 s ({bots_note(app)})", file=sys.stderr)
        latencies.append((seen.get(target, time.perf_counter()) - start) * 1000)
        await asyncio.sleep(KEY_GAP)
    del box.render_line
    return latencies


def bots_note(app: CoioApp) -> str:
    return f"{app.settings.bots} bots at {app.settings.bot_rate:g}/s"


async def measure(bots: int, rate: float, seconds: float) -> str:
    server = DemoServer()
    try:
        settings = Settings(host=server.host, port=server.port, bots=bots, bot_rate=rate)
        app = CoioApp(settings, demo=server)
        async with app.run_test(size=(120, 34)) as pilot:
            bar = app.query_one(RoomBar)
            box = app.query_one(ChatInput)
            deadline = time.perf_counter() + 30
            while bots and time.perf_counter() < deadline:
                report = bar.bots_report
                if report is not None and report.connected == bots:
                    break
                await pilot.pause(0.1)
            await pilot.pause(2.0)  # past the start: every bot in its stride
            before = bar.bots_report.echoed if bar.bots_report else 0
            started = time.perf_counter()
            latencies = await type_and_time(app, box, seconds)
            elapsed = time.perf_counter() - started
            report, srv = bar.bots_report, bar.server_report
            achieved = ((report.echoed if report else 0) - before) / elapsed
            p50 = report.p50 * 1000 if report and report.p50 is not None else float("nan")
            p99 = report.p99 * 1000 if report and report.p99 is not None else float("nan")
            live = srv.live if srv else -1
            srv_rate = srv.per_second if srv and srv.per_second is not None else float("nan")
            key50, key99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
            return (
                f"{bots:>5} {rate:>5g} {bots * rate:>8.0f} {achieved:>9.0f}"
                f" {p50:>8.1f} {p99:>8.1f} {live:>5} {srv_rate:>8.0f}"
                f" {key50:>8.1f} {key99:>8.1f} {max(latencies):>8.1f} {len(latencies):>5}"
            )
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--configs", default=DEFAULT_CONFIGS, help="BOTSxRATE,...")
    args = parser.parse_args()
    print(
        f"{'bots':>5} {'rate':>5} {'target/s':>8} {'echoes/s':>9} {'rtt p50':>8} {'rtt p99':>8}"
        f" {'live':>5} {'srv m/s':>8} {'key p50':>8} {'key p99':>8} {'key max':>8} {'keys':>5}"
    )
    print(f"{'':>5} {'/s':>5} {'':>8} {'':>9} {'ms':>8} {'ms':>8} {'':>5} {'':>8} {'ms':>8}")
    for config in args.configs.split(","):
        bots, rate = config.split("x")
        print(asyncio.run(measure(int(bots), float(rate), args.seconds)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
