"""What a user can get wrong, as one hierarchy.

The command line prints a :class:`CnnzooError` as one line (exit 2) and lets every other
exception surface as the bug it is. Each class also derives from the built-in exception a
Python caller would expect (``ValueError`` for a bad value, ``FileNotFoundError`` for a missing
file), so ``except ValueError`` keeps working.
"""

from __future__ import annotations

__all__ = ["CnnzooError", "ConfigError", "DataError", "RunError"]


class CnnzooError(Exception):
    """A mistake in what cnnzoo was given: the message says what was wrong and what would be
    right."""


class ConfigError(CnnzooError, ValueError):
    """A value cnnzoo does not accept: an option, an argument, a size, a name."""


class DataError(CnnzooError):
    """A data set or image that is missing, damaged, or not the one a run began with."""


class RunError(CnnzooError):
    """A run folder or checkpoint that cannot be used as asked: held by another process,
    damaged, diverged, or on a disk that refuses the write."""
