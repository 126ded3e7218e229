"""Draw benchmarks/results/matrix.png (echoes/s and p99 vs clients) from matrix.json.

.venv/bin/python benchmarks/plot_matrix.py [benchmarks/results/matrix.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, never a window
import matplotlib.pyplot as plt

DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "matrix.json"
HIGHLIGHT = "coio-server"


def size_label(size: int) -> str:
    return f"{size // 1024} KiB" if size % 1024 == 0 else f"{size} B"


def plot(data: dict[str, Any], out: Path) -> None:
    cells = data["cells"]
    sizes = sorted({c["size"] for c in cells})
    servers = list(dict.fromkeys(c["server"] for c in cells))
    fig, axes = plt.subplots(len(sizes), 2, figsize=(12, 4.2 * len(sizes)), squeeze=False)
    for row, size in enumerate(sizes):
        for server in servers:
            mine = sorted(
                (c for c in cells if c["server"] == server and c["size"] == size),
                key=lambda c: c["clients"],
            )
            clients = [c["clients"] for c in mine]
            style: dict[str, Any] = {"marker": "o", "label": server}
            if server == HIGHLIGHT:
                style.update(linewidth=3, color="black", zorder=5)
            axes[row][0].plot(clients, [c["echoes_per_s"] / 1000 for c in mine], **style)
            axes[row][1].plot(clients, [c["p99_ms"] for c in mine], **style)
        for col, what in enumerate(("echoes/s (thousands)", "p99 round trip (ms)")):
            ax = axes[row][col]
            ax.set_xscale("log")
            ax.set_xticks(sorted({c["clients"] for c in cells}))
            ax.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
            ax.set_xlabel("clients (closed loop)")
            ax.set_ylabel(what)
            ax.set_title(f"{size_label(size)} messages: {what}")
            ax.grid(True, alpha=0.3)
            if col == 0:
                ax.set_ylim(bottom=0)
            else:  # p99 spans orders of magnitude between servers: log, labelled plainly
                ax.set_yscale("log")
                ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
                ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=8, frameon=False)
    fig.suptitle(data["title"], fontsize=10)
    fig.tight_layout(rect=(0, 0.06, 1, 1))  # room for the legend below the panels
    fig.savefig(out, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_JSON
    target = source.with_suffix(".png")
    plot(json.loads(source.read_text()), target)
    print(f"wrote {target}")
