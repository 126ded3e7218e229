"""Reference server: trio.serve_tcp with one task per client.

Echoes with bytes.upper(): ASCII only, all the benchmark traffic needs.
"""

from __future__ import annotations

from functools import partial

import trio
from _args import BANNER, RECV_BYTES, announce, parse_args

from coio.fds import raise_fd_limit


async def handle(stream: trio.SocketStream) -> None:
    try:
        await stream.send_all(BANNER)
        while data := await stream.receive_some(RECV_BYTES):
            await stream.send_all(data.upper())
    except trio.BrokenResourceError:
        pass


async def main() -> None:
    args = parse_args(__doc__)
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(
            partial(trio.serve_tcp, handle, args.port, host=args.host, backlog=4096)
        )
        announce("trio", listeners[0].socket.getsockname())


if __name__ == "__main__":
    raise_fd_limit()
    trio.run(main)
