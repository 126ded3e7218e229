"""The parent process: start the load processes, start them together, gather and merge."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from typing import Any

from .results import Summary
from .spec import LoadSpec
from .worker import worker_main

# Seconds between "all ready" and the common start, so every process starts on time.
START_DELAY = 0.1
# Seconds a process may take beyond the run itself to start, connect and report.
SLACK = 30.0

Progress = Callable[[float, int, int], None]  # (seconds since start, echoes, errors)


class BenchError(Exception):
    """The run could not happen; the message is one line for the user."""


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def run(spec: LoadSpec, progress: Progress | None = None) -> Summary:
    """Run the load described by ``spec`` and return the merged summary."""
    ctx = multiprocessing.get_context("spawn")
    pipes: list[Connection] = []
    procs = []
    for index in range(spec.procs):
        parent_end, child_end = ctx.Pipe()
        proc = ctx.Process(target=worker_main, args=(spec, index, child_end), daemon=True)
        proc.start()
        child_end.close()
        pipes.append(parent_end)
        procs.append(proc)
    try:
        return _coordinate(spec, pipes, progress)
    finally:
        for pipe in pipes:
            pipe.close()
        for proc in procs:
            proc.join(2.0)
            if proc.is_alive():
                proc.terminate()
                proc.join()


def _coordinate(spec: LoadSpec, pipes: list[Connection], progress: Progress | None) -> Summary:
    deadline = time.monotonic() + spec.connect_timeout * 2 + SLACK
    ready = _gather(pipes, "ready", deadline)
    connected = sum(r[0] for r in ready)
    if connected == 0:
        for pipe in pipes:
            pipe.send(("stop",))
        example = next((r[2] for r in ready if r[2]), "no connection succeeded")
        raise BenchError(f"cannot connect to {spec.target}: {example}")
    start = time.monotonic() + START_DELAY
    for pipe in pipes:
        pipe.send(("start", start))
    totals: dict[Connection, tuple[int, int]] = {}

    def on_progress(pipe: Connection, message: tuple[Any, ...]) -> None:
        totals[pipe] = (message[1], message[2])
        if progress is not None:
            echoes = sum(t[0] for t in totals.values())
            errors = sum(t[1] for t in totals.values())
            progress(time.monotonic() - start, echoes, errors)

    deadline = start + spec.warmup + spec.duration + SLACK
    parts = [r[0] for r in _gather(pipes, "result", deadline, on_progress)]
    return Summary.merge(spec, usable_cores(), parts)


def _gather(
    pipes: list[Connection],
    kind: str,
    deadline: float,
    on_progress: Callable[[Connection, tuple[Any, ...]], None] | None = None,
) -> list[tuple[Any, ...]]:
    """Wait for one ``kind`` message from every process; return their payloads in order."""
    got: dict[Connection, tuple[Any, ...]] = {}
    while len(got) < len(pipes):
        left = deadline - time.monotonic()
        if left <= 0:
            raise BenchError(f"the load processes did not report {kind!r} in time")
        for pipe in wait([p for p in pipes if p not in got], timeout=min(left, 0.5)):
            assert isinstance(pipe, Connection)
            try:
                message: tuple[Any, ...] = pipe.recv()
            except EOFError:
                raise BenchError("a load process exited unexpectedly") from None
            if message[0] == "failed":
                raise BenchError(message[1])
            if message[0] == kind:
                got[pipe] = message[1:]
            elif message[0] == "progress" and on_progress is not None:
                on_progress(pipe, message)
    return [got[pipe] for pipe in pipes]
