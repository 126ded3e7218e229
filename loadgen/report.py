"""The run's summary as text for people and as JSON for scripts."""

from __future__ import annotations

import json
from typing import Any

from .results import CPU_BOUND_FRACTION, Summary
from .spec import Charset, LoadSpec

NS_PER_MS = 1_000_000
PERCENTILES = {"p50": 0.50, "p90": 0.90, "p99": 0.99, "p999": 0.999}


def rtt_ms(summary: Summary) -> dict[str, float]:
    hist = summary.rtt
    out = {name: hist.percentile(q) / NS_PER_MS for name, q in PERCENTILES.items()}
    out["max"] = hist.max / NS_PER_MS
    out["mean"] = hist.mean / NS_PER_MS
    return {name: round(value, 4) for name, value in out.items()}


def as_dict(summary: Summary) -> dict[str, Any]:
    spec = summary.spec
    mismatch = summary.first_mismatch
    return {
        "target": spec.target,
        "mode": "closed" if spec.closed_loop else "open",
        "clients": spec.clients,
        "size": spec.size,
        "charset": spec.charset.value,
        "duration": spec.duration,
        "warmup": spec.warmup,
        "rate": spec.rate,
        "procs": spec.procs,
        "loop": summary.loop,
        "connected": summary.connected,
        "connect_failures": dict(summary.connect_failures),
        "echoes": summary.echoes,
        "echoes_per_s": round(summary.echoes_per_s, 1),
        "mb_per_s": round(summary.mb_per_s, 3),
        "rtt_ms": rtt_ms(summary),
        "errors": dict(summary.errors),
        "wrong_echo": None
        if mismatch is None
        else {"expected": _show(mismatch[0]), "got": _show(mismatch[1])},
        "scheduled": summary.scheduled,
        "skipped": summary.skipped,
        "generator": {
            "cpu_per_proc": [round(f, 3) for f in summary.cpu_fractions],
            "cpu_load": round(summary.cpu_load, 3),
            "cores": summary.cores,
            "cpu_bound": summary.cpu_bound,
        },
        "ok": summary.ok,
    }


def as_json(summary: Summary) -> str:
    return json.dumps(as_dict(summary), indent=2)


def _show(data: bytes) -> str:
    """Peer bytes for a report line: a Python literal, so control bytes stay visible."""
    return repr(data)


def _ms(ns: float) -> str:
    ms = ns / NS_PER_MS
    return f"{ms:.2f} ms" if ms < 10 else f"{ms:.1f} ms" if ms < 100 else f"{ms:.0f} ms"


def _plural(n: int, word: str, many: str = "") -> str:
    return f"{n:,} {word if n == 1 else many or word + 's'}"


def as_text(summary: Summary) -> str:
    spec = summary.spec
    hist = summary.rtt
    mode = "closed loop" if spec.rate is None else f"open loop at {spec.rate:,.0f}/s"
    warm = f" (+{spec.warmup:g} s warm-up)" if spec.warmup else ""
    lines = [
        f"coio-bench → {spec.target} · {_plural(spec.clients, 'client')} · {spec.size:,} B "
        f"{spec.charset.value} messages · {mode} · {spec.duration:g} s{warm} · "
        f"{_plural(spec.procs, 'process', 'processes')} ({summary.loop})",
        f"echoes/s     {summary.echoes_per_s:,.0f}",
        f"MB/s         {summary.mb_per_s:,.2f} sent, {_echoed(spec)}",
        f"RTT          p50 {_ms(hist.percentile(0.5))} · p99 {_ms(hist.percentile(0.99))}"
        f" · max {_ms(hist.max)}",
        f"verified     {_plural(summary.echoes, 'echo', 'echoes')}"
        f" in the window, {summary.errors.get('wrong echo', 0):,} wrong",
        f"connections  {summary.connected:,} of {spec.clients:,}" + _failures(summary),
        f"errors       {_errors(summary)}",
    ]
    if summary.first_mismatch is not None:
        want, got = summary.first_mismatch
        lines.append(f"wrong echo   expected {_show(want)}, got {_show(got)}")
    if spec.rate is not None:
        lines.append(
            f"schedule     {summary.scheduled:,} due in the window,"
            f" {summary.skipped:,} skipped (connection gone or too far behind)"
        )
    lines.append(_generator(summary))
    return "\n".join(lines)


def _echoed(spec: LoadSpec) -> str:
    if spec.charset is Charset.ASCII:
        return "as much echoed"
    return "a little more echoed (uppercase can be longer: ß -> SS)"


def _failures(summary: Summary) -> str:
    if not summary.connect_failures:
        return ""
    parts = ", ".join(f"{n:,} {why}" for why, n in summary.connect_failures.most_common())
    return f" ({parts})"


def _errors(summary: Summary) -> str:
    if not summary.errors:
        return "none"
    return ", ".join(f"{n:,} {why}" for why, n in summary.errors.most_common())


def _generator(summary: Summary) -> str:
    per = " ".join(f"{f:.0%}" for f in summary.cpu_fractions)
    line = (
        f"generator    CPU {summary.cpu_load:.0%} of {min(summary.spec.procs, summary.cores)}"
        f" usable core(s) (per process: {per})"
    )
    if summary.cpu_bound:
        line += (
            f"\nwarning      the generator was CPU-bound (≥ {CPU_BOUND_FRACTION:.0%} busy):"
            " these figures may measure it rather than the server; add --procs on a machine"
            " with spare cores"
        )
    return line


def verdict(summary: Summary) -> str | None:
    """One line saying why the run is not clean, or None if it is."""
    wrong = summary.errors.get("wrong echo", 0)
    if wrong:
        count = _plural(wrong, "wrong echo", "wrong echoes")
        return f"{count}: the server did not echo the uppercase of what was sent"
    if summary.error_count:
        count = _plural(summary.error_count, "connection")
        return f"{count} broke during the run ({_errors(summary)})"
    if summary.failed_connects:
        return f"{summary.failed_connects:,} of {summary.spec.clients:,} clients could not connect"
    if summary.echoes == 0:
        return "no echo completed in the measured window"
    return None
