"""How many browser tabs `coio-tui --serve --demo` sustains at once, each still echoing.

Opens headless chromium tabs (Playwright, Debian's /usr/bin/chromium) in steps, e.g. 5, 10, 20:
after each step every tab types its own line and must show its own uppercase echo. Prints, per
step, how long the new tabs took to connect, how long until every tab showed its echo, and the
memory of the per-tab app processes (RSS and PSS: PSS shares the common pages out fairly), of
the web server and demo server, and of chromium, and the CPU all apps use while nobody types.
Loopback only; bounded in tabs and in time.

    .venv/bin/python benchmarks/web_tabs.py --steps 5,10,20
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from statistics import median
from typing import Any

from playwright.sync_api import sync_playwright

from coio.address import parse_serving_line
from coio.programs import program

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
MAX_TABS = 40  # each tab is a Python process: beyond this it is a fork bomb, not a measurement
IDLE_SAMPLE = 5.0  # seconds over which the apps' CPU is sampled while nobody types
STEP_TIMEOUT = 120.0  # seconds a step may take to connect, or to echo, before we stop

# Read xterm.js's own buffer: catch the Terminal textual-serve's page keeps as `this.terminal`.
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


def read_proc(pid: int) -> tuple[int, str] | None:
    """(parent pid, command line) of ``pid``, or None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
    return ppid, cmdline.replace(b"\0", b" ").decode("utf-8", "replace")


def descendants(root: int) -> dict[int, str]:
    """pid -> command line for every process below ``root``."""
    table = {
        int(n): info for n in os.listdir("/proc") if n.isdigit() and (info := read_proc(int(n)))
    }
    found: dict[int, str] = {}
    todo = [root]
    while todo:
        parent = todo.pop()
        for pid, (ppid, cmd) in table.items():
            if ppid == parent and pid not in found:
                found[pid] = cmd
                todo.append(pid)
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes ``pids`` have used so far."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def idle_cpu_percent(pids: list[int], seconds: float) -> float:
    """CPU the processes use together while nobody types, in % of one core."""
    before = cpu_seconds(pids)
    time.sleep(seconds)
    return 100 * (cpu_seconds(pids) - before) / seconds


def memory_kib(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of ``pid`` in KiB, from /proc/<pid>/smaps_rollup."""
    rss = pss = 0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Rss:"):
                rss = int(line.split()[1])
            elif line.startswith("Pss:"):
                pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f}"


def screen(page: Any) -> str:
    return str(page.evaluate(SCREEN_TEXT))


def wait_all(pages: list[Any], needles: list[str], within: float) -> list[float] | None:
    """Seconds until each page showed its needle (polling all pages), or None on timeout."""
    start = time.monotonic()
    seen: list[float | None] = [None] * len(pages)
    while time.monotonic() - start < within:
        for i, (page, needle) in enumerate(zip(pages, needles, strict=True)):
            if seen[i] is None and needle in screen(page):
                seen[i] = time.monotonic() - start
        if all(s is not None for s in seen):
            return [s for s in seen if s is not None]
        time.sleep(0.05)
    return None


def measure(steps: list[int], budget: float) -> int:
    web = subprocess.Popen(
        [*program("coio-tui"), "--serve", "--demo", "--serve-port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert web.stdout is not None
    line = web.stdout.readline()
    url = parse_serving_line(line)
    if url is None:
        print(f"coio-tui --serve did not start: {line.strip()}", file=sys.stderr)
        web.kill()
        return 1
    print(f"# {os.cpu_count()} cores; coio-tui --serve --demo on {url}; chromium headless")
    print(
        "tabs  connect_s  echo_all_s  echo_med_s  app_rss_MiB/tab  app_pss_MiB/tab  "
        "apps_pss_MiB  web+demo_pss_MiB  chromium_pss_MiB  apps_idle_cpu%"
    )
    deadline = time.monotonic() + budget
    code = 0
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            context = browser.new_context(viewport={"width": 960, "height": 600})
            context.add_init_script(CATCH_TERMINAL)
            pages: list[Any] = []
            try:
                for target in steps:
                    if time.monotonic() > deadline:
                        print(f"# time budget of {budget:.0f} s spent; stopping before {target}")
                        break
                    start = time.monotonic()
                    new = []
                    while len(pages) < target:
                        page = context.new_page()
                        page.goto(url)
                        pages.append(page)
                        new.append(page)
                    if wait_all(new, ["welcome! ✓ verified"] * len(new), STEP_TIMEOUT) is None:
                        print(f"# {target} tabs: not all connected within {STEP_TIMEOUT:.0f} s")
                        code = 1
                        break
                    connect = time.monotonic() - start
                    needles = []
                    for n, page in enumerate(pages, 1):
                        text = f"tab {n} at {target} says hi"
                        page.focus(".xterm-helper-textarea")
                        page.keyboard.type(text)
                        page.keyboard.press("Enter")
                        needles.append(text.upper())
                    echoes = wait_all(pages, needles, STEP_TIMEOUT)
                    if echoes is None:
                        print(f"# {target} tabs: not every tab echoed within {STEP_TIMEOUT:.0f} s")
                        code = 1
                        break
                    procs = descendants(web.pid)
                    apps = [p for p, cmd in procs.items() if "coio-tui" in cmd]
                    others = [web.pid, *(p for p in procs if p not in apps)]
                    browsers = [p for p, cmd in descendants(os.getpid()).items() if "chrom" in cmd]
                    idle = idle_cpu_percent(apps, IDLE_SAMPLE)
                    app_mem = [memory_kib(p) for p in apps]
                    rss = sum(m[0] for m in app_mem)
                    pss = sum(m[1] for m in app_mem)
                    print(
                        f"{len(apps):>4}  {connect:>9.1f}  {max(echoes):>10.2f}  "
                        f"{median(echoes):>10.2f}  {mib(rss / len(apps)):>15}  "
                        f"{mib(pss / len(apps)):>15}  {mib(pss):>12}  "
                        f"{mib(sum(memory_kib(p)[1] for p in others)):>16}  "
                        f"{mib(sum(memory_kib(p)[1] for p in browsers)):>16}  "
                        f"{idle:>13.0f}",
                        flush=True,
                    )
            finally:
                browser.close()
    finally:
        web.send_signal(signal.SIGTERM)
        out, _ = web.communicate(timeout=60)
        closed = re.search(r"closing (\d+) tab", out)
        print(f"# SIGTERM: web server exit {web.returncode}, closed {closed and closed.group(1)}")
    return code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", default="5,10,20", help="tab counts to reach, in order")
    parser.add_argument("--budget", type=float, default=300.0, help="seconds for all steps")
    args = parser.parse_args()
    try:
        steps = sorted({int(s) for s in args.steps.split(",")})
    except ValueError:
        parser.error("--steps: comma-separated whole numbers, e.g. 5,10,20")
    if not steps or steps[0] < 1 or steps[-1] > MAX_TABS:
        parser.error(f"--steps: tab counts must be 1-{MAX_TABS}")
    if not Path(CHROMIUM).exists():
        parser.error(f"{CHROMIUM} is missing: apt-get install -y chromium")
    return measure(steps, min(args.budget, 900.0))


if __name__ == "__main__":
    raise SystemExit(main())
