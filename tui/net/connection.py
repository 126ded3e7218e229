"""One client connection on trio: connect with backoff, then a reader and a writer task."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import trio
from textual.message import Message

from coio.protocol import (
    ClientConnection,
    ClientState,
    Closed,
    Echoed,
    RemoteProtocolError,
    Welcomed,
    WrongBanner,
)

from ..messages import (
    BannerChecked,
    BannerMissing,
    Echoes,
    EchoItem,
    LinesRequeued,
    LinesSent,
    LinesUnanswered,
    LinkState,
    PartFailed,
    ProtocolBroken,
    StateChanged,
    WireChunk,
)
from .backoff import Backoff
from .reasons import describe

# Lines the user may have waiting to be sent (typed while disconnected, or faster than the
# link drains them). Past this the UI refuses the line and keeps it in the input box.
OUTBOX_LINES = 1000
# Bytes of each TCP read or write copied into the wire pane: a flooding peer must not fill
# the UI's message queue with megabytes.
WIRE_PREVIEW_BYTES = 512
RECV_BYTES = 65536
# Lines written in one send: a pasted block goes out in few writes, yet a long outbox still
# interleaves with reading echoes.
WRITE_BATCH_LINES = 256
CONNECT_TIMEOUT = 5.0
# A coio server greets at once; a peer silent this long after accepting (an HTTP server, nc -l)
# is named as not coio. The connection stays open: a late banner still verifies it.
BANNER_TIMEOUT = 5.0
# TCP reads posted to the UI and not yet shown. Past this the reader stops reading, so a
# flooding peer meets TCP backpressure instead of growing the UI's message queue.
MAX_UNSHOWN_READS = 8
# Unsolicited lines (more echoes than lines sent) itemised per read; the rest are counted.
MAX_UNSOLICITED_PER_READ = 20

# How the network side hands a message to the UI (``App.post_message``, ``Widget.post_message``).
Post = Callable[[Message], object]


@dataclass(frozen=True, slots=True)
class Outgoing:
    seq: int
    text: str


@dataclass(slots=True)
class InFlight:
    seq: int
    text: str
    sent_at: float


class ConnectionWorker:
    """The trio side of one connection. Methods without ``async`` run inside trio."""

    def __init__(self, conn_id: int, host: str, port: int, post: Post) -> None:
        self.conn_id = conn_id
        self.host = host
        self.port = port
        self._post = post
        self._outbox_send, self._outbox = trio.open_memory_channel[Outgoing](OUTBOX_LINES)
        self._retry: deque[Outgoing] = deque()  # taken from the outbox, never written
        self._want_connected = True
        self._wake = trio.Event()
        self._session_scope: trio.CancelScope | None = None
        self.backoff = Backoff()
        self.unshown_reads = 0  # reads posted to the UI and not shown yet
        self._caught_up = trio.Event()

    # -- called through the trio token from the UI side --------------------------------

    def enqueue(self, item: Outgoing) -> None:
        """Queue a line; the UI keeps count, so the outbox always has room."""
        self._outbox_send.send_nowait(item)

    def read_shown(self) -> None:
        self.unshown_reads -= 1
        self._caught_up.set()

    def connect_now(self) -> None:
        self._want_connected = True
        self._wake.set()

    def disconnect(self) -> None:
        self._want_connected = False
        if self._session_scope is not None:
            self._session_scope.cancel()
        self._wake.set()

    def failed(self, error: BaseException) -> None:
        """``run`` ended with an unexpected error: tell the tab (it is restarted)."""
        self._session_scope = None
        self._post(PartFailed("connection", f"{error!r}", self.conn_id))

    # -- the connection loop -----------------------------------------------------------

    async def run(self) -> None:
        """Connect, serve, and reconnect with capped backoff until cancelled."""
        while True:
            if not self._want_connected:
                self._state(LinkState.OFFLINE)
                await self._wait_for_wake(None)
                continue
            self._state(LinkState.CONNECTING, f"{self.host}:{self.port}")
            try:
                with trio.fail_after(CONNECT_TIMEOUT):
                    stream = await trio.open_tcp_stream(self.host, self.port)
            except (OSError, trio.TooSlowError) as exc:
                await self._retry_later(describe(exc))
                continue
            self._state(LinkState.CONNECTED, f"{self.host}:{self.port}")
            ended = await self._session(stream)
            if not self._want_connected:
                continue
            if ended is None:
                self._state(LinkState.CLOSED)
            await self._retry_later(ended or "closed by server")

    async def _retry_later(self, reason: str) -> None:
        delay = self.backoff.next_delay()
        self._state(LinkState.WAITING, reason, retry_in=delay)
        await self._wait_for_wake(delay)

    async def _wait_for_wake(self, delay: float | None) -> None:
        with trio.move_on_after(delay if delay is not None else float("inf")):
            await self._wake.wait()
        self._wake = trio.Event()

    def _state(self, state: LinkState, detail: str = "", retry_in: float | None = None) -> None:
        self._post(StateChanged(self.conn_id, state, detail, retry_in))

    async def _session(self, stream: trio.SocketStream) -> str | None:
        """Serve one TCP connection; None if the server closed it, else why it broke."""
        conn = ClientConnection()
        inflight: deque[InFlight] = deque()
        welcomed = trio.Event()
        decided = trio.Event()  # the banner arrived, right or wrong
        head = bytearray()  # bytes received before the banner was decided
        reason: str | None = None
        try:
            async with stream:
                with trio.CancelScope() as scope:
                    self._session_scope = scope
                    async with trio.open_nursery() as nursery:
                        nursery.start_soon(self._writer, stream, conn, inflight, welcomed)
                        nursery.start_soon(self._banner_watch, decided, head)
                        await self._reader(stream, conn, inflight, welcomed, decided, head)
                        nursery.cancel_scope.cancel()
        except* (OSError, trio.BrokenResourceError, trio.ClosedResourceError) as group:
            reason = describe(group.exceptions[0])
        except* RemoteProtocolError as group:
            reason = str(group.exceptions[0])
            self._post(ProtocolBroken(self.conn_id, reason))
        finally:
            self._session_scope = None
            if inflight:  # written, never echoed: the server may have seen them
                self._post(LinesUnanswered(self.conn_id, [(f.seq, f.text) for f in inflight]))
        if reason is None and not self._want_connected:
            return "disconnected"
        return reason

    async def _reader(
        self,
        stream: trio.SocketStream,
        conn: ClientConnection,
        inflight: deque[InFlight],
        welcomed: trio.Event,
        decided: trio.Event,
        head: bytearray,
    ) -> None:
        post, cid = self._post, self.conn_id
        while True:
            while self.unshown_reads >= MAX_UNSHOWN_READS:  # the UI is behind: let it catch up
                self._caught_up = trio.Event()
                await self._caught_up.wait()
            data = await stream.receive_some(RECV_BYTES)
            now = time.perf_counter()
            wall = time.time()
            if data:
                self.unshown_reads += 1
                post(WireChunk(cid, False, data[:WIRE_PREVIEW_BYTES], len(data), wall))
                if not decided.is_set():
                    head += data[:WIRE_PREVIEW_BYTES]
            conn.receive_data(data)
            items: list[EchoItem] = []
            unsolicited = skipped = 0
            for event in conn.events():
                if isinstance(event, Echoed):
                    sent = inflight.popleft() if inflight else None
                    if sent is None:
                        unsolicited += 1
                        if unsolicited > MAX_UNSOLICITED_PER_READ:
                            skipped += 1
                            continue
                    items.append(
                        EchoItem(
                            seq=sent.seq if sent else -1,
                            sent=sent.text if sent else "",
                            echo=event.line,
                            matches=event.matches,
                            rtt=now - sent.sent_at if sent else None,
                            at=wall,
                        )
                    )
                elif isinstance(event, Welcomed):
                    self.backoff.reset()
                    welcomed.set()
                    decided.set()
                    post(BannerChecked(cid, True, event.banner))
                elif isinstance(event, WrongBanner):
                    decided.set()
                    post(BannerChecked(cid, False, event.data))
                elif isinstance(event, Closed):
                    if items or skipped:
                        post(Echoes(cid, items, skipped))
                    return
            if items or skipped:
                post(Echoes(cid, items, skipped))

    async def _banner_watch(self, decided: trio.Event, head: bytearray) -> None:
        with trio.move_on_after(BANNER_TIMEOUT) as scope:
            await decided.wait()
        if scope.cancelled_caught:
            self._post(BannerMissing(self.conn_id, BANNER_TIMEOUT, bytes(head)))

    async def _writer(
        self,
        stream: trio.SocketStream,
        conn: ClientConnection,
        inflight: deque[InFlight],
        welcomed: trio.Event,
    ) -> None:
        # Queued lines wait for the banner: a peer that is not an echo server gets none.
        await welcomed.wait()
        while True:
            batch = [self._retry.popleft() if self._retry else await self._outbox.receive()]
            while len(batch) < WRITE_BATCH_LINES:
                if self._retry:
                    batch.append(self._retry.popleft())
                    continue
                try:
                    batch.append(self._outbox.receive_nowait())
                except trio.WouldBlock:
                    break
            if conn.state is not ClientState.OPEN:
                # The reader saw the stream end while this batch was taken: nothing of it was
                # written, so it goes first next time; the session is being cancelled.
                self._retry.extendleft(reversed(batch))
                await trio.sleep_forever()
            chunks = [conn.send_line(item.text) for item in batch]
            data = b"".join(chunks)
            # Recorded and reported before the write: the echo may arrive before the write
            # returns, and the transcript must show the line before its answer.
            sent_at = time.perf_counter()
            inflight.extend(InFlight(item.seq, item.text, sent_at) for item in batch)
            wall = time.time()
            self._post(WireChunk(self.conn_id, True, data[:WIRE_PREVIEW_BYTES], len(data), wall))
            self._post(LinesSent(self.conn_id, [(i.seq, i.text) for i in batch], wall))
            written = 0
            try:
                view = memoryview(data)
                while written < len(data):
                    # The socket's own send says how much the kernel took: a line any byte of
                    # which left may have reached the server, so it is never written again.
                    written += await stream.socket.send(view[written:])
            except BaseException:
                self._take_back_unwritten(batch, chunks, written, inflight)
                raise

    def _take_back_unwritten(
        self,
        batch: list[Outgoing],
        chunks: list[bytes],
        written: int,
        inflight: deque[InFlight],
    ) -> None:
        """A write failed after ``written`` bytes: the lines none of whose bytes left go back
        to the front of the queue; the others stay in flight (unconfirmed if no echo comes)."""
        start, first_unwritten = 0, len(batch)
        for index, chunk in enumerate(chunks):
            if start >= written:
                first_unwritten = index
                break
            start += len(chunk)
        unwritten = batch[first_unwritten:]
        if not unwritten:
            return
        seqs = {item.seq for item in unwritten}
        # They are the newest in flight; none can have been echoed, as none was written.
        while inflight and inflight[-1].seq in seqs:
            inflight.pop()
        self._retry.extendleft(reversed(unwritten))  # they go first next time
        self._post(LinesRequeued(self.conn_id, len(unwritten)))
