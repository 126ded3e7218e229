"""coio-server --workers when its parent dies at any moment of start-up: no orphan survives."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from coio.programs import program
from coio.server.logsink import COPIER_NAME
from tests.stress.probe import children, process_name
from tests.support import wait_until

pytestmark = pytest.mark.stress

ITERATIONS = 16
# Here the parent forks its workers some 70-100 ms after it starts, and each worker is serving
# some 100-150 ms later: a kill anywhere in this span lands before, between or after the
# forks, and at any point of a worker's own start-up.
KILL_WITHIN = 0.3
RUN_TAG = "COIO_TEST_RUN"  # in each server's environment, so its workers can be found later


def tagged(tag: str) -> list[int]:
    """Live (not zombie) processes whose environment holds RUN_TAG=tag."""
    needle = f"{RUN_TAG}={tag}\0".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes() and not _zombie(entry):
                found.append(int(entry.name))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


def _zombie(entry: Path) -> bool:
    return "\nState:\tZ" in (entry / "status").read_text()


def test_no_worker_outlives_a_parent_killed_during_start_up() -> None:
    """SIGKILL to the parent at 16 random moments of start-up: no worker survives any of them."""
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    forked_at_kill: list[int] = []
    orphans: dict[int, list[int]] = {}
    for run in range(ITERATIONS):
        tag = f"{os.getpid()}-{run}-{seed}"
        proc = subprocess.Popen(
            [*program("coio-server"), "--port", "0", "--workers", "2"],
            env={**os.environ, RUN_TAG: tag},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        time.sleep(rng.uniform(0, KILL_WITHIN))  # the fault: a kill at a random moment
        forked = [pid for pid in children(proc.pid) if process_name(pid) != COPIER_NAME]
        forked_at_kill.append(len(forked))
        proc.kill()
        proc.wait(10)
        try:
            wait_until(lambda tag=tag: not tagged(tag), 10)
            if left := tagged(tag):
                orphans[run] = left
        finally:
            for pid in tagged(tag):
                os.kill(pid, signal.SIGKILL)
    print(f"\nseed {seed}: workers forked when the parent was killed, per run: {forked_at_kill}")
    assert orphans == {}, f"workers outlived their parent (run: pids): {orphans}"
