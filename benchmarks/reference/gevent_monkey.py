"""Reference server: the tutorial shape — monkey.patch_all(), accept loop, gevent.spawn per client.

Echoes with bytes.upper(): ASCII only, all the benchmark traffic needs. No TCP_NODELAY, as in
the tutorials (the other servers set it, as asyncio and uvloop do by default).
"""

from gevent import monkey

monkey.patch_all()

import socket  # noqa: E402  (patched by now, as the tutorials do it)

import gevent  # noqa: E402
from _args import BANNER, RECV_BYTES, announce, parse_args  # noqa: E402

from coio.fds import raise_fd_limit  # noqa: E402


def handle(conn):
    try:
        conn.sendall(BANNER)
        while data := conn.recv(RECV_BYTES):
            conn.sendall(data.upper())
    except OSError:
        pass
    finally:
        conn.close()


if __name__ == "__main__":
    args = parse_args(__doc__)
    raise_fd_limit()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((args.host, args.port))
    listener.listen(4096)
    announce("gevent-monkey", listener.getsockname())
    while True:
        conn, _ = listener.accept()
        gevent.spawn(handle, conn)
