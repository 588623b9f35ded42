"""What a user can get wrong, as one hierarchy.

The command line prints a :class:`CnnzooError` as one line (exit 2) and lets every other
exception surface as the bug it is. Each class also derives from the built-in exception a
Python caller would expect (``ValueError`` for a bad value, ``FileNotFoundError`` for a missing
file), so ``except ValueError`` keeps working.
"""

from __future__ import annotations

import errno

__all__ = [
    "CnnzooError",
    "ConfigError",
    "DataError",
    "NonFiniteLossError",
    "RunError",
    "TrainingInterrupted",
    "cannot_write",
    "disk_full",
    "os_error_text",
]


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


class NonFiniteLossError(RunError, RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) or SIGTERM: a checkpoint was written and the run can be resumed."""


_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG}
_NOT_WRITABLE = {errno.EROFS, errno.EACCES, errno.EPERM}


def disk_full(error: BaseException) -> bool:
    """Whether ``error`` is a disk (or quota) with no room left."""
    return isinstance(error, OSError) and error.errno in _FULL


def cannot_write(error: BaseException) -> bool:
    """Whether ``error`` is the disk refusing a write (full, over quota, read-only, no right)."""
    return isinstance(error, OSError) and error.errno in _FULL | _NOT_WRITABLE


def os_error_text(error: OSError) -> str:
    """A failed read or write in one line: which file, what happened, what would help."""
    if not error.strerror:
        return str(error)  # raised with a message of its own
    name = f"{error.filename}: " if error.filename else ""
    if error.errno in _FULL:
        return f"{name}{error.strerror}; free some space and run the command again"
    if error.errno in _NOT_WRITABLE:
        return f"{name}{error.strerror}; the folder is not writable, choose another"
    return f"{name}{error.strerror}"
