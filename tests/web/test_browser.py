"""coio-tui in a real browser: Debian's chromium, driven by Playwright, two tabs, two clients."""

from __future__ import annotations

import base64
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support import ServerProcess, need_tool
from tests.web.support import (
    descendants,
    on_loopback,
    running_web,
    still_running,
    token_of,
    wait_for_tabs,
)

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
# The capture goes into screenshots/ only when asked (screenshots/make_screenshots.py asks), so an
# ordinary test run leaves the checkout as it found it.
WRITE_SCREENSHOTS = "COIO_WRITE_SCREENSHOTS"

# textual-serve keeps its xterm.js Terminal private. Before the page's scripts run, catch the
# object its code stores as `this.terminal`, so the test reads the very buffer xterm.js draws.
CATCH_TERMINAL = """
window.coioTerminals = [];
Object.defineProperty(Object.prototype, "terminal", {
  configurable: true,
  set(value) {
    Object.defineProperty(this, "terminal", {value, writable: true, configurable: true});
    window.coioTerminals.push(value);
  },
});
"""
SCREEN_TEXT = """() => {
  const term = window.coioTerminals.find((t) => t && t.buffer && t.buffer.active);
  if (!term) return "";
  const buffer = term.buffer.active;
  const rows = [];
  for (let y = 0; y < term.rows; y++) {
    const line = buffer.getLine(buffer.viewportY + y);
    rows.push(line ? line.translateToString(true) : "");
  }
  return rows.join("\\n");
}"""


def require_browser() -> Any:
    """Playwright's sync API entry point, or a failed test that says what to install."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Python playwright is missing: pip install -e '.[test]'", pytrace=False)
    need_tool("chromium", "chromium", path=CHROMIUM)
    return sync_playwright


def wait_for_text(page: Any, needle: str, within: float = 30.0) -> str:
    """Poll the tab's terminal until ``needle`` is on screen; return the screen."""
    deadline = time.monotonic() + within
    screen = ""
    while time.monotonic() < deadline:
        screen = page.evaluate(SCREEN_TEXT)
        if needle in screen:
            return screen
        page.wait_for_timeout(200)
    raise AssertionError(f"{needle!r} never appeared in the browser tab:\n{screen}")


def save_side_by_side(context: Any, shots: list[bytes], path: Path) -> None:
    """One PNG of both tabs, laid out by the browser itself from their real captures."""
    images = "".join(
        f'<figure><figcaption>browser tab {n}</figcaption><img src="data:image/png;base64,'
        f'{base64.b64encode(shot).decode()}"></figure>'
        for n, shot in enumerate(shots, 1)
    )
    page = context.new_page()
    page.set_content(
        "<style>body{margin:0;background:#0c181f;display:flex;gap:12px;padding:12px}"
        "figure{margin:0}figcaption{color:#ddd;font:14px monospace;padding:0 0 6px}"
        f"img{{display:block;border:1px solid #456}}</style>{images}"
    )
    path.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    page.close()


@pytest.mark.timeout(90)
def test_two_browser_tabs_are_two_clients_and_leave_nothing_behind(tmp_path: Path) -> None:
    """Two chromium tabs each get their own echo; SIGTERM then leaves no app or server behind."""
    sync_playwright = require_browser()
    folder = SCREENSHOTS if os.environ.get(WRITE_SCREENSHOTS) == "1" else tmp_path
    screenshot = folder / "browser-two-tabs.png"
    with running_web("--demo") as web, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(viewport={"width": 960, "height": 600})
            context.add_init_script(CATCH_TERMINAL)
            requested: list[str] = []
            context.on("request", lambda request: requested.append(request.url))
            tabs = [context.new_page(), context.new_page()]
            for tab in tabs:
                tab.goto(web.url)
            for tab in tabs:
                wait_for_text(tab, "welcome! ✓ verified")
            lines = ["hello from the first tab", "and straße from the second"]
            for tab, line in zip(tabs, lines, strict=True):
                tab.focus(".xterm-helper-textarea")
                tab.keyboard.type(line)
                tab.keyboard.press("Enter")
            first = wait_for_text(tabs[0], "HELLO FROM THE FIRST TAB")
            second = wait_for_text(tabs[1], "AND STRASSE FROM THE SECOND")
            assert "STRASSE" not in first
            assert "FIRST TAB" not in second
            save_side_by_side(context, [tab.screenshot() for tab in tabs], screenshot)
            assert screenshot.read_bytes().startswith(b"\x89PNG")
            outside = [url for url in requested if not url.startswith(web.url)]
            assert outside == [], f"the page asked for more than its own server: {outside}"

            apps = wait_for_tabs(web.proc.pid, 2)
            assert len({app.pid for app in apps}) == 2
            children = descendants(web.proc.pid)
            assert any("coio-server" in child.cmdline for child in children)
            code, out = web.stop(signal.SIGTERM)  # with both tabs still open
        finally:
            browser.close()
    assert code == 0, out
    assert still_running(children) == [], f"left running: {still_running(children)}\n{out}"
    assert "Traceback" not in out


@pytest.mark.timeout(90)
def test_a_page_opened_with_its_token_hands_it_to_its_app_socket(server: ServerProcess) -> None:
    """Served on 0.0.0.0, the printed URL's page opens its app socket with the token: it draws."""
    sync_playwright = require_browser()
    with (
        running_web("--serve-host", "0.0.0.0", "--port", str(server.port)) as web,
        sync_playwright() as playwright,
    ):
        page_url = on_loopback(web.url)
        assert token_of(page_url) is not None
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(viewport={"width": 960, "height": 600})
            context.add_init_script(CATCH_TERMINAL)
            tab = context.new_page()
            tab.goto(page_url)
            wait_for_text(tab, "✓ verified")
            assert len(wait_for_tabs(web.proc.pid, 1)) == 1
        finally:
            browser.close()
        code, out = web.stop()
    assert code == 0, out
    assert "no or wrong token" not in out
    assert "Origin" not in out
