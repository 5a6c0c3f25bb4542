"""The app's one error: it cannot start, and the message says what to fix."""

from __future__ import annotations


class AppError(Exception):
    """The app cannot start: the message says what to fix (exit code 2 at the CLI)."""
