"""How many classroom bots coio-tui sustains while a person's typing still reaches the screen
promptly. The bots run in a process of their own; this times the UI's side.

    .venv/bin/python benchmarks/tui_bots.py [--seconds 10] [--configs 0x1,1000x5,10000x0.5]

Method: for each BOTSxRATE, start the demo's local coio-server (with --max-connections
BOTS + 100: the tab and the bots all served) and run the real app headless (Textual's
run_test, 120x34) with --bots BOTS --bot-rate RATE, as `coio-tui --demo --bots BOTS
--bot-rate RATE` does. Once the bots' own figures say all are connected (90 s at most) and
two more seconds have passed, for --seconds: press one key every 50 ms into the message box
and time it from the key event to the end of the next frame that shows it (key-to-frame:
the frame the compositor builds, which a terminal would be sent). Reported: the bots'
target and achieved echoes/s, how many were connected (fewest seen while typing, and at the
end) and the server's live count, their echo RTT p50/p99 (their own figures), key-to-frame
p50/p99/max, and the CPU used in the window by the UI process, the bots' process and the
server (percent of one core). Prints figures only; the machine's other load shows up in them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

from textual import events
from textual.strip import Strip

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coio.tui.app import CoioApp
from coio.tui.demo import DemoServer
from coio.tui.settings import Settings
from coio.tui.stats import percentile
from coio.tui.widgets.chat_input import ChatInput
from coio.tui.widgets.room_bar import RoomBar

DEFAULT_CONFIGS = "0x1,1000x5,10000x0.5"
KEY_GAP = 0.05  # seconds between keys: a fast typist
CONNECT_WITHIN = 90.0  # seconds for every bot to connect before the window starts anyway
SETTLE = 2.0  # seconds after that, so every bot is in its stride
CONFIG_WITHIN = 300.0  # one configuration's whole run, at most
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (NaN if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime: fields 14, 15


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def bots_pid() -> int | None:
    """The bots' process this one started, if one runs."""
    for listing in Path(f"/proc/{os.getpid()}/task").glob("*/children"):
        for pid in listing.read_text().split():
            try:
                if b"coio.tui.net.bot_process" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    return int(pid)
            except OSError:
                continue
    return None


async def type_and_time(app: CoioApp, box: ChatInput, seconds: float) -> list[float]:
    """Type keys for ``seconds``; each key's ms from its event to the end of the first frame
    the box was drawn in with it."""
    drawn: set[str] = set()  # box values drawn into the frame being built
    framed: dict[str, float] = {}
    done: dict[str, asyncio.Event] = {}
    render_line = box.render_line
    display = app._display

    def spy_line(y: int) -> Strip:
        drawn.add(box.value)
        return render_line(y)

    def spy_display(screen: Any, renderable: Any) -> None:
        display(screen, renderable)
        now = time.perf_counter()
        for value in drawn:
            framed.setdefault(value, now)
            if value in done:
                done[value].set()
        drawn.clear()

    box.render_line = spy_line  # type: ignore[method-assign]
    app._display = spy_display  # type: ignore[method-assign]
    latencies: list[float] = []
    try:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            if len(box.value) > 60:
                box.value = ""
                await asyncio.sleep(KEY_GAP)
            target = box.value + "x"
            framed.pop(target, None)
            done[target] = asyncio.Event()
            start = time.perf_counter()
            app.post_message(events.Key("x", "x"))
            try:
                await asyncio.wait_for(done[target].wait(), 10)
            except TimeoutError:
                print(f"  a key reached no frame within 10 s ({bots_note(app)})", file=sys.stderr)
            latencies.append((framed.get(target, time.perf_counter()) - start) * 1000)
            del done[target]
            await asyncio.sleep(KEY_GAP)
    finally:
        del box.render_line
        del app._display
    return latencies


def bots_note(app: CoioApp) -> str:
    return f"{app.settings.bots} bots at {app.settings.bot_rate:g}/s"


async def measure(bots: int, rate: float, seconds: float) -> str:
    server = DemoServer(extra=["--max-connections", str(bots + 100)])
    try:
        settings = Settings(host=server.host, port=server.port, bots=bots, bot_rate=rate)
        app = CoioApp(settings, demo=server)
        async with app.run_test(size=(120, 34)) as pilot:
            bar = app.query_one(RoomBar)
            box = app.query_one(ChatInput)
            deadline = time.perf_counter() + CONNECT_WITHIN
            while bots and time.perf_counter() < deadline:
                report = bar.bots_report
                if report is not None and report.connected == bots:
                    break
                await pilot.pause(0.1)
            await pilot.pause(SETTLE)
            bots_proc = bots_pid()
            fewest = bots
            report = bar.bots_report
            before = report.echoed if report else 0
            started = time.perf_counter()
            cpu_ui = own_cpu_seconds()
            cpu_bots = cpu_seconds(bots_proc) if bots_proc else float("nan")
            cpu_server = cpu_seconds(server.proc.pid)
            typing = asyncio.create_task(type_and_time(app, box, seconds))
            while not typing.done():
                if bar.bots_report is not None:
                    fewest = min(fewest, bar.bots_report.connected)
                await asyncio.sleep(0.1)
            latencies = typing.result()
            elapsed = time.perf_counter() - started
            ui = (own_cpu_seconds() - cpu_ui) / elapsed * 100
            by_bots = (cpu_seconds(bots_proc) if bots_proc else float("nan")) - cpu_bots
            by_bots = by_bots / elapsed * 100
            by_server = (cpu_seconds(server.proc.pid) - cpu_server) / elapsed * 100
            report, srv = bar.bots_report, bar.server_report
            achieved = ((report.echoed if report else 0) - before) / elapsed
            p50 = report.p50 * 1000 if report and report.p50 is not None else float("nan")
            p99 = report.p99 * 1000 if report and report.p99 is not None else float("nan")
            connected = report.connected if report else 0
            errors = report.errors if report else 0
            live = srv.live if srv else -1
            key50, key99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
            return (
                f"{bots:>6} {rate:>5g} {bots * rate:>8.0f} {achieved:>9.0f}"
                f" {fewest:>6}/{connected:<6} {live:>6} {p50:>7.1f} {p99:>7.1f}"
                f" {key50:>7.1f} {key99:>7.1f} {max(latencies):>7.1f} {len(latencies):>5}"
                f" {ui:>5.0f} {by_bots:>5.0f} {by_server:>5.0f} {errors:>6}"
            )
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--configs", default=DEFAULT_CONFIGS, help="BOTSxRATE,...")
    args = parser.parse_args()
    print(
        f"{'bots':>6} {'rate':>5} {'target':>8} {'echoes':>9} {'connected':>13} {'live':>6}"
        f" {'rtt p50':>7} {'rtt p99':>7} {'key p50':>7} {'key p99':>7} {'key max':>7}"
        f" {'keys':>5} {'ui':>5} {'bots':>5} {'srv':>5} {'errors':>6}"
    )
    print(
        f"{'':>6} {'/s':>5} {'/s':>8} {'/s':>9} {'min/end':>13} {'':>6} {'ms':>7} {'ms':>7}"
        f" {'ms':>7} {'ms':>7} {'ms':>7} {'':>5} {'cpu%':>5} {'cpu%':>5} {'cpu%':>5}"
    )
    for config in args.configs.split(","):
        bots, rate = config.split("x")
        run = asyncio.wait_for(measure(int(bots), float(rate), args.seconds), CONFIG_WITHIN)
        print(asyncio.run(run), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
