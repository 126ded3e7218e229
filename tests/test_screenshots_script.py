"""screenshots/make_cast.py: a missing tool is named in one line before anything is recorded."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "screenshots" / "make_cast.py"


def run_with_path(path: Path, out: Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, str(SCRIPT), "--out", str(out)]
    env = {"PATH": str(path), "HOME": str(out)}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env, check=False)


def stub(folder: Path, name: str) -> None:
    """An executable called ``name`` that fails if it is ever run."""
    program = folder / name
    program.write_text("#!/bin/sh\nexit 99\n")
    program.chmod(0o755)


def test_without_tmux_it_says_so_in_one_line(tmp_path: Path) -> None:
    """No tmux on PATH: exit 1, one line naming tmux, nothing written."""
    bare = tmp_path / "bin"
    bare.mkdir()
    out = tmp_path / "out"
    done = run_with_path(bare, out)
    assert done.returncode == 1
    assert done.stderr == ("make_cast: tmux not found: install it (Debian: apt-get install tmux)\n")
    assert not out.exists()


def test_without_npm_it_says_so_in_one_line(tmp_path: Path) -> None:
    """tmux and asciinema present but no npm: exit 1, one line naming npm, nothing run."""
    tools = tmp_path / "bin"
    tools.mkdir()
    stub(tools, "tmux")
    stub(tools, "asciinema")  # used only if there is none beside the interpreter
    out = tmp_path / "out"
    done = run_with_path(tools, out)
    assert done.returncode == 1
    assert done.stderr == (
        "make_cast: npm not found: install Node.js and npm (Debian: apt-get install npm)\n"
    )
    assert not out.exists()
