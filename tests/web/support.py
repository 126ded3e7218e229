"""Run `coio-tui --serve` as a subprocess and watch its process tree through /proc."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

from coio.address import parse_serving_line
from coio.programs import program
from coio.tui.web.options import TOKEN_ENV


@dataclass(frozen=True)
class Proc:
    """A process as /proc shows it; ``started`` (ticks after boot) tells a reused PID apart."""

    pid: int
    ppid: int
    started: int
    state: str
    cmdline: str


def read_proc(pid: int) -> Proc | None:
    """The process ``pid``, or None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # the name in parentheses may hold spaces
    text = cmdline.replace(b"\0", b" ").decode("utf-8", "replace").strip()
    return Proc(pid, int(fields[1]), int(fields[19]), fields[0], text)


def descendants(pid: int) -> list[Proc]:
    """Every live process below ``pid``."""
    procs = [p for n in os.listdir("/proc") if n.isdigit() and (p := read_proc(int(n)))]
    children: dict[int, list[Proc]] = {}
    for proc in procs:
        children.setdefault(proc.ppid, []).append(proc)
    found: list[Proc] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child.pid)
    return found


def still_running(procs: list[Proc]) -> list[Proc]:
    """Those of ``procs`` that still run (same PID and start time, not a zombie)."""
    alive = []
    for proc in procs:
        now = read_proc(proc.pid)
        if now is not None and now.started == proc.started and now.state != "Z":
            alive.append(now)
    return alive


def tab_processes(server_pid: int) -> list[Proc]:
    """The per-tab coio-tui processes under the web server."""
    return [
        p
        for p in descendants(server_pid)
        if "coio-tui" in p.cmdline and "--serve" not in p.cmdline.split()  # not --server-metrics
    ]


def wait_for_tabs(server_pid: int, count: int, within: float = 30.0) -> list[Proc]:
    """Wait until ``count`` tab processes run under the web server."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        tabs = tab_processes(server_pid)
        if len(tabs) >= count:
            return tabs
        time.sleep(0.1)
    raise AssertionError(f"{count} tab processes never started: {descendants(server_pid)}")


@dataclass
class WebServer:
    proc: subprocess.Popen[str]
    url: str

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> tuple[int, str]:
        """Signal the web server, wait for it to exit; its exit code and output."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            out, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate(timeout=5)
            raise AssertionError(f"the web server ignored signal {sig}:\n{out}") from None
        return self.proc.returncode, out


def on_loopback(url: str) -> str:
    """``url`` with its host made 127.0.0.1 (a server bound to 0.0.0.0 names this machine)."""
    parts = urlsplit(url)
    return parts._replace(netloc=f"127.0.0.1:{parts.port}").geturl()


def token_of(url: str) -> str | None:
    """The ?token= in a page's URL, if it has one."""
    return parse_qs(urlsplit(url).query).get("token", [None])[0]


def app_socket_url(page_url: str, **query: str | int | None) -> str:
    """The app socket of the page at ``page_url``, with ``query``; ``token`` defaults to the
    page's own (None: none at all)."""
    query = {"token": token_of(page_url), **query}
    parts = urlsplit(page_url)
    given = {name: value for name, value in query.items() if value is not None}
    return f"ws://{parts.netloc}/ws?{urlencode(given)}"


@contextmanager
def running_web(*args: str, env: Mapping[str, str] | None = None) -> Iterator[WebServer]:
    """Start `coio-tui --serve --serve-port 0 ARGS` (with ``env`` added to its environment);
    wait for its URL; stop it afterwards."""
    cmd = [*program("coio-tui"), "--serve", "--serve-port", "0", *args]
    inherited = {name: value for name, value in os.environ.items() if name != TOKEN_ENV}
    env = {**inherited, "PYTHONUNBUFFERED": "1", **(env or {})}
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )
    assert proc.stdout is not None
    before = ""  # a warning (off loopback) may come first
    url = None
    while url is None:
        line = proc.stdout.readline()  # pytest-timeout bounds a server that never says it
        url = parse_serving_line(line)
        if url is None and (not line or len(before) > 10_000):
            proc.kill()
            rest = proc.communicate(timeout=5)[0]
            raise AssertionError(f"coio-tui --serve did not start: {before + line}{rest}")
        before += line
    server = WebServer(proc, url)
    try:
        yield server
    finally:
        if proc.stdout is not None and not proc.stdout.closed:
            server.stop()  # also reads and closes its output if it already exited
