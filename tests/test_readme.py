"""README's promises: it opens with the two commands, and CI runs the test command verbatim."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    head = text.split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", head)


def test_readme_opens_with_two_commands() -> None:
    """README's first lines give exactly two commands: the demo, then the tests."""
    commands = _readme_commands()
    assert len(commands) == 2
    demo, tests = commands
    assert "coio-tui --demo" in demo
    assert "[test]" in tests
    assert tests.endswith("pytest")


def test_ci_runs_readme_test_command_verbatim() -> None:
    """.ci/run runs exactly the test command README shows."""
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert _readme_commands()[1] in ci_lines
