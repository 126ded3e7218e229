"""The IO models coio-server can serve with: their names, what each is, and the default.

The one list both sides read: coio-server's ``--model`` (``coio.server.models`` builds each)
and coio-tui's ``--demo --model`` and palette, so the client never imports the server package.
"""

from __future__ import annotations

# name -> one line for --help; the default first.
MODELS = {
    "gevent": "one greenlet per client (gevent's StreamServer and Pool): the default",
    "reactor": "watcher callbacks in gevent's hub, no greenlet per client: the fastest",
    "threads": "one OS thread per client, blocking sockets",
    "select": "one thread multiplexing non-blocking sockets with selectors",
    "blocking": "one client at a time; the rest wait in the listen backlog",
}
DEFAULT_MODEL = "gevent"
