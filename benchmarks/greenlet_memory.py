"""The memory one parked greenlet costs: what a greenlet-per-client server pays per idle client.

    .venv/bin/python benchmarks/greenlet_memory.py [--count 8000]

Method: in a fresh process, start --count greenlets that each switch back to the main
greenlet from inside a Python function (as a handler waiting for its client's next read
does), keep them all alive, and divide the growth of the process's resident memory
(/proc/self/status VmRSS) by the count. Three kinds, each in its own process:

- a bare ``greenlet.greenlet`` (no gevent at all);
- a ``gevent.Greenlet`` waiting on the hub (``hub.switch()``), as the gevent model's handler;
- the same, also holding a connected socket pair's gevent socket with a read watcher started.

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

KINDS = {
    "bare": "a bare greenlet.greenlet parked in a Python frame",
    "gevent": "a gevent.Greenlet parked on the hub (hub.switch())",
    "gevent+socket": "the same, holding a gevent socket with a started read watcher",
}


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def measure(kind: str, count: int) -> float:
    """Bytes of resident memory per parked greenlet of ``kind`` (run in a fresh process)."""
    import gc

    import greenlet

    kept: list[object] = []
    if kind == "bare":
        main = greenlet.getcurrent()

        def parked() -> None:
            main.switch()

        gc.collect()
        before = rss_kib()
        for _ in range(count):
            g = greenlet.greenlet(parked)
            g.switch()
            kept.append(g)
    else:
        import socket

        import gevent
        from gevent import socket as gsocket
        from gevent.hub import get_hub

        hub = get_hub()
        pairs = []
        if kind == "gevent+socket":  # made before the first reading: only the serving side counts
            pairs = [socket.socketpair() for _ in range(count)]

        def waiting(i: int) -> None:
            if pairs:
                sock = gsocket.socket(fileno=pairs[i][0].detach())
                watcher = hub.loop.io(sock.fileno(), 1)
                watcher.start(gevent.getcurrent().switch)
                kept.append((sock, watcher))
            hub.switch()

        gc.collect()
        before = rss_kib()
        for i in range(count):
            kept.append(gevent.spawn(waiting, i))
        gevent.sleep(0)  # every greenlet runs up to its wait
        gevent.sleep(0)
    gc.collect()
    return (rss_kib() - before) * 1024 / count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=8_000)
    parser.add_argument("--kind", choices=list(KINDS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.kind:
        print(json.dumps(measure(args.kind, args.count)))
        return 0
    import greenlet

    print(
        f"Resident memory per parked greenlet, {args.count:,} at once "
        f"(Python {sys.version.split()[0]}, greenlet {greenlet.__version__}):"
    )
    for kind, what in KINDS.items():
        out = subprocess.run(
            [sys.executable, __file__, "--kind", kind, "--count", str(args.count)],
            capture_output=True, text=True, check=True, timeout=300,
        )  # fmt: skip
        print(f"  {what:66} {json.loads(out.stdout) / 1000:5.2f} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
