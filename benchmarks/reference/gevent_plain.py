"""Reference server: gevent StreamServer, plain recv/sendall.

Echoes with bytes.upper(): ASCII only, all the benchmark traffic needs.

No monkey-patching: gevent's own cooperative socket is handed to the handler.
"""

from __future__ import annotations

import socket

from _args import BANNER, RECV_BYTES, announce, parse_args
from gevent.server import StreamServer

from coio.fds import raise_fd_limit


def handle(sock, address):
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.sendall(BANNER)
        while data := sock.recv(RECV_BYTES):
            sock.sendall(data.upper())
    except OSError:
        pass
    finally:
        sock.close()


if __name__ == "__main__":
    args = parse_args(__doc__)
    raise_fd_limit()
    server = StreamServer((args.host, args.port), handle, backlog=4096)
    server.start()
    announce("gevent-plain", server.address)
    server.serve_forever()
