"""Reference server: asyncio Protocol on the default loop.

Echoes with bytes.upper(): ASCII only, all the benchmark traffic needs.
"""

from __future__ import annotations

import asyncio

from _args import BANNER, announce, parse_args

from coio.fds import raise_fd_limit


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        transport.write(BANNER)

    def data_received(self, data):
        self.transport.write(data.upper())


async def main() -> None:
    args = parse_args(__doc__)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Echo, args.host, args.port, backlog=4096)
    announce("asyncio-protocol", server.sockets[0].getsockname())
    await server.serve_forever()


if __name__ == "__main__":
    raise_fd_limit()
    asyncio.run(main())
