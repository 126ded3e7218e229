"""The version is written once (coio.__version__); the installed metadata is built from it."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version

from coio import __version__
from coio.programs import program


def test_installed_metadata_carries_the_packages_version() -> None:
    assert version("coio") == __version__


def test_every_program_reports_the_installed_version() -> None:
    for name in ("coio-server", "coio-tui", "coio-bench"):
        out = subprocess.run(
            [*program(name), "--version"], capture_output=True, text=True, timeout=60, check=True
        )
        assert out.stdout.strip() == f"{name} {version('coio')}", (name, out.stdout, out.stderr)


def test_the_version_is_a_literal_not_read_from_metadata() -> None:
    """Reading importlib.metadata at import cost every program ~30 ms of start-up."""
    code = "import sys, coio; print('importlib.metadata' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
