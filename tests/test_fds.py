"""coio.fds: the open-file limit is raised as far as asked and allowed, never lowered."""

from __future__ import annotations

import resource

import pytest

from coio import fds

INF = resource.RLIM_INFINITY


class FakeLimits:
    """Stands in for getrlimit/setrlimit on RLIMIT_NOFILE; ``refuse`` makes setrlimit fail."""

    def __init__(self, soft: int, hard: int, refuse: bool = False) -> None:
        self.limits = (soft, hard)
        self.refuse = refuse

    def getrlimit(self, which: int) -> tuple[int, int]:
        assert which == resource.RLIMIT_NOFILE
        return self.limits

    def setrlimit(self, which: int, limits: tuple[int, int]) -> None:
        assert which == resource.RLIMIT_NOFILE
        if self.refuse:
            raise ValueError("current limit exceeds maximum limit")
        self.limits = limits


@pytest.mark.parametrize(
    ("soft", "hard", "wanted", "refuse", "now", "limits"),
    [
        (1024, 4096, 2000, False, 2000, (2000, 4096)),
        (1024, 4096, 9000, False, 4096, (4096, 4096)),
        (1024, 4096, None, False, 4096, (4096, 4096)),
        (4096, 4096, 100, False, 4096, (4096, 4096)),  # never lowered
        (1024, INF, 5000, False, 5000, (5000, INF)),
        (1024, INF, None, False, None, (INF, INF)),
        (1024, INF, None, True, 1024, (1024, INF)),  # refused (macOS): left as it was
        (INF, INF, 5000, False, None, (INF, INF)),
    ],
)
def test_raise_fd_limit(
    monkeypatch: pytest.MonkeyPatch,
    soft: int,
    hard: int,
    wanted: int | None,
    refuse: bool,
    now: int | None,
    limits: tuple[int, int],
) -> None:
    """The soft limit goes to what is wanted, capped by the hard one; None means unlimited."""
    fake = FakeLimits(soft, hard, refuse)
    monkeypatch.setattr(fds.resource, "getrlimit", fake.getrlimit)
    monkeypatch.setattr(fds.resource, "setrlimit", fake.setrlimit)
    assert fds.raise_fd_limit(wanted) == now
    assert fake.limits == limits
    assert fds.fd_ceiling() == (None if hard == INF else hard)
