"""Record the real coio-tui switching its demo server's IO model live: a cast and an animated SVG.

Run: .venv/bin/python screenshots/make_cast.py
Writes coio-tui-model-switch.cast (asciinema v2) and coio-tui-model-switch.svg here.

Needs tmux, asciinema 2.x (`.venv/bin/pip install -e '.[screenshots]'`, or on PATH) and npm, which
installs svg-term-cli once into ~/.cache/coio (or $XDG_CACHE_HOME/coio) to render the SVG.

How: a private tmux server (its socket in a temporary folder, no user config) runs
`asciinema rec -c "coio-tui --demo --model blocking --bots 3"` in a COLS x ROWS window, and this
script types into it with `tmux send-keys`, reading the screen back with `tmux capture-pane` to
know when each step has happened: tab 1 is served and tab 2 waits with `blocking`, the command
palette restarts the server with `threads` (every client live, one thread each), then with
`gevent` (one thread), tab 2's line is echoed, Ctrl+Q. Every wait has a deadline; the pauses
between steps are only there so that a viewer can read the screen.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from coio.programs import program

ROOT = Path(__file__).resolve().parent

NAME = "coio-tui-model-switch"
COLS, ROWS = 130, 30  # wide enough for the room bar to spell out its figures ("1 thread")
BOTS = 3
SVG_TERM = "svg-term-cli@2.1.1"  # the renderer, pinned: its output is what the README shows
IDLE_TIME_LIMIT = 1.5  # seconds: a longer quiet stretch of the cast plays back this short
SCREEN_WITHIN = 20.0  # seconds for any one expected thing to appear on screen
EXIT_WITHIN = 15.0  # seconds for coio-tui (and so the recording) to end after Ctrl+Q
TMUX_WITHIN = 10.0  # seconds for one tmux command
NPM_WITHIN = 300.0  # seconds for npm to install svg-term-cli
RENDER_WITHIN = 300.0  # seconds for svg-term to render the cast
POLL_EVERY = 0.1  # seconds between two reads of the screen
# Pacing for a viewer, not synchronisation: each step is awaited on screen first.
VIEWER_PAUSE = 2.0  # seconds a finished step stays on screen before the next one starts
KEY_PAUSE = 0.06  # seconds between typed characters, so typing looks like typing
SIZE_WARNING = 2_000_000  # bytes: an SVG larger than this is too heavy for a README


class CastError(Exception):
    """The recording could not be made; the message is one line for the user."""


def find_tools() -> tuple[str, str, str]:
    """tmux, asciinema and npm, or CastError naming the first one missing."""
    tmux = shutil.which("tmux")
    if tmux is None:
        raise CastError("tmux not found: install it (Debian: apt-get install tmux)")
    beside = Path(sys.executable).parent / "asciinema"
    asciinema = str(beside) if beside.exists() else shutil.which("asciinema")
    if asciinema is None:
        raise CastError(
            "asciinema not found: .venv/bin/pip install -e '.[screenshots]' (asciinema 2.x)"
        )
    npm = shutil.which("npm")
    if npm is None:
        raise CastError("npm not found: install Node.js and npm (Debian: apt-get install npm)")
    return tmux, asciinema, npm


def svg_term(npm: str) -> Path:
    """svg-term's program, installed with npm into a cache folder the first time."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "coio"
    prefix = cache / SVG_TERM.replace("@", "-")
    binary = prefix / "node_modules" / ".bin" / "svg-term"
    if binary.exists():
        return binary
    prefix.mkdir(parents=True, exist_ok=True)
    print(f"installing {SVG_TERM} into {prefix}", file=sys.stderr)
    cmd = [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", SVG_TERM]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=NPM_WITHIN)
    except subprocess.TimeoutExpired:
        raise CastError(f"npm did not install {SVG_TERM} within {NPM_WITHIN:.0f} s") from None
    if done.returncode != 0 or not binary.exists():
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise CastError(f"npm could not install {SVG_TERM}: {last}")
    return binary


class Terminal:
    """A private tmux server running one window; type into it and read its screen."""

    def __init__(self, tmux: str, socket: Path) -> None:
        self.tmux = tmux
        self.socket = socket

    def run(self, *args: str) -> str:
        cmd = [self.tmux, "-S", str(self.socket), *args]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=TMUX_WITHIN)
        except subprocess.TimeoutExpired:
            raise CastError(f"tmux {args[0]} did not answer within {TMUX_WITHIN:.0f} s") from None
        if done.returncode != 0:
            raise CastError(f"tmux {args[0]} failed: {done.stderr.strip()}")
        return done.stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "cast")

    def wait_for(self, pattern: str, what: str, within: float = SCREEN_WITHIN) -> str:
        """The screen once it matches the regular expression ``pattern``; CastError naming
        ``what`` was awaited, and saving the last screen seen, if it does not in time."""
        deadline = time.monotonic() + within
        while True:
            screen = self.screen()
            if re.search(pattern, screen):
                return screen
            if time.monotonic() > deadline:
                seen = Path(tempfile.gettempdir()) / f"{NAME}-last-screen.txt"
                seen.write_text(screen, encoding="utf-8")
                raise CastError(f"{what} not seen within {within:.0f} s (last screen: {seen})")
            time.sleep(POLL_EVERY)

    def keys(self, *keys: str) -> None:
        """Press named keys (``Enter``, ``C-p``)."""
        self.run("send-keys", "-t", "cast", *keys)

    def type(self, text: str) -> None:
        """Type ``text`` one character at a time, at a pace a viewer can follow."""
        for char in text:
            self.run("send-keys", "-t", "cast", "-l", char)
            time.sleep(KEY_PAUSE)


@contextmanager
def terminal(tmux: str, command: list[str], workdir: Path) -> Iterator[Terminal]:
    """Run ``command`` in a COLS x ROWS window of a tmux server of our own; stop that server
    (and so everything in it) afterwards, whatever happened."""
    config = workdir / "tmux.conf"
    config.write_text("set -g status off\nset -g default-terminal tmux-256color\n")
    term = Terminal(tmux, workdir / "tmux.socket")
    size = ["-x", str(COLS), "-y", str(ROWS)]
    term.run("-f", str(config), "new-session", "-d", "-s", "cast", *size, shlex.join(command))
    try:
        yield term
    finally:
        subprocess.run(
            [tmux, "-S", str(term.socket), "kill-server"], capture_output=True, timeout=TMUX_WITHIN
        )


def palette(term: Terminal, model: str) -> None:
    """Restart the demo server with ``model`` from the command palette."""
    term.keys("C-p")
    term.wait_for(r"Search for commands", "the command palette")
    term.type(f"Server model: {model}")
    term.wait_for(r"Restart the demo server on its port", f"the palette's {model} command")
    time.sleep(VIEWER_PAUSE / 2)
    term.keys("Enter")


def server_line(model: str, live: str, waiting: str, threads: str = "") -> str:
    """A regular expression for the room bar's server line; the bar abbreviates its words
    ("wait", "thr") when it is too narrow to spell them out."""
    pattern = rf"server +{model} · {live} live · {waiting} wait"
    return pattern + rf"\w* · \S+ msgs?/s · {threads} thr" if threads else pattern


def perform(term: Terminal) -> None:
    """The lesson, step by step, each step awaited on screen."""
    term.wait_for(server_line("blocking", "1", r"\d+"), "the blocking model's figures")
    term.wait_for(r"welcome! ✓ verified", "tab 1's banner")
    term.type("served first")
    term.keys("Enter")
    term.wait_for(r"SERVED FIRST", "tab 1's echo")
    time.sleep(VIEWER_PAUSE)

    term.keys("C-n")  # tab 2: connected, but the blocking server is busy with tab 1
    term.wait_for(r"client-2", "tab 2")
    term.type("and me?")
    term.keys("Enter")
    time.sleep(2 * VIEWER_PAUSE)  # nothing comes back: let that be seen
    term.wait_for(server_line("blocking", "1", r"[1-9]\d*"), "tab 2 waiting")

    palette(term, "threads")
    term.wait_for(r"restarting with model threads", "the restart")
    term.wait_for(r"AND ME\?", "tab 2's echo from the threads server")
    term.wait_for(server_line("threads", r"\d+", "0", r"\d+"), "every client live, a thread each")
    time.sleep(2 * VIEWER_PAUSE)

    palette(term, "gevent")
    term.wait_for(r"restarting with model gevent", "the restart")
    term.wait_for(server_line("gevent", r"\d+", "0", r"1\b"), "gevent's one thread")
    time.sleep(VIEWER_PAUSE)
    term.type("one thread for all")
    term.keys("Enter")
    term.wait_for(r"ONE THREAD FOR ALL", "tab 2's echo from the gevent server")
    time.sleep(2 * VIEWER_PAUSE)
    term.keys("C-q")


def record(tmux: str, asciinema: str, workdir: Path) -> Path:
    """Record the lesson into a cast file in ``workdir``; CastError if coio-tui fails."""
    cast = workdir / f"{NAME}.cast"
    status = workdir / "status"
    tui = [*program("coio-tui"), "--demo", "--model", "blocking", "--bots", str(BOTS)]
    rec = [asciinema, "rec", "--quiet", "--overwrite", "--idle-time-limit", str(IDLE_TIME_LIMIT)]
    rec += ["--title", "coio-tui: one lesson, five servers", "--command", shlex.join(tui)]
    rec += [str(cast)]
    # The window stays open after the recording ends, so its last screen can still be read.
    shell = f"{shlex.join(rec)}; echo $? > {shlex.quote(str(status))}; sleep {EXIT_WITHIN:.0f}"
    env = ["env", "COLORTERM=truecolor", "sh", "-c", shell]
    with terminal(tmux, env, workdir) as term:
        perform(term)
        deadline = time.monotonic() + EXIT_WITHIN
        while not status.exists():
            if time.monotonic() > deadline:
                raise CastError(f"coio-tui did not exit within {EXIT_WITHIN:.0f} s of Ctrl+Q")
            time.sleep(POLL_EVERY)
        code = status.read_text().strip()
        if code != "0" or "Traceback" in term.screen():
            raise CastError(f"coio-tui (under asciinema) exited with status {code}")
    return cast


def check_cast(cast: Path) -> None:
    """The cast is asciicast v2 at COLS x ROWS and shows all three models."""
    header, *events = cast.read_text(encoding="utf-8").splitlines()
    meta = json.loads(header)
    if (meta.get("version"), meta.get("width"), meta.get("height")) != (2, COLS, ROWS):
        raise CastError(f"unexpected cast header: {header}")
    output = "".join(json.loads(line)[2] for line in events)
    for model in ("blocking", "threads", "gevent"):
        if model not in output:
            raise CastError(f"the cast never shows {model}")


def render(binary: Path, cast: Path, svg: Path) -> None:
    cmd = [str(binary), "--in", str(cast), "--out", str(svg), "--window", "--no-cursor"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=RENDER_WITHIN)
    except subprocess.TimeoutExpired:
        raise CastError(f"svg-term did not render within {RENDER_WITHIN:.0f} s") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise CastError(f"svg-term failed: {last}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=ROOT, help="folder to write to (default: here)")
    args = parser.parse_args(argv)
    try:
        tmux, asciinema, npm = find_tools()
        binary = svg_term(npm)
        with tempfile.TemporaryDirectory(prefix="coio-cast-") as tmp:
            recorded = record(tmux, asciinema, Path(tmp))
            check_cast(recorded)
            args.out.mkdir(parents=True, exist_ok=True)
            cast = shutil.copy(recorded, args.out / f"{NAME}.cast")
        svg = args.out / f"{NAME}.svg"
        render(binary, Path(cast), svg)
    except CastError as exc:
        print(f"make_cast: {exc}", file=sys.stderr)
        return 1
    for path in (Path(cast), svg):
        print(f"{path} ({path.stat().st_size:,} bytes)")
    if svg.stat().st_size > SIZE_WARNING:
        print(f"make_cast: warning: {svg.name} is over {SIZE_WARNING:,} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
