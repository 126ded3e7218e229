"""This process's limit on open files (RLIMIT_NOFILE).

A server or load generator holds a descriptor per connection, and the usual soft limit
(1024) is far below the thousands they open: they raise it, up to the hard limit, first.
"""

from __future__ import annotations

import resource

UNLIMITED = resource.RLIM_INFINITY


def fd_ceiling() -> int | None:
    """The hard limit on open files, as far as `raise_fd_limit` can go; None if unlimited."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    return None if hard == UNLIMITED else hard


def raise_fd_limit(wanted: int | None = None) -> int | None:
    """Raise the soft limit on open files to ``wanted`` (default: as far as it goes), capped
    by the hard limit; never lower it. Return the soft limit now in force, None if unlimited.

    Where the system refuses (macOS caps it below an unlimited hard limit), it stays as it was.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == UNLIMITED:
        return None
    target = hard if wanted is None or (hard != UNLIMITED and wanted > hard) else wanted
    if target != UNLIMITED and target <= soft:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):
        return soft
    return None if target == UNLIMITED else target
