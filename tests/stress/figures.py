"""The stress tests' figures, kept in benchmarks/results/stress.txt for README to cite.

Each stress test prints its figures. The autouse fixture ``record_stress_figures`` (used
by tests/stress/conftest.py and by the stress tests elsewhere) still shows them, and also
writes each printed line to ``RESULTS`` after the test's name. The first figure of a run
starts the file afresh, with a header naming the machine.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "stress.txt"

_started = False  # whether this run has started RESULTS afresh


def _machine() -> str:
    model = platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            model = next(
                line.split(":", 1)[1].strip() for line in f if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    return (
        f"{model}, {os.cpu_count()} cores, Python {platform.python_version()},"
        f" Linux {platform.release()}"
    )


def _revision() -> str:
    """The commit measured, as ``git describe`` names it (``-dirty``: with local changes)."""
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=RESULTS.parents[2],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return "an unknown commit"
    return f"commit {done.stdout.strip()}"


def record(test: str, printed: str) -> None:
    """Append each non-empty line of ``printed`` to RESULTS as ``test: line``."""
    global _started
    lines = [f"{test}: {line.strip()}\n" for line in printed.splitlines() if line.strip()]
    if not lines:
        return
    if not _started:
        _started = True
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        RESULTS.write_text(
            f"# coio stress figures, one line per figure, written by `pytest -m stress`"
            f" (tests/stress/figures.py)\n# {stamp}, {_revision()}, on {_machine()}\n"
        )
    with RESULTS.open("a") as f:
        f.writelines(lines)


@pytest.fixture(autouse=True)
def record_stress_figures(request: pytest.FixtureRequest) -> Iterator[None]:
    """A stress test's printed figures: shown as usual, and written to RESULTS."""
    if request.node.get_closest_marker("stress") is None:
        yield
        return
    capsys: pytest.CaptureFixture[str] = request.getfixturevalue("capsys")
    yield
    printed = capsys.readouterr().out
    with capsys.disabled():
        sys.stdout.write(printed)
    record(request.node.nodeid, printed)
