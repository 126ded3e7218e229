"""Smoke test of an installed coio wheel, run by that venv's python from outside the checkout.

    VENV/bin/python wheel_smoke.py

Each program is the installed console script beside this interpreter. Checks, each with a
deadline and a message naming what was seen:
1. `coio-server --port 0` answers the classic tutorial client's exchange (literal bytes);
2. `coio-tui --serve --serve-port 0 --demo` serves its page (HTTP 200, the template rendered)
   and one tab's websocket gets the app's first frame;
3. `coio-bench` runs 2 s against the server and exits 0.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, TypeVar

import aiohttp

from coio.address import parse_listening_line, parse_serving_line

BIN = Path(sys.executable).parent
T = TypeVar("T")


def fail(message: str) -> None:
    print(f"wheel smoke test FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def first_line(proc: subprocess.Popen[str], parse: Callable[[str], T | None]) -> T:
    """What ``parse`` (one of the installed coio.address parsers) reads in the first line."""
    assert proc.stdout is not None
    line = proc.stdout.readline()
    found = parse(line)
    if found is None:
        proc.kill()
        fail(f"{proc.args[0]} printed {line!r}, then {proc.communicate(timeout=10)[0]!r}")
    assert found is not None
    return found


def stop(proc: subprocess.Popen[str], name: str) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        fail(f"{name} ignored SIGTERM for 20 s")
    if code != 0:
        fail(f"{name} exited {code} on SIGTERM")


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def check_server(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        banner = recv_exactly(sock, 8)
        if banner != b"welcome!":
            fail(f"banner {banner!r}")
        sock.sendall("hello, straße\n".encode())
        echo = recv_exactly(sock, len(b"HELLO, STRASSE\n"))
        if echo != b"HELLO, STRASSE\n":
            fail(f"echo {echo!r}")
    print("coio-server: banner and echo OK")


async def check_tab(url: str) -> None:
    ws_url = url.replace("http://", "ws://") + "ws?width=100&height=30"
    screen = b""
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as session:
        async with session.get(url, timeout=aiohttp.ClientTimeout(20)) as response:
            page = await response.text()
            if response.status != 200:
                fail(f"page status {response.status}: {page[:300]!r}")
        if "<title>coio</title>" not in page or "{{" in page:
            fail(f"the page's template was not rendered: {page[:300]!r}")
        async with session.ws_connect(ws_url) as ws:
            while b"welcome!" not in screen:  # the tab's first frame shows the verified banner
                left = deadline - time.monotonic()
                if left <= 0:
                    fail(f"no frame with the banner within 60 s: {screen[-300:]!r}")
                message = await ws.receive(timeout=left)
                if message.type != aiohttp.WSMsgType.BINARY:
                    fail(f"websocket sent {message.type!r}: {message.data!r}")
                screen += message.data
    print(f"coio-tui --serve --demo: page {len(page)} B, first frame {len(screen)} B")


def check_server_and_bench(log: IO[str]) -> None:
    server = subprocess.Popen(
        [str(BIN / "coio-server"), "--port", "0"], stdout=subprocess.PIPE, stderr=log, text=True
    )
    try:
        port = first_line(server, parse_listening_line)[1]
        check_server(port)
        bench = subprocess.run(
            [str(BIN / "coio-bench"), "--port", str(port), "--clients", "10", "--duration", "2"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if bench.returncode != 0:
            fail(f"coio-bench exited {bench.returncode}: {bench.stdout}{bench.stderr}")
        rate = [line for line in bench.stdout.splitlines() if "echoes/s" in line]
        print(f"coio-bench: {rate[0].strip() if rate else bench.stdout.strip()}")
    except BaseException:
        log.seek(0)
        print(f"coio-server's log:\n{log.read()}", file=sys.stderr)
        raise
    finally:
        stop(server, "coio-server")


def main() -> None:
    os.chdir("/")  # nowhere near a checkout
    with tempfile.TemporaryFile(mode="w+") as log:  # the server's log, shown if a check fails
        check_server_and_bench(log)
    web = subprocess.Popen(
        [str(BIN / "coio-tui"), "--serve", "--serve-port", "0", "--demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        asyncio.run(check_tab(first_line(web, parse_serving_line)))
    finally:
        stop(web, "coio-tui --serve")
    print("wheel smoke test passed")


if __name__ == "__main__":
    main()
