"""coio-server behind nginx's stream proxy on loopback: N backends, one port.

Starts N coio-servers and nginx with benchmarks/nginx/coio-stream.conf, checks that clients
through nginx get the banner and their echoes and are spread over the backends, then runs
coio-bench through nginx and straight at one backend. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/server_nginx.py --backends 2 --clients 100 --duration 5
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from string import Template

from servers import start_server

from coio.programs import program

CONF = Path(__file__).resolve().parent / "nginx" / "coio-stream.conf"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def nginx(ports: list[int]) -> Iterator[int]:
    """Run nginx in the foreground with the config filled in; yield its port."""
    listen = free_port()
    with tempfile.TemporaryDirectory() as prefix:
        servers = "\n".join(f"        server 127.0.0.1:{port};" for port in ports)
        text = Template(CONF.read_text()).substitute(
            prefix=prefix, servers=servers, listen=f"127.0.0.1:{listen}"
        )
        conf = Path(prefix) / "nginx.conf"
        conf.write_text(text)
        proc = subprocess.Popen(["nginx", "-p", prefix, "-c", str(conf)], stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    socket.create_connection(("127.0.0.1", listen), timeout=1).close()
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        err = proc.stderr.read().decode() if proc.stderr else ""
                        raise SystemExit(f"nginx did not start: {err.strip()}") from None
                    time.sleep(0.05)
            yield listen
        finally:
            proc.terminate()
            proc.wait(10)


def check(port: int, clients: int) -> None:
    socks = []
    for n in range(clients):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        got = b""
        while len(got) < 8:
            got += sock.recv(8 - len(got))
        line = f"through nginx {n} straße\n".encode()
        sock.sendall(line)
        want = line.decode().upper().encode()
        echo = b""
        while len(echo) < len(want):
            echo += sock.recv(len(want) - len(echo))
        if got != b"welcome!" or echo != want:
            raise SystemExit(f"wrong reply through nginx: {got!r} {echo!r}")
        socks.append(sock)
    for sock in socks:
        sock.close()


def bench(port: int, args: argparse.Namespace) -> dict:
    cmd = [*program("coio-bench"), "--port", str(port), "--clients", str(args.clients)]
    cmd += ["--size", str(args.size), "--duration", str(args.duration), "--procs", "2", "--json"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.duration + 60)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", type=int, default=2)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--duration", type=float, default=5.0)
    args = parser.parse_args()
    if shutil.which("nginx") is None:
        raise SystemExit("nginx is not installed (Debian: nginx-light libnginx-mod-stream)")
    print(f"# {' '.join(sys.argv)}")
    with contextlib.ExitStack() as stack:
        # A log line per connection: how nginx spread them is counted from the logs.
        backends = [
            stack.enter_context(start_server("coio", "--log-level", "info", cpu=None))
            for _ in range(args.backends)
        ]
        port = stack.enter_context(nginx([b.port for b in backends]))
        check(port, 20)
        via = bench(port, args)
        direct = bench(backends[0].port, args)
        for server in backends:
            server.stop()
        logs = [server.log() for server in backends]
    spread = [len(re.findall(r"connect id=", log)) for log in logs]
    print(f"connections per backend (the first also took the direct run): {spread}")
    print("| path | clients | size | echoes/s | p99 ms | errors |")
    print("|---|---|---|---|---|---|")
    for name, r in (("through nginx", via), ("one backend direct", direct)):
        print(
            f"| {name} | {r['clients']} | {r['size']} | {r['echoes_per_s']:,.0f}"
            f" | {r['rtt_ms']['p99']:.2f} | {sum(r['errors'].values())} |"
        )


if __name__ == "__main__":
    main()
