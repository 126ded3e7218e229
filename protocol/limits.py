"""Wire constants and named limits, each with the reason for its value."""

from __future__ import annotations

# Sent by the server, exactly once, as soon as it accepts: no terminator.
BANNER = b"welcome!"

# Chat lines end with a newline; the server echoes it unchanged.
NEWLINE = b"\n"

# Longest line a client may send, newline excluded. A megabyte of text pasted as one line is
# still a line; anything larger is almost certainly not chat and must not pin memory.
MAX_LINE_BYTES = 1024 * 1024

# Full Unicode uppercasing can grow text: "ΰ" (2 bytes) becomes three code points (6 bytes).
# 3x is the worst case over all of Unicode, so an honest echo never exceeds this.
UPPER_GROWTH = 3

# Longest echoed line the client holds while waiting for its newline. Past it the peer is
# not echoing what we sent, and buffering more would let it grow our memory without bound.
MAX_ECHO_LINE_BYTES = MAX_LINE_BYTES * UPPER_GROWTH
