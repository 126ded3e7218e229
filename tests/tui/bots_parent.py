"""A stand-in parent for the bots' process: BotSwarm under trio.run, as coio-tui runs it.

    python tests/tui/bots_parent.py HOST PORT BOTS

Prints each report's connected count on a line of its own, so a test knows the bots are in
before it kills this process and watches the bots' process go too.
"""

from __future__ import annotations

import sys

import trio
from textual.message import Message

from coio.tui.messages import BotsReport
from coio.tui.net.bots import BotSwarm


def show(message: Message) -> None:
    if isinstance(message, BotsReport):
        print(message.connected, flush=True)


def main() -> None:
    host, port, bots = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    trio.run(BotSwarm(bots, 5.0, host, port, show).run)


if __name__ == "__main__":
    main()
