"""--server-metrics and --demo: a server's live figures read from its Prometheus page (with
prometheus_client's parser) into the room bar."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Awaitable, Callable

import pytest
import trio
from hypothesis import given
from hypothesis import strategies as st

from coio.address import parse_metrics_line
from coio.tui.app import CoioApp
from coio.tui.cli import parse_command
from coio.tui.demo import DemoServer
from coio.tui.net import server_metrics
from coio.tui.net.server_metrics import (
    MAX_RESPONSE_BYTES,
    MetricsReader,
    MetricsTarget,
    ScrapeError,
    parse_metrics_url,
    parse_page,
    response_body,
    scrape,
)
from coio.tui.settings import Settings
from coio.tui.widgets.room_bar import RoomBar
from tests.support import ServerProcess, running_server
from tests.tui.pilot_support import wait_for

PAGE = b"""# HELP coio_connections_live Connections open now
# TYPE coio_connections_live gauge
coio_connections_live 3.0
# TYPE coio_connections counter
coio_connections_total 12.0
coio_lines_total 400.0
coio_errors_total{kind="reset"} 2.0
"""


def page(live: bytes = b"3.0", total: bytes = b"12.0", lines: bytes = b"400.0") -> bytes:
    return (
        b"coio_connections_live " + live + b"\ncoio_connections_total " + total + b"\n"
        b"coio_lines_total " + lines + b"\n"
    )


def test_a_real_looking_page_gives_its_unlabelled_samples_and_the_model() -> None:
    """Comments and labelled samples are skipped; the plain samples are read as numbers."""
    assert parse_page(PAGE) == (
        {
            "coio_connections_live": 3.0,
            "coio_connections_total": 12.0,
            "coio_lines_total": 400.0,
        },
        "",
    )
    info = b'# TYPE coio_server_info gauge\ncoio_server_info{model="threads"} 1.0\n'
    assert parse_page(PAGE + info)[1] == "threads"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (b"a 1", {"a": 1.0}),
        (b"a 1 1700000000000", {"a": 1.0}),  # a timestamp is allowed
        (b"a 1e3", {"a": 1000.0}),
        (b'a{b="c d"} 1', {}),  # labelled: not a figure we read
        (b"a 1\na 2", {"a": 1.0}),  # a repeated sample: the first counts
        (b"# a comment\n\n", {}),
    ],
)
def test_plain_samples_are_read(text: bytes, kept: dict[str, float]) -> None:
    """Unlabelled samples become figures; labelled ones and comments are passed over."""
    assert parse_page(text)[0] == kept


@pytest.mark.parametrize(
    "page",
    [
        b"a 1_000",  # float() would take it; Prometheus does not
        b"a 1 x",  # garbage after the value
        b"a",
        b"9a 1",  # not a metric name
        b"a\x1b[31m 1",  # an escape in the name
        b"a 0x10",
        b"\xff\xfe 1",  # not UTF-8
        b'a{b="c} 1',  # an unclosed label
        b"# TYPE a nonsense\na 1",
        b"<html>hello</html>",
        b"SSH-2.0-OpenSSH_9.6\r\n",
    ],
)
def test_a_page_that_does_not_parse_is_one_scrape_error(page: bytes) -> None:
    """A hostile or malformed page is refused whole with one line, never raised on or half-read."""
    with pytest.raises(ScrapeError):
        parse_page(page)


# Characters a Prometheus page is made of, so that random pages come close to parsing.
PAGE_CHARS = 'abc_:{}="#, \t\n\\0123456789.eE+-InfNa'
PAGES = st.text(PAGE_CHARS, max_size=200).map(str.encode) | st.binary(max_size=200)


@given(PAGES)
def test_any_page_gives_figures_or_one_scrape_error(page: bytes) -> None:
    """Whatever a peer serves as its page, reading it gives figures or a ScrapeError, never
    another exception (prometheus_client's parser refuses in several ways; all are caught)."""
    good = PAGE + page
    for candidate in (page, good):
        with contextlib.suppress(ScrapeError):
            MetricsReader().read(candidate, 1.0)


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (page(live=b"NaN"), "coio_connections_live is not a count"),
        (page(live=b"+Inf"), "coio_connections_live is not a count"),
        (page(total=b"-1"), "coio_connections_total is not a count"),
        (page(total=b"1.5"), "coio_connections_total is not a count"),
        (page(lines=b"1e400"), "coio_lines_total is not a count"),  # inf once read
        (page(lines=b"1e30"), "coio_lines_total is not a count"),  # beyond a 64-bit counter
        (b"coio_connections_live 1\n", "no coio_connections_total on the page"),
        (b"", "no coio_connections_live on the page"),
        (b"<html>hello</html>" * 100, "not a Prometheus text page"),
        (b'coio_connections_live{x="1"} 1\n', "no coio_connections_live on the page"),
    ],
)
def test_a_page_without_sound_figures_is_a_scrape_error(bad: bytes, error: str) -> None:
    """A missing, fractional, negative, infinite or NaN figure is refused with one line."""
    with pytest.raises(ScrapeError, match=re.escape(error)):
        MetricsReader().read(bad, 1.0)


def test_the_rate_comes_from_the_lines_counter_between_scrapes() -> None:
    """msgs/s is the lines delta over the time between scrapes; a restart or a miss resets it."""
    reader = MetricsReader()
    first = reader.read(page(lines=b"400"), 10.0)
    assert (first.live, first.total, first.per_second) == (3, 12, None)
    assert reader.read(page(lines=b"450"), 10.5).per_second == 100.0
    assert reader.read(page(lines=b"5"), 11.0).per_second is None  # counter went back: restarted
    assert reader.read(page(lines=b"25"), 12.0).per_second == 20.0
    missed = reader.failed("Connection refused")
    assert missed.unavailable == "Connection refused"
    assert reader.read(page(lines=b"30"), 13.0).per_second is None


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (b"HTTP/1.1 404 Not Found\r\n\r\nno", "HTTP status 404"),
        (b"SSH-2.0-OpenSSH\r\n\r\n", "not an HTTP response"),
        (b"HTTP/1.1 2x0 OK\r\n\r\n", "not an HTTP response"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n", "not a whole HTTP response"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "a response cut short"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nx", "a response cut short"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello", "an encoded"),
        (b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n\x1f\x8b", "an encoded"),
    ],
)
def test_responses_that_are_not_a_plain_200_are_refused(response: bytes, error: str) -> None:
    """Only a whole, plain, 200 HTTP response yields a body."""
    with pytest.raises(ScrapeError, match=re.escape(error)):
        response_body(response)


def test_a_plain_200_response_gives_its_body_up_to_its_length() -> None:
    """The body is cut at Content-Length; without one it runs to the end."""
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
    assert response_body(head + b"Content-Length: 4\r\n\r\nbody and more") == b"body"
    assert response_body(head + b"\r\n" + PAGE) == PAGE


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("http://127.0.0.1:9100/metrics", MetricsTarget("127.0.0.1", 9100, "/metrics")),
        ("HTTP://localhost:9/m?x=1#frag", MetricsTarget("127.0.0.1", 9, "/m?x=1")),
        ("http://[::1]:9100", MetricsTarget("::1", 9100, "/")),
        ("http://127.3.4.5/metrics", MetricsTarget("127.3.4.5", 80, "/metrics")),
    ],
)
def test_loopback_http_urls_are_accepted(url: str, target: MetricsTarget) -> None:
    """A loopback http URL becomes host, port and path (localhost means 127.0.0.1)."""
    assert parse_metrics_url(url) == target


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://127.0.0.1:9/metrics", "must start with http://"),
        ("127.0.0.1:9/metrics", "must start with http://"),
        ("http://10.0.0.1:9/metrics", "must name this machine"),
        ("http://example.org/metrics", "must name this machine"),
        ("http:///metrics", "must name this machine"),
        ("http://user:pw@127.0.0.1:9/", "must not hold a user name or password"),
        ("http://127.0.0.1:99999/", "bad port"),
        ("http://127.0.0.1:0/metrics", "bad port"),
        ("http://127.0.0.1:x/metrics", "bad port"),
        ("http://127.0.0.1:9/a b", "not a plain URL"),
        ("http://127.0.0.1:9/\r\nX: y", "not a plain URL"),
        ("http://127.0.0.1:9/é", "must be ASCII"),
        ("http://127.0.0.1/" + "a" * 3000, "not a plain URL"),
    ],
)
def test_other_urls_are_refused_with_a_reason(url: str, reason: str) -> None:
    """Anything but a loopback http URL is refused, saying why."""
    with pytest.raises(ValueError, match=re.escape(reason)):
        parse_metrics_url(url)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--server-metrics", "http://192.0.2.1/metrics"],
            "argument --server-metrics: must name this machine",
        ),
        (
            ["--demo", "--server-metrics", "http://127.0.0.1:9/metrics"],
            "--demo shows its own server's figures; drop --server-metrics",
        ),
    ],
)
def test_a_bad_server_metrics_flag_is_one_usage_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A refused --server-metrics exits 2 with one line naming the reason."""
    with pytest.raises(SystemExit) as exit_info:
        parse_command(argv)
    assert exit_info.value.code == 2
    last = capsys.readouterr().err.splitlines()[-1]
    assert last.startswith("coio-tui: error: ")
    assert message in last


def test_a_good_server_metrics_flag_reaches_the_command() -> None:
    """--server-metrics URL is parsed into the target the app scrapes."""
    command = parse_command(["--server-metrics", "http://localhost:9100/metrics"])
    assert command.server_metrics == MetricsTarget("127.0.0.1", 9100, "/metrics")
    assert parse_command([]).server_metrics is None


def scrape_fake_peer(answer: Callable[[trio.SocketStream], Awaitable[None]]) -> str:
    """Scrape a one-shot trio peer that answers with ``answer``; the scrape error's text."""

    async def main() -> str:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        port = listeners[0].socket.getsockname()[1]

        async def serve_one() -> None:
            stream = await listeners[0].accept()
            async with stream:
                await answer(stream)

        error = "the scrape succeeded"
        async with trio.open_nursery() as nursery:
            nursery.start_soon(serve_one)
            try:
                await scrape(MetricsTarget("127.0.0.1", port, "/metrics"))
            except ScrapeError as exc:
                error = str(exc)
            nursery.cancel_scope.cancel()
        await listeners[0].aclose()
        return error

    return trio.run(main)


def test_an_endless_answer_is_cut_off_at_the_size_limit() -> None:
    """A peer that never stops talking is read only up to MAX_RESPONSE_BYTES."""

    async def flood(stream: trio.SocketStream) -> None:
        for _ in range(MAX_RESPONSE_BYTES // 1024 + 10):
            await stream.send_all(b"x" * 1024)
        await trio.sleep_forever()

    assert scrape_fake_peer(flood) == f"an answer over {MAX_RESPONSE_BYTES} bytes"


def test_a_silent_peer_is_a_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """A peer that accepts and never answers costs one timeout, then an error line."""
    monkeypatch.setattr(server_metrics, "SCRAPE_TIMEOUT", 0.3)

    async def silent(stream: trio.SocketStream) -> None:
        await trio.sleep_forever()

    started = time.monotonic()
    assert scrape_fake_peer(silent) == "no answer within 0.3 s"
    assert time.monotonic() - started < 2


def test_a_demo_server_names_a_page_that_scrapes() -> None:
    """DemoServer reads its metrics address from its log file and stops cleanly."""
    demo = DemoServer("threads")
    try:
        target = demo.metrics_target
        report = MetricsReader().read(trio.run(scrape, target), 1.0)
        assert (report.live, report.total, report.waiting, report.model) == (0, 0, 0, "threads")
        assert report.threads is not None
        assert report.threads >= 1
        assert report.memory is not None
        assert report.memory > 1_000_000
        log = demo.log_path
        assert parse_metrics_line(log.read_text()) == demo.metrics_url
    finally:
        demo.stop()
    assert demo.proc.returncode == 0
    assert not log.exists()  # its log went with it


def metrics_target(server: ServerProcess) -> MetricsTarget:
    """The metrics page a `coio-server --metrics-port 0` logged."""
    deadline = time.monotonic() + 10
    while (url := parse_metrics_line(server.log())) is None:
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.05)
    return parse_metrics_url(url)


@pytest.mark.timeout(30)
@pytest.mark.asyncio
async def test_room_bar_shows_a_scraped_servers_figures_then_their_loss() -> None:
    """Scraping a real coio-server: its live count and msgs/s in the bar; stopped, 'unavailable'."""
    with running_server("--metrics-port", "0") as server:
        target = metrics_target(server)
        settings = Settings(port=server.port, clients=2, bots=2, bot_rate=20)
        app = CoioApp(settings, server_metrics=target)
        async with app.run_test(size=(120, 34)) as pilot:
            bar = app.query_one(RoomBar)

            def counted() -> bool:
                r = bar.server_report
                return r is not None and r.live == 4 and (r.per_second or 0) > 0

            await wait_for(pilot, counted, 15)
            assert bar.server_report is not None
            assert bar.server_report.total >= 4
            assert "server  gevent · 4 live · 0 waiting · " in bar.render_text().plain
            server.stop()
            await wait_for(
                pilot, lambda: "server  figures unavailable" in bar.render_text().plain, 10
            )
            assert "(Connection refused)" in bar.render_text().plain
