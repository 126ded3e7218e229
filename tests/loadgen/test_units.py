"""coio-bench's pure parts: messages and their expected echoes, the round-trip histogram."""

from __future__ import annotations

import random

import pytest

from coio.loadgen.histogram import Histogram, bucket
from coio.loadgen.payload import make_messages
from coio.loadgen.report import as_dict, as_text
from coio.loadgen.results import Summary, WorkerResult
from coio.loadgen.spec import Charset, LoadSpec
from tests.oracle import one_shot_upper


@pytest.mark.parametrize("charset", list(Charset))
@pytest.mark.parametrize("size", [1, 2, 16, 1024, 4099])
def test_messages_have_the_size_and_the_uppercase_echo(charset: Charset, size: int) -> None:
    """Every message is exactly --size bytes ending in a newline; its echo is its uppercase."""
    for message, expected in make_messages(size, charset):
        assert len(message) == size
        assert message.endswith(b"\n")
        message.decode("utf-8")  # never a cut character
        assert expected == one_shot_upper(message)


def test_utf8_expectations_are_the_written_out_uppercase() -> None:
    """The first utf8 messages' echoes are exactly the uppercase bytes written out by hand."""
    assert make_messages(24, Charset.UTF8)[:2] == [
        (
            b"stra\xc3\x9fe \xc3\xa9 \xc7\x86 \xce\x90 \xef\xac\x81 xx\n",
            b"STRASSE \xc3\x89 \xc7\x84 \xce\x99\xcc\x88\xcc\x81 FI XX\n",
        ),
        (
            b"tra\xc3\x9fe \xc3\xa9 \xc7\x86 \xce\x90 \xef\xac\x81 \xe6\xbc\xa2\n",
            b"TRASSE \xc3\x89 \xc7\x84 \xce\x99\xcc\x88\xcc\x81 FI \xe6\xbc\xa2\n",
        ),
    ]


def test_consecutive_messages_differ() -> None:
    """A client's consecutive messages differ, so a stale or repeated echo cannot pass."""
    messages = [m for m, _ in make_messages(16, Charset.ASCII)]
    assert all(a != b for a, b in zip(messages, messages[1:] + messages[:1], strict=True))


def test_utf8_messages_need_full_uppercasing() -> None:
    """utf8 messages hold characters whose uppercase bytes.upper() gets wrong."""
    for message, expected in make_messages(64, Charset.UTF8):
        assert message.upper() != expected


def test_histogram_percentiles_within_one_percent() -> None:
    """Percentiles from the histogram are within 1% of the exact nearest-rank values."""
    rng = random.Random(5)
    samples = [int(rng.lognormvariate(13, 1.2)) for _ in range(20_000)]
    ordered = sorted(samples)
    hist = Histogram.of(samples)
    for q in (0.5, 0.9, 0.99, 0.999):
        exact = ordered[max(1, round(q * len(ordered) + 0.5)) - 1]
        assert exact * 0.99 <= hist.percentile(q) <= exact
    assert hist.percentile(1.0) == hist.max == max(samples)
    assert hist.mean == pytest.approx(sum(samples) / len(samples))


def test_histograms_merge_like_one() -> None:
    """Merging two histograms gives the histogram of all their samples."""
    a, b = list(range(1, 5000, 7)), list(range(3, 90_000, 11))
    merged = Histogram.of(a)
    merged.merge(Histogram.of(b))
    whole = Histogram.of(a + b)
    assert (merged.counts, merged.count, merged.total, merged.max) == (
        whole.counts,
        whole.count,
        whole.total,
        whole.max,
    )


def test_bucket_keeps_small_values_exact() -> None:
    """Values below 2**8 ns keep every bit; larger ones round down by less than 1%."""
    assert [bucket(n) for n in range(256)] == list(range(256))
    for n in (257, 10_000, 123_456_789):
        assert n * 0.99 < bucket(n) <= n


def summary_with(cpu: list[float], cores: int, procs: int) -> Summary:
    """A run of ``procs`` processes, each with 10 clients and 1,000 echoes in a 1 s window."""
    spec = LoadSpec("127.0.0.1", 8080, clients=10 * procs, size=64, duration=1.0, warmup=0.0,
                    rate=None, procs=procs)  # fmt: skip
    parts = [
        WorkerResult("uvloop", connected=10, echoes=1000, wall=1.0, cpu=fraction)
        for fraction in cpu
    ]
    return Summary.merge(spec, cores, parts)


@pytest.mark.parametrize(
    ("cpu", "cores", "bound"),
    [
        ([0.95], 2, True),  # one process, its core saturated
        ([0.5, 0.5], 2, False),  # two processes with a core each, both half idle
        ([0.5, 0.5], 1, True),  # two processes sharing one core: together they fill it
        ([0.6], 1, False),
    ],
)
def test_cpu_bound_verdict(cpu: list[float], cores: int, bound: bool) -> None:
    """The generator is called CPU-bound when a process, or its cores together, are ~full."""
    summary = summary_with(cpu, cores, len(cpu))
    assert summary.cpu_bound is bound
    assert ("was CPU-bound" in as_text(summary)) is bound
    assert as_dict(summary)["generator"]["cpu_bound"] is bound


def test_merge_adds_rates_from_each_process() -> None:
    """Merged echoes/s is the sum of each process's echoes over its own window."""
    summary = summary_with([0.1, 0.1, 0.1], 4, 3)
    assert summary.echoes == 3000
    assert summary.echoes_per_s == pytest.approx(3000)
    assert summary.connected == 30
