"""The coio-tui command line: flags and environment to settings, one clear line on bad input."""

from __future__ import annotations

import subprocess
import sys

import pytest

from coio.programs import program
from coio.tui.cli import parse_command
from coio.tui.limits import MAX_BOT_RATE, MAX_BOTS
from coio.tui.settings import DEFAULT_BOT_RATE


def test_flags_become_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every flag lands in the settings; COIO_HOST / COIO_PORT are the defaults."""
    monkeypatch.setenv("COIO_HOST", "::1")
    monkeypatch.setenv("COIO_PORT", "9000")
    command = parse_command(["--clients", "3", "--bots", "25", "--bot-rate", "2.5"])
    settings = command.settings
    assert (settings.host, settings.port, settings.address) == ("::1", 9000, "[::1]:9000")
    assert (settings.clients, settings.bots, settings.bot_rate) == (3, 25, 2.5)
    assert not command.demo
    assert command.serve is None
    command = parse_command(["--demo", "--history", "500"])
    settings = command.settings
    assert (settings.port, settings.history, settings.bots) == (9000, 500, 0)
    assert settings.bot_rate == DEFAULT_BOT_RATE
    assert command.demo


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--port", "0"], "port must be 1-65535, got 0"),
        (["--port", "http"], "not a port number: 'http'"),
        (["--clients", "33"], "must be 1-32, got 33"),
        (["--bots", str(MAX_BOTS + 1)], f"must be 0-{MAX_BOTS}, got {MAX_BOTS + 1}"),
        (["--bots", "-1"], f"must be 0-{MAX_BOTS}, got -1"),
        (["--bot-rate", "0"], f"must be 0.1-{MAX_BOT_RATE:g}, got 0"),
        (["--bot-rate", "nan"], "must be a finite number, got nan"),
        (["--bot-rate", "fast"], "not a number: 'fast'"),
        (["--history", "5"], "must be 100-1000000, got 5"),
        (["--name", "\x1b[31m"], "--name must be printable text"),
        (["--host", ""], "--host must not be empty"),
        (["--host", "  "], "--host must not be empty"),
        (["--demo", "--host", "example.org"], "--demo starts its own server"),
        (["--demo", "--port", "7000"], "--demo starts its own server"),
    ],
)
def test_bad_flags_exit_2_with_one_line(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad value stops before the UI starts, naming the problem on one line."""
    with pytest.raises(SystemExit) as exit_info:
        parse_command(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert said in err
    assert "Traceback" not in err


def test_bad_environment_port_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """A bad $COIO_PORT is reported as such."""
    monkeypatch.setenv("COIO_PORT", "99999")
    with pytest.raises(SystemExit):
        parse_command([])
    assert "$COIO_PORT: port must be 1-65535, got 99999" in capsys.readouterr().err


def test_real_program_refuses_bad_bots_without_a_traceback() -> None:
    """The installed coio-tui prints usage and one error line, exit 2."""
    done = subprocess.run(
        [*program("coio-tui"), "--bots", "many"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "coio-tui: error: argument --bots: not a whole number: 'many'"
    )
    assert "Traceback" not in done.stderr


def test_help_names_the_demo_address_and_the_exit_statuses(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--help says --demo picks its own address, and what each way out exits with."""
    with pytest.raises(SystemExit):
        parse_command(["--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "not with --host or --port" in help_text
    assert "SIGTERM and SIGHUP quit cleanly with exit status 0" in help_text


def test_the_first_frame_waits_for_no_network_import() -> None:
    """trio, the links and prometheus_client load after the first frame, not with the app."""
    later = ("trio", "prometheus_client", "coio.tui.net.link")
    code = "import sys, coio.tui.app, coio.tui.cli\n"
    code += f"print([m for m in {later} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
