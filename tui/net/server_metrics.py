"""A coio-server's live figures from its Prometheus page: fetched over plain trio sockets,
read with prometheus_client's own text parser. Both are imported when first used, not with
this module: the command line and the app's first frame need only the URL checks.

The page is network input: the URL must name this machine, the response is size- and
time-bounded, and a page that does not parse, or whose figures are not sound counts, is one
line in the room bar, never trusted.
"""

from __future__ import annotations

import ipaddress
import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from coio.address import format_address

from ..messages import ServerReport

if TYPE_CHECKING:
    from .connection import Post

SCRAPE_INTERVAL = 1.0  # seconds between scrapes: the room bar's msgs/s is per second
SCRAPE_TIMEOUT = 2.0  # seconds for connect, request and whole response; a stuck peer is a miss
# coio-server's page is a few KiB; a far bigger answer is not it and is not read to the end.
MAX_RESPONSE_BYTES = 64 * 1024
MAX_URL_CHARS = 2048  # a longer URL is a mistake, not a metrics page
MAX_COUNT = 2**63  # a count beyond a 64-bit counter is garbage
MAX_MODEL_CHARS = 24  # a model name longer than this is not one of coio-server's
LIVE = "coio_connections_live"  # gauge: connections open now (being served)
TOTAL = "coio_connections_total"  # counter: connections accepted
LINES = "coio_lines_total"  # counter: lines echoed (the stats line's msgs/s counts these)
WAITING = "coio_clients_waiting"  # gauge: connected, not yet accepted (no banner yet)
THREADS = "coio_threads"  # gauge: the server process's OS threads, as the kernel counts them
MEMORY = "process_resident_memory_bytes"  # gauge: prometheus_client's process collector
INFO = "coio_server_info"  # info: the label model="gevent" names the IO model


class ScrapeError(Exception):
    """The page could not be read or is not a coio-server's; the message is one line."""


@dataclass(frozen=True, slots=True)
class MetricsTarget:
    """Where to scrape: a loopback address, a port and the request path."""

    host: str
    port: int
    path: str

    @property
    def authority(self) -> str:
        return format_address(self.host, self.port)

    @property
    def url(self) -> str:
        return f"http://{self.authority}{self.path}"


def parse_metrics_url(text: str) -> MetricsTarget:
    """A loopback ``http://`` URL as a target; ValueError with a one-line reason otherwise."""
    if len(text) > MAX_URL_CHARS or not text.isprintable() or any(c.isspace() for c in text):
        raise ValueError("not a plain URL")
    parts = urlsplit(text)
    if parts.scheme.lower() != "http":
        raise ValueError(f"must start with http:// (got {text[:40]!r})")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not hold a user name or password")
    host = (parts.hostname or "").lower()
    if host == "localhost":
        host = "127.0.0.1"
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"must name this machine (127.0.0.1, [::1] or localhost), not {host!r}")
    try:
        port = 80 if parts.port is None else parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise ValueError("bad port")
    path = parts.path or "/"
    if parts.query:
        path += f"?{parts.query}"
    if not path.isascii():
        raise ValueError("the path must be ASCII (percent-encode the rest)")
    return MetricsTarget(host, port, path)


def parse_page(page: bytes) -> tuple[dict[str, float], str]:
    """A Prometheus text page, read by prometheus_client's own parser: its unlabelled samples
    (name -> value, the first of each) and the server's model (``coio_server_info``'s label,
    "" without one). ScrapeError if the page does not parse: a page is read whole or not at
    all, never half-trusted.
    """
    try:
        text = page.decode("utf-8")
    except UnicodeDecodeError:
        raise ScrapeError("not UTF-8 text (not a metrics page?)") from None
    from prometheus_client.parser import text_string_to_metric_families

    values: dict[str, float] = {}
    model = ""
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if not sample.labels:
                    values.setdefault(sample.name, float(sample.value))
                elif sample.name == INFO and not model:
                    model = sample.labels.get("model", "")
    except (ValueError, IndexError, KeyError, TypeError):  # the parser's ways to refuse a line
        raise ScrapeError("not a Prometheus text page") from None
    return values, model


def count(samples: dict[str, float], name: str) -> int:
    """Sample ``name`` as a whole, non-negative count; ScrapeError if it is missing or odd."""
    value = samples.get(name)
    if value is None:
        raise ScrapeError(f"no {name} on the page (not a coio-server?)")
    if not math.isfinite(value) or not 0 <= value < MAX_COUNT or not value.is_integer():
        raise ScrapeError(f"{name} is not a count")
    return int(value)


def optional_count(samples: dict[str, float], name: str) -> int | None:
    """Sample ``name`` as a count, or None where the server does not offer it (an older
    coio-server, or --workers' summed page); ScrapeError if it is there but odd."""
    return count(samples, name) if name in samples else None


def response_body(response: bytes) -> bytes:
    """The body of a whole HTTP/1.x response if its status is 200; ScrapeError otherwise."""
    head, blank, body = response.partition(b"\r\n\r\n")
    if not blank:
        raise ScrapeError("not a whole HTTP response")
    status, *headers = head.split(b"\r\n")
    version, _, rest = status.partition(b" ")
    code = rest[:3]
    if not version.startswith(b"HTTP/1.") or not (len(code) == 3 and code.isdigit()):
        raise ScrapeError("not an HTTP response")
    if code != b"200":
        raise ScrapeError(f"HTTP status {code.decode()}")
    for header in headers:
        name, _, value = header.partition(b":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"transfer-encoding" or (name == b"content-encoding" and value != b"identity"):
            raise ScrapeError("an encoded response (only plain text is read)")
        if name == b"content-length":
            if not value.isdigit() or int(value) > len(body):
                raise ScrapeError("a response cut short")
            body = body[: int(value)]
    return body


async def scrape(target: MetricsTarget) -> bytes:
    """GET the page (HTTP/1.0: a plain body, then close); its body, or ScrapeError / OSError."""
    import trio

    request = (
        f"GET {target.path} HTTP/1.0\r\nHost: {target.authority}\r\n"
        "Accept: text/plain\r\nConnection: close\r\n\r\n"
    ).encode("ascii")
    response = bytearray()
    with trio.move_on_after(SCRAPE_TIMEOUT) as scope:
        async with await trio.open_tcp_stream(target.host, target.port) as stream:
            try:
                await stream.send_all(request)
                while chunk := await stream.receive_some(16384):
                    response += chunk
                    if len(response) > MAX_RESPONSE_BYTES:
                        raise ScrapeError(f"an answer over {MAX_RESPONSE_BYTES} bytes")
            except trio.BrokenResourceError:
                raise ScrapeError("the connection broke") from None
    if scope.cancelled_caught:
        raise ScrapeError(f"no answer within {SCRAPE_TIMEOUT:g} s")
    return response_body(bytes(response))


class MetricsReader:
    """Folds successive scrapes into the room bar's figures; msgs/s from the lines counter."""

    def __init__(self) -> None:
        self._last: tuple[int, float] | None = None  # lines echoed, and when that was read

    def read(self, page: bytes, at: float) -> ServerReport:
        """The figures on ``page``, scraped at ``at`` (seconds); ScrapeError if it has none."""
        samples, model = parse_page(page)
        live, total, lines = count(samples, LIVE), count(samples, TOTAL), count(samples, LINES)
        memory = samples.get(MEMORY)
        if memory is not None and not (math.isfinite(memory) and 0 <= memory < MAX_COUNT):
            raise ScrapeError(f"{MEMORY} is not a size")
        per_second = None
        if self._last is not None:
            lines0, at0 = self._last
            if lines >= lines0 and at > at0:  # fewer lines: a restarted server, no rate yet
                per_second = (lines - lines0) / (at - at0)
        self._last = (lines, at)
        return ServerReport(
            live=live,
            total=total,
            per_second=per_second,
            model=model[:MAX_MODEL_CHARS],
            threads=optional_count(samples, THREADS),
            waiting=optional_count(samples, WAITING),
            memory=None if memory is None else int(memory),
        )

    def failed(self, reason: str) -> ServerReport:
        self._last = None
        return ServerReport(live=0, total=0, per_second=None, unavailable=reason)


def failure_reason(error: Exception) -> str:
    """One line for the bar: trio's "all attempts to connect failed" names its single cause."""
    if not isinstance(error, OSError):
        return str(error)
    cause = error.__cause__
    while isinstance(cause, BaseExceptionGroup) and len(cause.exceptions) == 1:
        cause = cause.exceptions[0]
    for oserror in (cause, error):
        if isinstance(oserror, OSError) and oserror.errno:
            return os.strerror(oserror.errno)  # "Connection refused", without the address
    return str(error) or type(error).__name__


async def watch_server_metrics(
    target: MetricsTarget, post: Post, interval: float = SCRAPE_INTERVAL
) -> None:
    """Scrape ``target`` every ``interval`` seconds, posting figures or why there are none."""
    import trio

    reader = MetricsReader()
    while True:
        started = trio.current_time()
        try:
            page = await scrape(target)
            report = reader.read(page, trio.current_time())
        except (OSError, ScrapeError) as error:
            report = reader.failed(failure_reason(error))
        post(report)
        await trio.sleep_until(started + interval)
