"""coio-tui: the Textual chat client. The only package that imports textual and trio."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("coio")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
