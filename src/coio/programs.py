"""How to run a coio program as a child process.

A program is its console script beside the interpreter (so a process list names it, and it
runs with that environment's packages), else ``python -m`` on its package, for an install
without scripts. Standard library only: the rooms, the tests and the benchmarks all use it.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

# Each console script (pyproject.toml's [project.scripts]) and the package whose __main__
# runs the same entry point.
MODULES = {
    "coio-server": "coio.server",
    "coio-tui": "coio.tui",
    "coio-bench": "coio.loadgen",
}


def program(name: str, python: str | os.PathLike[str] | None = None) -> list[str]:
    """The command that runs coio program ``name`` (``coio-server``, ``coio-tui``,
    ``coio-bench``) with ``python`` (default: this interpreter) and its environment."""
    if name not in MODULES:
        raise ValueError(f"not a coio program: {name!r} (one of {', '.join(MODULES)})")
    interpreter = Path(sys.executable if python is None else python)
    script = interpreter.parent / name
    if script.exists():
        return [str(script)]
    return [str(interpreter), "-m", MODULES[name]]


def with_parent_death_signal(argv: list[str]) -> list[str]:
    """Prefix ``argv`` so the kernel sends it SIGTERM when this process dies, even by SIGKILL.

    ``setpriv`` (util-linux) sets the signal and then execs ``argv``, so the PID stays the
    child's. Where it is missing (not Linux) the parent's orderly stop still applies.
    """
    setpriv = shutil.which("setpriv")
    return argv if setpriv is None else [setpriv, "--pdeathsig", "TERM", "--", *argv]
