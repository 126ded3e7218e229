"""Reference server: asyncio streams (StreamReader/Writer).

Echoes with bytes.upper(): ASCII only, all the benchmark traffic needs.
"""

from __future__ import annotations

import asyncio

from _args import BANNER, RECV_BYTES, announce, parse_args

from coio.fds import raise_fd_limit


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(BANNER)
    try:
        while data := await reader.read(RECV_BYTES):
            writer.write(data.upper())
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def main() -> None:
    args = parse_args(__doc__)
    server = await asyncio.start_server(handle, args.host, args.port, backlog=4096)
    announce("asyncio-streams", server.sockets[0].getsockname())
    await server.serve_forever()


if __name__ == "__main__":
    raise_fd_limit()
    asyncio.run(main())
