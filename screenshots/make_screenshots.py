"""Capture real screenshots of coio-tui talking to a real local coio-server.

Run: .venv/bin/python screenshots/make_screenshots.py [--models-only]
Writes SVGs here, and PNGs too when `rsvg-convert` (Debian's librsvg2-bin) is installed; then runs
the browser test with COIO_WRITE_SCREENSHOTS=1 so its chromium capture lands here too.
`--models-only` makes just the five coio-tui-model-*.svg, one per server IO model.
The animated capture of a live model switch is screenshots/make_cast.py's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))

from textual.pilot import Pilot  # noqa: E402
from textual.widgets import TabbedContent, TabPane  # noqa: E402

from coio.io_models import MODELS  # noqa: E402
from coio.tui.app import CoioApp  # noqa: E402
from coio.tui.demo import DemoServer  # noqa: E402
from coio.tui.settings import Settings  # noqa: E402
from coio.tui.widgets.chat_pane import ChatPane  # noqa: E402
from coio.tui.widgets.room_bar import RoomBar  # noqa: E402

SIZE = (120, 34)
MODEL_SIZE = (120, 24)  # shown five at a time in the README: the room bar and one tab
MODEL_LINE = "am I served?"
LINES = ["hello, coio!", "straße grüße", "[bold]markup stays text[/]", "ǆ é ß"]


async def wait_connected(pilot: Pilot[int], chats: list[ChatPane]) -> None:
    for _ in range(100):
        if all(chat.link_pane.banner for chat in chats):
            break
        await pilot.pause(0.05)
    else:
        raise SystemExit("make_screenshots: a tab never got the server's banner")
    await pilot.pause(0.3)


async def chat_shot(server: DemoServer) -> Path:
    """`coio-tui --demo --clients 3`: three tabs, a few lines sent, the wire pane open."""
    settings = Settings(host=server.host, port=server.port, name="ada", clients=3)
    app = CoioApp(settings, demo=server)
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot, list(app.query(ChatPane)))
        for line in LINES:
            await pilot.press(*line, "enter")
            await pilot.pause(0.15)
        await pilot.press("f2")
        await pilot.pause(1.5)  # the server's metrics page read again, into the room bar
        return Path(app.save_screenshot("coio-tui-chat.svg", path=str(ROOT)))


async def classroom_shot(server: DemoServer) -> Path:
    """`coio-tui --demo --bots 24 --bot-rate 2`: the room bar with bots chatting alongside."""
    settings = Settings(host=server.host, port=server.port, name="ada", bots=24, bot_rate=2)
    app = CoioApp(settings, demo=server)
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot, list(app.query(ChatPane)))
        for line in LINES[:2]:
            await pilot.press(*line, "enter")
            await pilot.pause(0.15)
        await pilot.pause(3.5)  # bots connected and a few figures read
        return Path(app.save_screenshot("coio-tui-classroom.svg", path=str(ROOT)))


async def model_shot(server: DemoServer) -> Path:
    """`coio-tui --demo --model M --clients 2 --bots 4`, tab 2 shown with a line typed: the room
    bar names the model, its threads and who waits. With blocking, tab 1 is served and everyone
    else waits, tab 2 included (no banner, no echo); with the others tab 2 gets its echo."""
    settings = Settings(host=server.host, port=server.port, name="ada", clients=2, bots=4)
    app = CoioApp(settings, demo=server)
    async with app.run_test(size=MODEL_SIZE) as pilot:
        bar = app.query_one(RoomBar)
        for _ in range(100):  # every client counted, live or waiting
            r = bar.server_report
            if r and r.model == server.model and r.live + (r.waiting or 0) == 6:
                break
            await pilot.pause(0.1)
        else:
            raise SystemExit(f"make_screenshots: the {server.model} server never counted 6 clients")
        app.query_one(TabbedContent).active = "conn-2"
        await pilot.pause(0.2)
        await pilot.press(*MODEL_LINE, "enter")
        second = app.query_one("#conn-2", TabPane).query_one(ChatPane)
        for _ in range(50):  # its echo, unless the server serves one client at a time
            if server.model == "blocking" or second.stats.echoed_lines:
                break
            await pilot.pause(0.1)
        else:
            raise SystemExit(f"make_screenshots: tab 2's line was never echoed ({server.model})")
        await pilot.pause(1.2)  # one more reading: a msgs/s figure
        name = f"coio-tui-model-{server.model}.svg"
        return Path(app.save_screenshot(name, path=str(ROOT)))


async def capture(models_only: bool) -> list[Path]:
    shots = []
    for shot in () if models_only else (chat_shot, classroom_shot):
        server = DemoServer()
        try:
            shots.append(await shot(server))
        finally:
            server.stop()
    for model in MODELS:
        server = DemoServer(model)
        try:
            shots.append(await model_shot(server))
        finally:
            server.stop()
    return shots


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--models-only", action="store_true", help="only coio-tui-model-*.svg")
    args = parser.parse_args(argv)
    svgs = asyncio.run(capture(args.models_only))
    converter = shutil.which("rsvg-convert")
    for svg in svgs:
        print(svg)
        if converter:
            png = svg.with_suffix(".png")
            subprocess.run([converter, "-w", "1400", str(svg), "-o", str(png)], check=True)
            print(png)
    if args.models_only:
        return 0
    # The browser capture is taken by the browser test itself, in Debian's chromium.
    browser_test = ROOT.parent / "tests" / "web" / "test_browser.py"
    env = {**os.environ, "COIO_WRITE_SCREENSHOTS": "1"}
    cmd = [sys.executable, "-m", "pytest", "-q", "--no-cov", "-p", "no:cacheprovider"]
    cmd.append(str(browser_test))
    subprocess.run(cmd, check=True, env=env, cwd=ROOT.parent)
    print(ROOT / "browser-two-tabs.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
