"""The classroom bots' own process: its figures against the server's own count, bad reports
and crashes as one line, and a life no longer than its parent's."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest
import trio
from textual.message import Message

from coio.tui.app import CoioApp
from coio.tui.limits import MAX_BOTS
from coio.tui.messages import BotsReport
from coio.tui.net.bot_process import BotFigures
from coio.tui.net.bots import STOP_GRACE, BotsProcessFailed, BotSwarm
from coio.tui.settings import Settings
from coio.tui.widgets.room_bar import RoomBar
from tests.support import ServerProcess, running_server, scrape_metrics, wait_until
from tests.tui.pilot_support import Notes, wait_for
from tests.tui.tmux_support import assert_exited_cleanly, tmux, tui_session

BOT_MODULE = "coio.tui.net.bot_process"
PARENT_SCRIPT = Path(__file__).with_name("bots_parent.py")
# A report as the bots' process writes it, spelled out here rather than made by BotFigures.
GOOD_LINE = (
    '{"bots":1,"connected":1,"echoed":7,"per_second":2.5,"p50":0.001,"p99":0.002,'
    '"errors":0,"last_error":"","cpu":0.25}'
)


def bot_children(parent: int) -> list[int]:
    """The bots' processes ``parent`` started that still run, as /proc tells."""
    found = []
    for listing in Path(f"/proc/{parent}/task").glob("*/children"):
        try:
            pids = [int(pid) for pid in listing.read_text().split()]
        except OSError:
            continue
        for pid in pids:
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if BOT_MODULE.encode() in cmdline and not gone(pid):
                found.append(pid)
    return found


def gone(pid: int) -> bool:
    """Whether ``pid`` has exited: reaped, or a zombie (its sockets already closed)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def reaped(pid: int) -> bool:
    """Whether ``pid`` is gone from the process table (its parent has waited for it)."""
    return not Path(f"/proc/{pid}").exists()


def live_clients(server: ServerProcess) -> float:
    return scrape_metrics(server)["coio_connections_live"]


def bot_command(server: ServerProcess, bots: int, *extra: str) -> list[str]:
    return [
        *(sys.executable, "-m", BOT_MODULE, "--bots", str(bots), "--rate", "5"),
        *("--host", server.host, "--port", str(server.port), *extra),
    ]


def read_report(stream: IO[bytes], condition: Callable[[dict[str, object]], bool]) -> None:
    """Read the bots' report lines until one meets ``condition`` (pytest-timeout bounds it)."""
    seen = []
    for line in stream:
        report = json.loads(line)
        if condition(report):
            return
        seen.append(report)
    raise AssertionError(f"the bots' process ended its reports; last ones: {seen[-3:]}")


class Reports:
    """Collects the BotsReports a swarm posts; a trio task can wait for one."""

    def __init__(self) -> None:
        self.seen: list[BotsReport] = []
        self._new = trio.Event()

    def post(self, message: Message) -> None:
        assert isinstance(message, BotsReport)
        self.seen.append(message)
        self._new.set()
        self._new = trio.Event()

    async def until(self, condition: Callable[[BotsReport], bool], within: float = 20) -> int:
        """Wait for a report meeting ``condition``; its index in ``seen``."""
        with trio.move_on_after(within):
            while not (self.seen and condition(self.seen[-1])):
                await self._new.wait()
            return len(self.seen) - 1
        last = vars(self.seen[-1]) if self.seen else "none"
        raise AssertionError(f"no such report within {within} s; the last: {last}")


def test_the_bots_figures_match_what_the_server_counts() -> None:
    """Five bots in their own process: their connected and echoed counts agree with the
    server's /metrics, their rate is paced, and cancelling the swarm ends the process."""
    with running_server("--metrics-port", "0") as server:
        reports = Reports()
        swarm = BotSwarm(5, 20.0, server.host, server.port, reports.post)
        pids: list[int] = []

        async def main() -> None:
            with trio.fail_after(60):
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(swarm.run)
                    await reports.until(lambda r: r.connected == 5 and r.echoed >= 100)
                    assert swarm.pid is not None
                    pids.append(swarm.pid)
                    before = reports.seen[-1]
                    samples = await trio.to_thread.run_sync(scrape_metrics, server)
                    # Two reports on: the one after a scrape may have been written before it.
                    scraped_at = len(reports.seen)
                    await reports.until(lambda _: len(reports.seen) > scraped_at + 1)
                    after = reports.seen[-1]
                    nursery.cancel_scope.cancel()
            assert samples["coio_connections_live"] == 5
            # Each echo the bots count was counted by the server first; at most one line per
            # bot is on its way back at any time.
            assert before.echoed <= samples["coio_lines_total"] <= after.echoed + 5
            assert 0 < after.per_second <= 5 * 20 * 1.5  # paced, never a burst to catch up
            assert after.p50 is not None
            assert after.p99 is not None
            assert 0 < after.p50 <= after.p99
            assert (after.bots, after.errors, after.last_error) == (5, 0, "")

        trio.run(main)
        assert swarm.pid is None
        assert gone(pids[0])
        assert wait_until(lambda: live_clients(server) == 0, 10), scrape_metrics(server)


def test_the_bots_count_the_server_going_away_as_errors() -> None:
    """The server stopped under them: the bots report none connected, an error each at
    least, and why in one line."""
    with running_server() as server:
        reports = Reports()
        swarm = BotSwarm(3, 5.0, server.host, server.port, reports.post)

        async def main() -> None:
            with trio.fail_after(60):
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(swarm.run)
                    await reports.until(lambda r: r.connected == 3)
                    await trio.to_thread.run_sync(server.stop)
                    await reports.until(lambda r: r.connected == 0 and r.errors >= 3)
                    nursery.cancel_scope.cancel()

        trio.run(main)
    last = reports.seen[-1].last_error
    assert last in ("closed by server", "connection refused (is coio-server running?)"), last


def test_bots_that_meet_another_kind_of_server_say_so() -> None:
    """A peer that greets with something other than coio's banner: each bot's session ends
    with "not an echo server", and none counts as connected."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def greet() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return  # the test closed the listener
            conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")
            held.append(conn)

    thread = threading.Thread(target=greet, daemon=True)
    thread.start()
    reports = Reports()
    swarm = BotSwarm(2, 5.0, "127.0.0.1", listener.getsockname()[1], reports.post)

    async def main() -> None:
        with trio.fail_after(30):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(swarm.run)
                await reports.until(lambda r: r.errors >= 2)
                nursery.cancel_scope.cancel()

    try:
        trio.run(main)
    finally:
        listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() (Linux), unlike close()
        listener.close()
        thread.join(5)
        assert not thread.is_alive()
        for conn in held:
            conn.close()
    assert {r.connected for r in reports.seen} == {0}
    assert reports.seen[-1].last_error == "not an echo server"


class ScriptedSwarm(BotSwarm):
    """A swarm whose process is a script standing in for the bots' one."""

    def __init__(self, script: str, post: Callable[[Message], object]) -> None:
        super().__init__(1, 1.0, "127.0.0.1", 9, post)
        self.script = script

    def command(self) -> list[str]:
        return [sys.executable, "-c", self.script]


@pytest.mark.parametrize(
    ("said", "reason"),
    [
        ("print('hello', flush=True)", "sent a bad report: not JSON: b'hello'"),
        ("print('x' * 5000, end='', flush=True)", "sent a line too long to be a report"),
    ],
)
def test_a_bad_report_ends_the_process_with_a_one_line_reason(said: str, reason: str) -> None:
    """What is not a report ends the process (it is not left running) with one line naming
    the fault; the good report it sent first was still posted."""
    script = f"import time; print({GOOD_LINE!r}); {said}; time.sleep(60)"
    reports = Reports()
    pids: list[int | None] = []

    def post(message: Message) -> None:
        pids.append(swarm.pid)
        reports.post(message)

    swarm = ScriptedSwarm(script, post)
    with pytest.raises(BotsProcessFailed) as caught:
        trio.run(swarm.run)
    assert str(caught.value) == f"the bots' process {reason}"
    seen = [(r.bots, r.connected, r.echoed, r.p50, r.errors) for r in reports.seen]
    assert seen == [(1, 1, 7, 0.001, 0)]
    pid = pids[0]
    assert pid is not None
    assert reaped(pid)
    assert swarm.pid is None


@pytest.mark.parametrize(
    ("ending", "reason"),
    [
        ("raise ValueError('boom')", "the bots' process exited with status 1: ValueError: boom"),
        ("import os; os.kill(os.getpid(), 9)", "the bots' process was killed by SIGKILL"),
        ("print('{\"bots\": 1', end='', flush=True)", "the bots' process exited with status 0"),
    ],
)
def test_a_process_that_ends_says_how(ending: str, reason: str) -> None:
    """The process ending on its own is one line: its exit status or signal, and the last
    line it wrote to stderr."""
    reports = Reports()
    swarm = ScriptedSwarm(f"print({GOOD_LINE!r}, flush=True); {ending}", reports.post)
    with pytest.raises(BotsProcessFailed) as caught:
        trio.run(swarm.run)
    assert str(caught.value) == reason
    assert [r.echoed for r in reports.seen] == [7]
    assert swarm.pid is None


def test_a_process_that_ignores_sigterm_is_killed_when_the_swarm_stops() -> None:
    """Cancelling the swarm ends even a process deaf to SIGTERM (SIGKILL after the grace)
    and reaps it."""
    script = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    script += f"print({GOOD_LINE!r}, flush=True); time.sleep(60)"
    reports = Reports()
    swarm = ScriptedSwarm(script, reports.post)
    pids: list[int] = []

    async def main() -> None:
        with trio.fail_after(STOP_GRACE + 20):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(swarm.run)
                await reports.until(lambda r: r.echoed == 7)
                assert swarm.pid is not None
                pids.append(swarm.pid)
                nursery.cancel_scope.cancel()

    trio.run(main)
    assert reaped(pids[0])
    assert swarm.pid is None


def test_the_bots_process_stops_when_nobody_reads_its_figures() -> None:
    """Its stdout's reader gone: its next report fails and it ends, status 0."""
    with running_server() as server:
        command = bot_command(server, 2, "--parent", str(os.getpid()))
        with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE) as proc:
            assert proc.stdout is not None
            read_report(proc.stdout, lambda r: True)
            proc.stdout.close()
            assert proc.wait(10) == 0


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (b"hello", "not JSON: b'hello'"),
        (b"[1, 2]", "not a bots report: b'[1, 2]'"),
        (GOOD_LINE.replace('"cpu":0.25', '"cpu":0.25,"x":1').encode(), "not a bots report"),
        (GOOD_LINE.replace('"echoed":7', '"echoed":-1').encode(), "echoed is not a count: -1"),
        (GOOD_LINE.replace('"echoed":7', '"echoed":true').encode(), "echoed is not a count: True"),
        (GOOD_LINE.replace('"p99":0.002', '"p99":"x"').encode(), "p99 is not a figure: 'x'"),
        (GOOD_LINE.replace('"cpu":0.25', '"cpu":null').encode(), "cpu is not a figure: None"),
        (GOOD_LINE.replace('"per_second":2.5', '"per_second":NaN').encode(), "per_second is not"),
        (GOOD_LINE.replace('"last_error":""', '"last_error":3').encode(), "last_error is not"),
        (b"\xff\xfe", "not JSON"),
    ],
)
def test_a_report_line_is_checked_field_by_field(line: bytes, problem: str) -> None:
    """Each malformed report is refused with a reason naming what is wrong."""
    with pytest.raises(ValueError, match="^" + problem.replace("[", r"\[").replace("(", r"\(")):
        BotFigures.from_line(line)


def test_a_good_report_line_reads_back() -> None:
    """A report line as written reads back field for field."""
    figures = BotFigures.from_line(GOOD_LINE.encode())
    assert (figures.bots, figures.connected, figures.echoed, figures.per_second) == (1, 1, 7, 2.5)
    assert (figures.p50, figures.p99, figures.errors, figures.cpu) == (0.001, 0.002, 0, 0.25)
    assert BotFigures.from_line(figures.to_line()) == figures


def test_the_bots_process_stops_at_end_of_its_stdin() -> None:
    """Its parent alive but its stdin closed: the bots' process ends at once, status 0, and
    the server sees its clients go."""
    with running_server("--metrics-port", "0") as server:
        command = bot_command(server, 2, "--parent", str(os.getpid()))
        with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE) as proc:
            assert proc.stdout is not None
            assert proc.stdin is not None
            read_report(proc.stdout, lambda r: r["connected"] == 2)
            assert live_clients(server) == 2
            proc.stdin.close()
            assert proc.wait(10) == 0
        assert wait_until(lambda: live_clients(server) == 0, 10), scrape_metrics(server)


def test_the_bots_process_ends_with_its_parent_though_its_stdin_stays_open() -> None:
    """Its parent killed while another process holds its stdin open: the kernel's signal or
    the parent check ends the bots' process, and the server sees its clients go."""
    start_child = (
        "import os, subprocess, sys; "
        "child = subprocess.Popen(sys.argv[1:] + ['--parent', str(os.getpid())]); "
        "print(child.pid, flush=True); child.wait()"
    )
    with running_server("--metrics-port", "0") as server:
        command = [sys.executable, "-c", start_child, *bot_command(server, 2)]
        with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE) as parent:
            assert parent.stdout is not None
            child = int(parent.stdout.readline())
            read_report(parent.stdout, lambda r: r["connected"] == 2)  # the child's, inherited
            parent.kill()
            parent.wait(10)
            assert wait_until(lambda: gone(child), 10), f"the bots' process {child} still runs"
        assert wait_until(lambda: live_clients(server) == 0, 10), scrape_metrics(server)


def test_the_bots_process_ends_when_the_swarm_process_is_killed() -> None:
    """A process running BotSwarm is killed with SIGKILL: its bots' process goes too."""
    with running_server("--metrics-port", "0") as server:
        command = [sys.executable, str(PARENT_SCRIPT), server.host, str(server.port), "3"]
        with subprocess.Popen(command, stdout=subprocess.PIPE) as parent:
            assert parent.stdout is not None
            for line in parent.stdout:
                if int(line) == 3:
                    break
            children = bot_children(parent.pid)
            assert len(children) == 1, children
            assert live_clients(server) == 3
            parent.send_signal(signal.SIGKILL)
            parent.wait(10)
            assert wait_until(lambda: gone(children[0]), 10), f"{children[0]} still runs"
        assert wait_until(lambda: live_clients(server) == 0, 10), scrape_metrics(server)


def test_a_parent_it_does_not_have_or_bad_arguments_stop_it_at_once() -> None:
    """Told to live as long as a process that is not its parent, it exits 0 having said
    nothing; a bad argument is one line and status 2."""
    with running_server() as server:
        wrong = bot_command(server, 2, "--parent", str(os.getpid() + 1))
        done = subprocess.run(wrong, capture_output=True, timeout=30, check=False)
        assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
        too_many = bot_command(server, MAX_BOTS + 1, "--parent", str(os.getpid()))
        done = subprocess.run(too_many, capture_output=True, timeout=30, check=False)
    assert done.returncode == 2
    assert done.stdout == b""
    assert (
        done.stderr.decode()
        .splitlines()[-1]
        .endswith(f"error: --bots must be 1-{MAX_BOTS}, got {MAX_BOTS + 1}")
    )


@pytest.mark.asyncio
async def test_a_killed_bots_process_is_shown_and_started_again() -> None:
    """The app's bots' process killed: one error line names it, a new process starts, and
    the server counts its bots again."""
    with running_server("--metrics-port", "0") as server:
        app = CoioApp(Settings(port=server.port, bots=3, bot_rate=5))
        notes = Notes(app)
        async with app.run_test(size=(120, 34)) as pilot:
            bar = app.query_one(RoomBar)

            def all_in() -> bool:
                return bar.bots_report is not None and bar.bots_report.connected == 3

            await wait_for(pilot, all_in, 20, lambda: repr(bar.render_text().plain))
            (first,) = bot_children(os.getpid())
            os.kill(first, signal.SIGKILL)

            def shown() -> list[str]:
                return [(m, s) for m, s in notes.seen if "bots" in m]

            await wait_for(pilot, lambda: bool(shown()), 10, lambda: str(notes.seen))
            assert shown() == [
                ("the bots' process was killed by SIGKILL; restarting the bots", "warning")
            ]

            def restarted() -> bool:
                return [pid for pid in bot_children(os.getpid()) if pid != first] != []

            await wait_for(pilot, restarted, 10, lambda: str(bot_children(os.getpid())))
            bar.bots_report = None
            await wait_for(pilot, all_in, 20, lambda: repr(bar.render_text().plain))
            served = await asyncio.to_thread(wait_until, lambda: live_clients(server) == 4, 10)
            assert served, scrape_metrics(server)  # three bots and the tab, none left over
            assert len(shown()) == 1


@pytest.mark.asyncio
async def test_closing_the_app_ends_its_bots_process() -> None:
    """Quitting the app ends and reaps the bots' process before the app returns."""
    with running_server("--metrics-port", "0") as server:
        app = CoioApp(Settings(port=server.port, bots=4, bot_rate=5))
        async with app.run_test(size=(120, 34)) as pilot:
            bar = app.query_one(RoomBar)
            await wait_for(
                pilot, lambda: bar.bots_report is not None and bar.bots_report.connected == 4, 20
            )
            (child,) = bot_children(os.getpid())
            await pilot.press("ctrl+q")
        assert reaped(child)  # ended and reaped here, not left for init
        assert bot_children(os.getpid()) == []
        gone_from_server = await asyncio.to_thread(
            wait_until, lambda: live_clients(server) == 0, 10
        )
        assert gone_from_server, scrape_metrics(server)


def real_app_with_bots(session: str, server: ServerProcess, bots: int) -> tuple[int, int]:
    """Wait until the server serves the coio-tui in ``session``: its tab and ``bots`` bots;
    return the app's PID and its bots' process's."""
    assert wait_until(lambda: live_clients(server) == bots + 1, 20), scrape_metrics(server)
    shell = int(tmux("display", "-p", "-t", session, "#{pane_pid}"))
    apps = [int(pid) for pid in Path(f"/proc/{shell}/task/{shell}/children").read_text().split()]
    assert len(apps) == 1, apps
    children = bot_children(apps[0])
    assert len(children) == 1, children
    return apps[0], children[0]


@pytest.mark.e2e
@pytest.mark.needs_tool("tmux", "tmux")
def test_the_real_app_killed_takes_its_bots_process_with_it(tmp_path: Path) -> None:
    """kill -9 of a running coio-tui --bots 3: its bots' process ends too, and the server
    sees every client go."""
    with (
        running_server("--metrics-port", "0") as server,
        tui_session("bots-kill", f"--port {server.port} --bots 3", tmp_path / "rc") as session,
    ):
        app, bots = real_app_with_bots(session, server, 3)
        os.kill(app, signal.SIGKILL)
        assert wait_until(lambda: gone(bots), 10), f"the bots' process {bots} outlived the app"
        assert wait_until(lambda: live_clients(server) == 0, 10), scrape_metrics(server)


@pytest.mark.e2e
@pytest.mark.needs_tool("tmux", "tmux")
def test_the_real_app_quit_ends_its_bots_process(tmp_path: Path) -> None:
    """Ctrl+Q in a running coio-tui --bots 3: exit 0, and its bots' process has ended."""
    rc_file = tmp_path / "rc"
    with (
        running_server("--metrics-port", "0") as server,
        tui_session("bots-quit", f"--port {server.port} --bots 3", rc_file) as session,
    ):
        _, bots = real_app_with_bots(session, server, 3)
        tmux("send-keys", "-t", session, "C-q")
        assert_exited_cleanly(session, rc_file)
        assert gone(bots), f"the bots' process {bots} outlived the app"
        assert wait_until(lambda: live_clients(server) == 0, 10), scrape_metrics(server)


@pytest.mark.stress
def test_the_room_holds_ten_thousand_bots() -> None:
    """MAX_BOTS bots at 0.1 lines/s: all of them connected, as the server counts them too."""
    with running_server("--metrics-port", "0", "--max-connections", str(MAX_BOTS + 100)) as server:
        reports = Reports()
        swarm = BotSwarm(MAX_BOTS, 0.1, server.host, server.port, reports.post)

        async def main() -> None:
            with trio.fail_after(120):
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(swarm.run)
                    await reports.until(lambda r: r.connected == MAX_BOTS, within=90)
                    samples = await trio.to_thread.run_sync(scrape_metrics, server)
                    assert samples["coio_connections_live"] == MAX_BOTS
                    await reports.until(lambda r: r.echoed >= MAX_BOTS // 2, within=30)
                    assert reports.seen[-1].connected == MAX_BOTS
                    nursery.cancel_scope.cancel()

        trio.run(main)
        assert wait_until(lambda: live_clients(server) == 0, 30), scrape_metrics(server)
