"""coio-tui under load: a burst of 10,000 echoes, 100,000 messages, and RTT shown vs measured.

    .venv/bin/python benchmarks/tui_burst.py [--burst 10000] [--flood 100000] [--probes 200]
        [--paced 100000] [--rate 20000] [--plain-gc] [--textual-timer]

Method: a real `coio-server` on a free loopback port; the real app (CoioApp, one tab connected
to that server) runs in a child process on a 120x40 pty (pty_terminal.py) with a real terminal
driver, so every frame is rendered to escape codes and written out; Textual's auto-pilot
drives it and times each step from inside. Steps, in order:

1. RTT: --probes lines, one at a time, typed through the input's message (ChatInput.Lines)
   while a plain socket client in another process does the same against the same server.
   Figures: the RTT the connection pane shows (trio: write -> read), the UI's end to end
   (line submitted -> echo handed to the transcript), and the plain client's RTT.
2. Network burst: --burst lines pasted in outbox-sized blocks (1,000) as fast as the link
   takes them; time until every echo is in the transcript and painted.
3. Echo burst: --burst echoes posted to the tab at once, as Echoes messages the size of one
   64 KiB read each (what the trio reader posts); time until processed and painted.
4. Flood: --flood echoes in read-sized messages, each sent once the previous one is on screen;
   RSS along the way, and key presses typed meanwhile (delivered as the terminal driver
   delivers them); then key presses again. Each key is timed to handled and to the next frame
   written, compared with before the bursts.
5. Paced flood: --paced echoes arriving at --rate per second (20,000 by default), each
   read-sized message handed over on schedule whatever the UI is doing, with a key typed
   every 30 ms throughout; each key timed to handled and to the next frame written.

Instrumentation only: the transcript's add_echoes and the app's _display (which writes each
frame to the terminal) are wrapped to timestamp arrivals and frames.
Prints figures; never asserts on time.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from coio.address import parse_listening_line
from coio.programs import program

READ_BYTES = 65536  # the trio reader's receive size: one Echoes message per read
OUTBOX_BLOCK = 1000  # the link's outbox bound: a paste larger than this is refused
TIMEOUT = 900.0
KEYS = 20  # key presses timed before and after the bursts
PACED_KEY_GAP = 0.03  # seconds between keys typed during the paced flood
STEP_TIMEOUT = 300.0


# -- the plain client (runs in its own process) -------------------------------------------


def plain_client(port: int, count: int, interval: float) -> list[float]:
    """RTTs of ``count`` lines sent one at a time, ``interval`` apart, on a blocking socket."""
    import socket

    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    banner = b""
    while len(banner) < 8:
        banner += sock.recv(8 - len(banner))
    rtts = []
    for i in range(count):
        line = f"plain probe {i:05}\n".encode()
        started = time.perf_counter()
        sock.sendall(line)
        got = b""
        while len(got) < len(line):
            got += sock.recv(4096)
        rtts.append(time.perf_counter() - started)
        if got != line.upper():
            raise SystemExit(f"wrong echo {got!r}")
        time.sleep(interval)
    sock.close()
    return rtts


# -- the app side (runs in the child, on the pty) ------------------------------------------


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def ms_stats(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, round(0.99 * len(ordered)))] * 1000,
        "max_ms": ordered[-1] * 1000,
        "count": len(ordered),
    }


class Arrivals:
    """Counts echoes handed to the transcript, with an event to wait on."""

    def __init__(self, transcript: Any) -> None:
        self.count = 0
        self.last = 0.0  # when the latest echoes were handed over
        self.changed = asyncio.Event()
        original = transcript.add_echoes

        def add_echoes(items: Any) -> None:
            items = list(items)
            original(items)
            self.count += len(items)
            self.last = time.perf_counter()
            self.changed.set()

        transcript.add_echoes = add_echoes

    async def reach(self, target: int) -> None:
        while self.count < target:
            self.changed.clear()
            await self.changed.wait()


class Paints:
    """Timestamps every frame the app writes to the terminal, with an event to wait on."""

    def __init__(self, app: Any) -> None:
        self.times: list[float] = []
        self.changed = asyncio.Event()
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is not None:
                self.times.append(time.perf_counter())
                self.changed.set()

        app._display = display

    async def first_after(self, moment: float) -> float:
        """The time of the first frame written at or after ``moment``."""
        while not self.times or self.times[-1] < moment:
            self.changed.clear()
            await self.changed.wait()
        return next(t for t in self.times[::-1] if t >= moment)


class GcPauses:
    """The garbage collector's pauses while it is installed, per generation (gc.callbacks)."""

    def __init__(self) -> None:
        self.seconds: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._began = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.seconds[info["generation"]].append(time.perf_counter() - self._began)

    def stop(self) -> None:
        gc.callbacks.remove(self._callback)

    def summary(self) -> dict[str, Any]:
        return {
            str(gen): {"count": len(s), "max_ms": max(s, default=0.0) * 1000}
            for gen, s in self.seconds.items()
        }


def save(path: str, out: dict[str, Any]) -> None:
    """Write the results so far (a few hundred bytes: blocking the loop for it is harmless)."""
    Path(path).write_text(json.dumps(out))


async def scenario(pilot: Any, args: argparse.Namespace, out: dict[str, Any]) -> None:
    from coio.tui.widgets.chat_input import ChatInput
    from coio.tui.widgets.chat_pane import ChatPane

    app = pilot.app
    async with asyncio.timeout(30):
        while True:
            panes = list(app.query(ChatPane))
            if panes and panes[0].connected and panes[0].link_pane.banner:
                break
            await asyncio.sleep(0.01)
    pane = panes[0]
    box = pane.query_one(ChatInput)
    arrivals = Arrivals(pane.transcript)
    paints = Paints(app)
    out["rss_connected_mb"] = rss_mb()
    steps = {
        "before": lambda: responsiveness(app, box, paints),
        "rtt": lambda: rtt_probes(args, pane, box, arrivals),
        "network_burst": lambda: network_burst(args, paints, pane, box, arrivals),
        "echo_burst": lambda: echo_burst(args, paints, pane, arrivals),
        "flood": lambda: flood(args, paints, pane, arrivals, app, box),
        "paced_flood": lambda: paced_flood(args, paints, pane, arrivals, app, box),
        "after": lambda: responsiveness(app, box, paints),
    }
    if not args.burst:
        del steps["network_burst"], steps["echo_burst"]
    if not args.flood:
        del steps["flood"]
    if not args.paced:
        del steps["paced_flood"]
    for name, step in steps.items():
        out["step"] = name  # saved as we go: a step that hangs is named in the results
        save(args.out, out)
        async with asyncio.timeout(STEP_TIMEOUT):
            out[name] = await step()
    out["transcript_lines"] = len(pane.transcript.lines)


async def responsiveness(
    app: Any, box: Any, paints: Paints, keys: int = KEYS, gap: float = 0.02
) -> dict[str, Any]:
    """Key presses as the terminal driver delivers them: time to handled, and to painted.

    A key is handled when the input's value changes (a watcher on it, so the measurement
    adds no polling loop to the app's own); painted at the first frame written after that."""
    from textual import events

    box.focus()
    box.value = ""
    await asyncio.sleep(0.2)
    changed = asyncio.Event()
    moments: list[float] = []

    def value_changed(_value: str) -> None:
        moments.append(time.perf_counter())
        changed.set()

    app.watch(box, "value", value_changed, init=False)
    handled, painted = [], []
    for i in range(keys):
        started = time.perf_counter()
        app._driver.send_message(events.Key("x", "x"))
        while len(box.value) <= i:
            changed.clear()
            await changed.wait()
        done = moments[-1]
        handled.append(done - started)
        painted.append(await paints.first_after(done) - started)
        await asyncio.sleep(gap)
    shown = box.value == "x" * keys
    box.value = ""
    return {"handled": ms_stats(handled), "painted": ms_stats(painted), "keys_shown": shown}


async def rtt_probes(
    args: argparse.Namespace, pane: Any, box: Any, arrivals: Arrivals
) -> dict[str, Any]:
    from coio.tui.widgets.chat_input import ChatInput

    plain = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--plain-client", "--port", str(args.port),
        "--probes", str(args.probes), "--interval", str(args.interval),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    before = len(pane.stats.rtts)
    end_to_end = []
    for i in range(args.probes):
        target = arrivals.count + 1
        started = time.perf_counter()
        box.post_message(ChatInput.Lines(box, [f"ui probe {i:05}"]))
        await arrivals.reach(target)
        end_to_end.append(time.perf_counter() - started)
        await asyncio.sleep(args.interval)
    shown = list(pane.stats.rtts)[before:]
    plain_out, _ = await plain.communicate()
    return {
        "ui_shown": ms_stats(shown),
        "ui_end_to_end": ms_stats(end_to_end),
        "plain": ms_stats(json.loads(plain_out)),
    }


async def network_burst(
    args: argparse.Namespace, paints: Paints, pane: Any, box: Any, arrivals: Arrivals
) -> dict[str, Any]:
    from coio.tui.widgets.chat_input import ChatInput

    target = arrivals.count + args.burst
    lines = [f"burst line {i:06} the quick brown fox" for i in range(args.burst)]
    started = time.perf_counter()
    sent = pane.stats.sent_lines
    for at in range(0, len(lines), OUTBOX_BLOCK):
        # The next block is pasted once the previous one is written: the outbox takes 1,000.
        while pane.stats.sent_lines < sent + at:  # noqa: ASYNC110  (no event to wait on)
            await asyncio.sleep(0.001)
        box.post_message(ChatInput.Lines(box, lines[at : at + OUTBOX_BLOCK]))
    await arrivals.reach(target)
    received = time.perf_counter() - started
    painted = await paints.first_after(arrivals.last) - started
    return {"lines": args.burst, "all_echoed_s": received, "painted_s": painted,
            "mismatches": pane.stats.mismatches}  # fmt: skip


def echo_messages(pane: Any, count: int, first_seq: int) -> Iterator[Any]:
    """``count`` echoes as the trio reader would post them: one Echoes per 64 KiB read, each
    made when it is asked for, so the app's memory is measured without 100,000 waiting."""
    from coio.tui.messages import Echoes, EchoItem

    conn_id = 1
    per_read = READ_BYTES // len(f"ECHO {first_seq:07} THE QUICK BROWN FOX\n")
    for at in range(0, count, per_read):
        items = []
        now = time.time()
        for i in range(first_seq + at, first_seq + min(count, at + per_read)):
            text = f"echo {i:07} the quick brown fox"
            items.append(EchoItem(i, text, text.upper().encode(), True, 0.0004, now))
        yield Echoes(conn_id, items)


async def echo_burst(
    args: argparse.Namespace, paints: Paints, pane: Any, arrivals: Arrivals
) -> dict[str, Any]:
    await asyncio.sleep(0.5)  # let the network burst's last frames go out
    messages = list(echo_messages(pane, args.burst, 1_000_000))
    target = arrivals.count + args.burst
    started = time.perf_counter()
    for message in messages:
        pane.post_message(message)
    await arrivals.reach(target)
    handled = time.perf_counter() - started
    painted = await paints.first_after(arrivals.last) - started
    return {
        "echoes": args.burst,
        "messages": len(messages),
        "handled_s": handled,
        "painted_s": painted,
    }


async def flood(
    args: argparse.Namespace, paints: Paints, pane: Any, arrivals: Arrivals, app: Any, box: Any
) -> dict[str, Any]:
    messages = echo_messages(pane, args.flood, 2_000_000)
    rss = {0: rss_mb()}
    frames = []
    done = 0
    started = time.perf_counter()
    # Keys typed while the flood is painted, timed as before and after the bursts.
    keys = asyncio.create_task(responsiveness(app, box, paints))
    for message in messages:
        tick = time.perf_counter()
        target = arrivals.count + len(message.items)
        pane.post_message(message)
        await arrivals.reach(target)
        frames.append(await paints.first_after(arrivals.last) - tick)
        done += len(message.items)
        for mark in (10_000, 50_000, 100_000):
            if done - len(message.items) < mark <= done:
                rss[mark] = rss_mb()
    seconds = time.perf_counter() - started
    return {"echoes": done, "seconds": seconds, "frame": ms_stats(frames), "rss_mb": rss,
            "during": await keys}  # fmt: skip


async def paced_flood(
    args: argparse.Namespace, paints: Paints, pane: Any, arrivals: Arrivals, app: Any, box: Any
) -> dict[str, Any]:
    """--paced echoes arriving at --rate per second (one read-sized message at a time, on
    schedule, whatever the UI is doing), with keys typed throughout: can a person still type
    while the room floods at that rate?"""
    await asyncio.sleep(0.5)  # let the previous step's last frames go out
    # Made when due, as the trio reader (on the same thread) makes them: 100,000 echoes made
    # up front would be objects the app's collector has to walk that a real run never has.
    messages = echo_messages(pane, args.paced, 3_000_000)
    per_message = READ_BYTES // len(f"ECHO {3_000_000:07} THE QUICK BROWN FOX\n")
    target = arrivals.count + args.paced
    keys_wanted = max(KEYS, int(args.paced / args.rate / PACED_KEY_GAP * 0.8))
    pauses = GcPauses()
    started = time.perf_counter()
    keys = asyncio.create_task(responsiveness(app, box, paints, keys_wanted, PACED_KEY_GAP))
    late = []  # how far behind schedule each message was handed over
    for n, message in enumerate(messages):
        due = started + n * per_message / args.rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        late.append(max(0.0, time.perf_counter() - due))
        pane.post_message(message)
    await arrivals.reach(target)
    handled = time.perf_counter() - started
    during = await keys
    pauses.stop()
    return {"echoes": args.paced, "rate": args.rate, "handled_s": handled,
            "late": ms_stats(late), "during": during, "gc": pauses.summary()}  # fmt: skip


def child(args: argparse.Namespace) -> None:
    if args.plain_gc:  # the app with Python's collector as it comes, for comparison
        gc.freeze = lambda: None
        gc.set_threshold = lambda *thresholds: None
    if args.textual_timer:  # ... and with Textual's own timer loop (see coio.tui.frame_timer)
        from coio.tui import frame_timer

        frame_timer.install = lambda: False
    from coio.tui.app import CoioApp
    from coio.tui.settings import Settings

    out: dict[str, Any] = {}

    async def auto_pilot(pilot: Any) -> None:
        try:
            await scenario(pilot, args, out)
        except BaseException as exc:
            out["error"] = repr(exc)
        finally:
            save(args.out, out)
            pilot.app.exit()

    CoioApp(Settings(port=args.port)).run(auto_pilot=auto_pilot)


# -- the parent: server, pty, report -------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", type=int, default=10_000)
    parser.add_argument("--flood", type=int, default=100_000)
    parser.add_argument("--paced", type=int, default=100_000, help="echoes in the paced flood")
    parser.add_argument("--rate", type=float, default=20_000, help="the paced flood's echoes/s")
    parser.add_argument(
        "--plain-gc",
        action="store_true",
        help="keep the app from tuning its collector (no freeze, Python's thresholds)",
    )
    parser.add_argument(
        "--textual-timer",
        action="store_true",
        help="keep the app from correcting Textual's frame timer (coio.tui.frame_timer)",
    )
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--interval", type=float, default=0.01, help="seconds between probes")
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--plain-client", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.plain_client:
        print(json.dumps(plain_client(args.port, args.probes, args.interval)))
        return 0
    if args.child:
        child(args)
        return 0
    return parent(args)


def parent(args: argparse.Namespace) -> int:
    from pty_terminal import COLUMNS, ROWS, PtyProgram

    server = subprocess.Popen(
        [*program("coio-server"), "--port", "0", "--log-level", "warning"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert server.stdout is not None
    address = parse_listening_line(server.stdout.readline())
    if address is None:
        server.kill()
        raise SystemExit("tui_burst: coio-server did not start")
    port = address[1]
    with tempfile.NamedTemporaryFile(suffix=".json") as result:
        argv = [
            sys.executable, __file__, "--child", "--port", str(port), "--out", result.name,
            "--burst", str(args.burst), "--flood", str(args.flood),
            "--paced", str(args.paced), "--rate", str(args.rate),
            *(["--plain-gc"] if args.plain_gc else []),
            *(["--textual-timer"] if args.textual_timer else []),
            "--probes", str(args.probes), "--interval", str(args.interval),
        ]  # fmt: skip
        app = PtyProgram(argv)
        try:
            app.proc.wait(TIMEOUT)
        finally:
            app.stop()
            server.terminate()
            server.wait(10)
        text = Path(result.name).read_text()
    if not text:
        print("tui_burst: the app wrote no results", file=sys.stderr)
        return 1
    report(json.loads(text), app.painted_bytes(), f"{COLUMNS}x{ROWS}")
    return 0


def line(label: str, s: dict[str, float]) -> str:
    return (
        f"  {label:40} p50 {s['p50_ms']:7.2f} ms  p99 {s['p99_ms']:7.2f} ms"
        f"  max {s['max_ms']:7.2f} ms"
    )


def report(r: dict[str, Any], painted: int, size: str) -> None:
    if "error" in r:
        print(f"tui_burst: step {r.get('step')!r} failed: {r['error']}", file=sys.stderr)

    print(
        f"coio-tui on a {size} pty against a local coio-server ({painted:,} bytes painted in all)"
    )
    if "rtt" in r:
        print(f"RTT, {r['rtt']['plain']['count']} probes one at a time:")
        print(line("shown in the connection pane (trio)", r["rtt"]["ui_shown"]))
        print(line("UI end to end (submit -> transcript)", r["rtt"]["ui_end_to_end"]))
        print(line("plain socket client, other process", r["rtt"]["plain"]))
    if "network_burst" in r:
        b = r["network_burst"]
        print(
            f"network burst: {b['lines']:,} lines pasted in blocks of {OUTBOX_BLOCK:,}:"
            " all echoed in "
            f"{b['all_echoed_s']:.2f} s, painted at {b['painted_s']:.2f} s "
            f"({b['lines'] / b['painted_s']:,.0f} lines/s), {b['mismatches']} mismatches"
        )
    if "echo_burst" in r:
        b = r["echo_burst"]
        print(
            f"echo burst: {b['echoes']:,} echoes in {b['messages']} read-sized messages:"
            " handled in "
            f"{b['handled_s'] * 1000:.0f} ms, painted at {b['painted_s'] * 1000:.0f} ms"
        )
    if "flood" in r:
        f = r["flood"]
        rss = ", ".join(f"{int(k):,}: {v:.0f} MB" for k, v in f["rss_mb"].items())
        print(
            f"flood: {f['echoes']:,} echoes in {f['seconds']:.1f} s "
            f"({f['echoes'] / f['seconds']:,.0f}/s); RSS after N echoes: {rss}"
        )
        print(line("read-sized message -> next frame", f["frame"]))
        print(f"responsiveness during the flood ({KEYS} keys):")
        print(line("key press -> handled", f["during"]["handled"]))
        print(line("key press -> next frame written", f["during"]["painted"]))
    if "paced_flood" in r:
        f = r["paced_flood"]
        print(
            f"paced flood: {f['echoes']:,} echoes at {f['rate']:,.0f}/s, one read-sized message"
            f" on schedule: all handled in {f['handled_s']:.2f} s"
            f" ({f['echoes'] / f['handled_s']:,.0f}/s)"
        )
        print(line("message handed over behind schedule", f["late"]))
        gcs = ", ".join(
            f"gen {gen}: {g['count']} x max {g['max_ms']:.1f} ms" for gen, g in f["gc"].items()
        )
        print(f"  garbage collections meanwhile          {gcs}")
        print(f"responsiveness during the paced flood ({f['during']['painted']['count']} keys):")
        print(line("key press -> handled", f["during"]["handled"]))
        print(line("key press -> next frame written", f["during"]["painted"]))
    for when in ("before", "after"):
        if when in r:
            print(f"responsiveness {when} the bursts ({KEYS} keys):")
            print(line("key press -> handled", r[when]["handled"]))
            print(line("key press -> next frame written", r[when]["painted"]))
    if "transcript_lines" in r:
        print(
            f"transcript lines kept: {r['transcript_lines']:,} (bounded by --history);"
            f" RSS when connected {r['rss_connected_mb']:.0f} MB"
        )


if __name__ == "__main__":
    sys.exit(main())
