"""Capture real screenshots of coio-tui talking to a real local coio-server.

Run: .venv/bin/python screenshots/make_screenshots.py
Writes SVGs here, and PNGs too when `rsvg-convert` (Debian's librsvg2-bin) is installed.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))

from tui.app import CoioApp  # noqa: E402
from tui.demo import DemoServer  # noqa: E402
from tui.settings import Settings  # noqa: E402
from tui.widgets.chat_pane import ChatPane  # noqa: E402

SIZE = (120, 34)
LINES = ["hello, coio!", "straße grüße", "[bold]markup stays text[/]", "ǆ é ß"]


async def capture(server: DemoServer) -> list[Path]:
    app = CoioApp(Settings(host=server.host, port=server.port, name="ada", clients=3))
    shots: list[Path] = []
    async with app.run_test(size=SIZE) as pilot:
        chats = list(app.query(ChatPane))
        for _ in range(100):
            if all(chat.link_pane.banner for chat in chats):
                break
            await pilot.pause(0.05)
        await pilot.pause(0.3)
        for line in LINES:
            await pilot.press(*line, "enter")
            await pilot.pause(0.15)
        await pilot.press("f2")
        await pilot.pause(0.5)
        shots.append(Path(app.save_screenshot("coio-tui-chat.svg", path=str(ROOT))))
    return shots


def main() -> int:
    server = DemoServer()
    try:
        svgs = asyncio.run(capture(server))
    finally:
        server.stop()
    converter = shutil.which("rsvg-convert")
    for svg in svgs:
        print(svg)
        if converter:
            png = svg.with_suffix(".png")
            subprocess.run([converter, "-w", "1400", str(svg), "-o", str(png)], check=True)
            print(png)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
