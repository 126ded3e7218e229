"""Reference server: one OS thread per connection, blocking sockets (socketserver's shape).

Echoes with bytes.upper(): ASCII only, all the benchmark traffic needs.
"""

from __future__ import annotations

import socket
import socketserver

from _args import BANNER, RECV_BYTES, announce, parse_args

from coio.fds import raise_fd_limit


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.sendall(BANNER)
            while data := sock.recv(RECV_BYTES):
                sock.sendall(data.upper())
        except OSError:
            pass


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 4096
    block_on_close = False


if __name__ == "__main__":
    args = parse_args(__doc__)
    raise_fd_limit()
    with Server((args.host, args.port), Echo) as server:
        announce("threads", server.server_address)
        server.serve_forever()
