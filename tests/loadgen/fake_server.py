"""A deliberately small echo server for coio-bench's tests, run as a subprocess.

    python fake_server.py MODE

MODE: ``upper`` echoes bytes.upper() (right for ASCII only), ``same`` echoes unchanged (wrong),
``banner`` greets like an SSH server, ``close`` hangs up after its 20th line, ``silent`` accepts
and never says a word.
It prints its port, then on SIGTERM the number of newline-terminated lines it received.
"""

from __future__ import annotations

import asyncio
import signal
import sys

MODES = ("upper", "same", "banner", "close", "silent")
CLOSE_AFTER_LINES = 20
lines_received = 0


class Fake(asyncio.Protocol):
    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.lines = 0

    def connection_made(self, transport):
        self.transport = transport
        if self.mode == "banner":
            transport.write(b"SSH-2.0-OpenSSH_9.6\r\n")
        elif self.mode != "silent":
            transport.write(b"welcome!")

    def data_received(self, data):
        global lines_received
        count = data.count(b"\n")
        lines_received += count
        self.lines += count
        if self.mode == "close" and self.lines >= CLOSE_AFTER_LINES:
            self.transport.close()
        elif self.mode == "same":
            self.transport.write(data)
        else:
            self.transport.write(data.upper())


async def main(mode: str) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Fake(mode), "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    server.close()
    print(lines_received, flush=True)


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in MODES:
        sys.exit(f"usage: fake_server.py {{{','.join(MODES)}}}")
    asyncio.run(main(sys.argv[1]))
