"""The Markdown for benchmarks/results/matrix.md, from the data run_matrix.py gathered."""

from __future__ import annotations

from typing import Any

HEADLINE = (1024, 100)  # (size, clients) of the main table, as in the reference figures
BOUND_MARK = "†"


def size_label(size: int) -> str:
    return f"{size // 1024} KiB" if size % 1024 == 0 else f"{size} B"


def _k(rate: float) -> str:
    return f"{rate / 1000:.0f}k" if rate >= 10_000 else f"{rate / 1000:.1f}k"


def _ms(ms: float) -> str:
    return f"{ms:.2f} ms" if ms < 10 else f"{ms:.1f} ms" if ms < 100 else f"{ms:.0f} ms"


def _us(cell: dict[str, Any]) -> str:
    return f"{cell['cpu_us_per_echo']:.1f} µs"


def _ratio(cell: dict[str, Any]) -> str:
    return "-" if cell.get("ratio") is None else f"{cell['ratio']:.2f}x"


def _mark(cell: dict[str, Any]) -> str:
    return (BOUND_MARK if cell["gen_bound"] else "") + ("" if cell["ok"] else " (errors)")


def _median_of(repeats: int) -> str:
    return "one run of" if repeats == 1 else f"the median of {repeats} runs of"


def _spread(cell: dict[str, Any], repeats: int) -> str:
    return "-" if repeats == 1 else f"±{cell['spread'] / 2:.0%}"


def markdown(data: dict[str, Any]) -> str:
    cells = data["cells"]
    servers = list(dict.fromkeys(c["server"] for c in cells))
    configs = sorted({(c["size"], c["clients"]) for c in cells})
    find = {(c["server"], c["size"], c["clients"]): c for c in cells}
    memory = data["memory_per_idle_conn"]
    pin = (
        "server pinned to core 0 and `coio-bench` (one process) to core 1 with `taskset`"
        if data["pinned"]
        else "no CPU pinning"
    )
    out = [
        "# Echo servers side by side",
        "",
        f"**Only ratios from one run count.** On this machine ({data['machine']}) absolute "
        "figures drift between runs (up to ~20%, more when other work shares it); "
        "for each cell the servers took turns back to back (order rotated every repeat), so "
        "drift hits them alike.",
        "",
        f"Measured {data['when']} by `{data['command']}` (took {data['elapsed_s'] / 60:.1f} min): "
        f"{pin}; closed loop (each client waits for its whole echo before sending again), "
        f"ASCII messages, every echo verified; each cell is {_median_of(data['repeats'])} "
        f"{data['duration']:g} s after {data['warmup']:g} s of warm-up. The reference "
        "servers echo with `bytes.upper()` (ASCII only); coio-server uppercases with full "
        "Unicode rules. Memory per idle connection: RSS growth of a fresh server over "
        f"{data['idle']:,} connections that received the banner.",
        "Spread: half the range of the repeats, relative to their median. Server CPU: the "
        "server's CPU time per wall second under load (100% = its core was saturated), and "
        "per echo (that CPU fraction over echoes/s); "
        "generator CPU: the same for coio-bench on its core (both include the kernel's "
        f"loopback TCP work). {BOUND_MARK} the generator was CPU-bound in that cell, so the "
        "figure is a floor for the server.",
        "",
    ]
    if HEADLINE in configs:
        size, clients = HEADLINE
        out += [
            f"| server ({size_label(size)} messages, {clients} clients) | echoes/s "
            "| vs asyncio.Protocol | p99 | memory per idle conn | spread | server CPU "
            "| server CPU per echo | generator CPU |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for server in servers:
            cell = find.get((server, size, clients))
            if cell is None:
                continue
            mem = memory.get(server)
            out.append(
                f"| {server} | {_k(cell['echoes_per_s'])}{_mark(cell)} | {_ratio(cell)} "
                f"| {_ms(cell['p99_ms'])} | {'-' if mem is None else f'{mem / 1000:.1f} kB'} "
                f"| {_spread(cell, data['repeats'])} | {cell['server_cpu']:.0%} "
                f"| {_us(cell)} | {cell['gen_cpu']:.0%} |"
            )
        out.append("")
    heads = " | ".join(f"{size_label(s)}, {c:,} clients" for s, c in configs)
    rule = "|---" * (len(configs) + 1) + "|"
    out += [
        "## echoes/s and ratio to asyncio.Protocol, every cell",
        "",
        f"| server | {heads} |",
        rule,
    ]
    for server in servers:
        row = [
            f"{_k(c['echoes_per_s'])}{_mark(c)} ({_ratio(c)})"
            if (c := find.get((server, *k)))
            else "-"
            for k in configs
        ]
        out.append(f"| {server} | {' | '.join(row)} |")
    out += ["", "## p99 round trip, every cell", "", f"| server | {heads} |", rule]
    for server in servers:
        row = [_ms(c["p99_ms"]) if (c := find.get((server, *k))) else "-" for k in configs]
        out.append(f"| {server} | {' | '.join(row)} |")
    out += [
        "",
        "## Server CPU time per echo, every cell (steadier than echoes/s on a shared machine)",
        "",
        f"| server | {heads} |",
        rule,
    ]
    for server in servers:
        row = [_us(c) if (c := find.get((server, *k))) else "-" for k in configs]
        out.append(f"| {server} | {' | '.join(row)} |")
    out += ["", "![echoes/s and p99 vs clients](matrix.png)", ""]
    return "\n".join(out)
