"""How long `coio-tui` takes from process start to its first paint, on a real pseudo-terminal,
beside a minimal Textual app started the same way.

    .venv/bin/python benchmarks/tui_startup.py [--repeats 5]

Method: start a real `coio-server` on a free loopback port, then run the real `coio-tui`
command on a 120x40 pty (pty_terminal.py, a reader that never falls behind) and timestamp every
byte it writes. The first paint is complete when the footer's "Quit" key has been written (the
footer is the last row of the first frame); "connected" when the connection pane shows the
verified banner.

For comparison each repeat also runs a minimal Textual app (MINIMAL_APP: one Static and a
Footer showing the same "Quit" binding) with this interpreter on a pty of the same size, and
its first frame is found by the same marker: both apps draw the footer as the last row of
their first full-screen update, so the marker's timestamp is the moment that update reached
the terminal, for either. The two alternate (which goes first flips every repeat), so a
machine growing busier or quieter during the run affects both alike; the ratio is taken per
repeat (coio-tui / minimal) and its median reported. The minimal app's time is what any
Textual app pays (interpreter, Textual's import, driver start, first layout and paint); the
ratio is what coio-tui adds on top. coio-tui's main turns the garbage collector off until the
app has started; the minimal app is also run that way (MINIMAL_APP_COLLECTOR_OFF, between the
other two in every repeat, with its own warm-up start), so the report shows what that switch
alone is worth and coio-tui beside both.

Both start from cached bytecode: coio's modules are compiled first (a wheel install compiles
them when installed, as pip did Textual's, but an editable checkout run with
PYTHONDONTWRITEBYTECODE would compile coio afresh on every start), and one unmeasured start of
each warms the file cache.

For scale, the same is timed for bare `python -c pass` and for importing the app. Each figure
is the median of --repeats runs (min-max shown). Prints figures only.
"""

from __future__ import annotations

import argparse
import compileall
import statistics
import subprocess
import sys
import time
from pathlib import Path

from pty_terminal import COLUMNS, ROWS, PtyProgram

import coio
from coio.address import parse_listening_line
from coio.programs import program

FIRST_FRAME = b"Quit"  # the footer: the bottom row of the first frame
VERIFIED = b"verified"  # the connection pane: "welcome! ✓ verified"
TIMEOUT = 60.0
# The smallest app with a comparable first frame: a body and a footer with a "Quit" key.
MINIMAL_APP = """
from textual.app import App
from textual.binding import Binding
from textual.widgets import Footer, Static

class Minimal(App[None]):
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", priority=True)]

    def compose(self):
        yield Static("a minimal Textual app")
        yield Footer()

Minimal().run()
"""
# The same app started as coio-tui starts (its main turns the collector off until the app has
# started): what that switch alone is worth to any Textual app, for scale.
MINIMAL_APP_COLLECTOR_OFF = "import gc\ngc.disable()\n" + MINIMAL_APP


def start_server() -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [*program("coio-server"), "--port", "0", "--log-level", "warning"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    address = parse_listening_line(proc.stdout.readline())
    if address is None:
        proc.kill()
        raise SystemExit("tui_startup: coio-server did not start")
    return proc, address[1]


def time_command(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True)
    return time.perf_counter() - started


def minimal_start(source: str = MINIMAL_APP) -> float:
    """Seconds to the minimal Textual app's first complete frame."""
    app = PtyProgram([sys.executable, "-c", source])
    try:
        frame = app.first(FIRST_FRAME, TIMEOUT)
    finally:
        app.stop()
    if frame is None:
        raise SystemExit("tui_startup: the minimal Textual app did not paint its first frame")
    return frame


def one_start(port: int) -> tuple[float, float, float, int]:
    """(first byte, first frame, banner verified) in seconds, and bytes of the first frame."""
    tui = PtyProgram([*program("coio-tui"), "--port", str(port)])
    try:
        frame = tui.first(FIRST_FRAME, TIMEOUT)
        verified = tui.first(VERIFIED, TIMEOUT)
        first_byte = tui.chunks[0][0] if tui.chunks else float("nan")
        size = sum(len(d) for at, d in tui.chunks if frame is not None and at <= frame)
    finally:
        tui.stop()
    if frame is None or verified is None:
        raise SystemExit("tui_startup: coio-tui did not paint its first frame in time")
    return first_byte, frame, verified, size


def fmt(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return f"{statistics.median(ms):7.0f} ms  (min {min(ms):.0f}, max {max(ms):.0f})"


def fmt_ratio(values: list[float]) -> str:
    return f"{statistics.median(values):7.2f} x   (min {min(values):.2f}, max {max(values):.2f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    py = sys.executable
    compileall.compile_dir(Path(coio.__file__).parent, quiet=1)
    bare = [time_command([py, "-c", "pass"]) for _ in range(args.repeats)]
    imports = [time_command([py, "-c", "import coio.tui.app"]) for _ in range(args.repeats)]
    server, port = start_server()
    try:
        one_start(port)  # warm-up, not counted
        minimal_start()
        minimal_start(MINIMAL_APP_COLLECTOR_OFF)
        runs = []
        minimal = []
        minimal_off = []
        for repeat in range(args.repeats):
            if repeat % 2:
                minimal.append(minimal_start())
                minimal_off.append(minimal_start(MINIMAL_APP_COLLECTOR_OFF))
                runs.append(one_start(port))
            else:
                runs.append(one_start(port))
                minimal_off.append(minimal_start(MINIMAL_APP_COLLECTOR_OFF))
                minimal.append(minimal_start())
    finally:
        server.terminate()
        server.wait(10)
    print(f"coio-tui start-up on a {COLUMNS}x{ROWS} pty, median of {args.repeats} (min, max):")
    print(f"  python -c pass                       {fmt(bare)}")
    print(f"  python -c 'import coio.tui.app'      {fmt(imports)}")
    print(f"  coio-tui: first byte written         {fmt([r[0] for r in runs])}")
    print(f"  coio-tui: first frame complete       {fmt([r[1] for r in runs])}")
    print(f"  minimal Textual app: first frame     {fmt(minimal)}")
    ratios = [r[1] / m for r, m in zip(runs, minimal, strict=True)]
    print(f"  first frame, coio-tui / minimal      {fmt_ratio(ratios)}")
    print(f"  minimal app, collector off at start  {fmt(minimal_off)}")
    off_ratios = [r[1] / m for r, m in zip(runs, minimal_off, strict=True)]
    print(f"  first frame, coio-tui / that app     {fmt_ratio(off_ratios)}")
    print(f"  coio-tui: banner verified on screen  {fmt([r[2] for r in runs])}")
    size = statistics.median(r[3] for r in runs)
    print(f"  first frame size                     {size:7,.0f} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
