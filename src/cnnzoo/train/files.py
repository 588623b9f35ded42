"""Writing files someone else may have prepared: replace, never follow, and one writer a run.

A run folder can come from anyone (a lab's shared drive, a downloaded archive). Every file
cnnzoo writes is first written to a temporary file beside it, flushed to disk and renamed over
the old one: a link planted at that name is replaced, never written through, and a crash leaves
the old file whole. Writes into a run folder also refuse a name that resolves outside it. A
run folder is held by one process at a time (:class:`RunLock`).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import socket
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, TypeVar

from cnnzoo.errors import RunError, cannot_write, disk_full, os_error_text

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "LOCK",
    "JsonFields",
    "RunFileError",
    "RunLock",
    "RunLockedError",
    "UnsafePathError",
    "cannot_write",
    "keep_copy",
    "os_error_text",
    "read_json",
    "remove_leftovers",
    "replacing",
    "safe_member",
    "write_file",
]

LOCK = ".lock"
_TEMPORARY = ".tmp"


class UnsafePathError(RunError, ValueError):
    """A path that would write, or read, outside the folder it belongs to."""


class RunLockedError(RunError, RuntimeError):
    """Another process is writing to the run folder."""


class RunFileError(RunError, ValueError):
    """A file of a run or experiment folder that is not what cnnzoo writes (edited, damaged)."""


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object cnnzoo wrote (``config.json``, ``summary.json``), or a one-line
    :class:`RunFileError` when the file is damaged or not an object."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise RunFileError(f"{path}: not text ({error.reason} at byte {error.start})") from None
    except json.JSONDecodeError as error:
        raise RunFileError(f"{path}: not JSON ({error.msg}, line {error.lineno})") from None
    if not isinstance(value, dict):
        raise RunFileError(f"{path}: expected a JSON object, found {type(value).__name__}")
    return value


T = TypeVar("T")


class JsonFields:
    """Reads one JSON object's fields by type; a wrong one is a :class:`RunFileError` naming
    the field and the file."""

    def __init__(self, values: object, where: str) -> None:
        if not isinstance(values, dict):
            raise RunFileError(f"{where}: expected an object, found {type(values).__name__}")
        self.values, self.where = values, where

    def get(self, key: str, kind: type | tuple[type, ...]) -> Any:
        if key not in self.values:
            raise RunFileError(f"{self.where}: no {key!r}: not what cnnzoo writes")
        value = self.values[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            wanted = " or ".join("null" if k is type(None) else k.__name__ for k in kinds)
            raise RunFileError(
                f"{self.where}: {key!r} is {type(value).__name__}, expected {wanted}"
            )
        return value

    def number(self, key: str) -> float:
        """A float; JSON's null stands for infinity (a target never reached)."""
        value = self.get(key, (int, float, type(None)))
        return math.inf if value is None else float(value)

    def items(self, key: str, read: Callable[[object, str], T]) -> list[T]:
        values = self.get(key, list)
        return [read(value, f"{self.where}, {key}[{i}]") for i, value in enumerate(values)]


def _inside(path: Path, folder: Path) -> Path:
    """``path`` checked to name an entry directly or deeper inside ``folder`` once every link
    on the way is resolved (the entry itself may be a link: it is replaced, not followed)."""
    parent = path.parent.resolve()
    root = folder.resolve()
    if path.name in ("", ".", "..") or not parent.is_relative_to(root):
        raise UnsafePathError(
            f"{path} resolves to {parent / path.name}, outside the run folder {root}: "
            "refusing to write there"
        )
    return parent / path.name


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (a no-op where folders cannot be opened)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def replacing(
    path: str | os.PathLike[str], mode: str = "wb", inside: Path | None = None
) -> Iterator[IO[Any]]:
    """A file whose content replaces ``path`` when the block ends without an error.

    Written to a temporary file in the same folder, flushed to disk, then renamed: a link at
    ``path`` is replaced by the new file (never followed), and a crash or a full disk leaves
    the old file as it was. With ``inside``, ``path`` must resolve into that folder."""
    target = Path(path)
    if inside is not None:
        target = _inside(target, inside)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=_TEMPORARY, dir=target.parent)
    try:
        encoding = None if "b" in mode else "utf-8"
        with os.fdopen(fd, mode, encoding=encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_folder(target.parent)


def write_file(path: str | os.PathLike[str], data: bytes | str, inside: Path | None = None) -> Path:
    """Write ``data`` to ``path`` by replacing it (see :func:`replacing`)."""
    with replacing(path, "wb" if isinstance(data, bytes) else "w", inside) as handle:
        handle.write(data)
    return Path(path)


def keep_copy(path: Path, copy: Path) -> None:
    """Make ``copy`` the file ``path`` is now, atomically: before ``path`` is replaced, so the
    older version survives. A hard link costs no space until ``path`` is replaced; where links
    are not allowed the bytes are copied."""
    fd, tmp = tempfile.mkstemp(prefix=f".{copy.name}.", suffix=_TEMPORARY, dir=copy.parent)
    os.close(fd)
    os.unlink(tmp)
    try:
        os.link(path, tmp, follow_symlinks=False)
    except OSError as error:
        if disk_full(error):
            raise
        with open(path, "rb") as source, replacing(copy) as target:
            while chunk := source.read(1 << 20):
                target.write(chunk)
        return
    try:
        os.replace(tmp, copy)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_folder(copy.parent)


def safe_member(path: Path, folder: Path) -> bool:
    """Whether ``path`` is a regular file (not a link) inside ``folder``: what may be read from
    a folder someone else made and copied into a report."""
    return (
        path.is_file() and not path.is_symlink() and path.resolve().is_relative_to(folder.resolve())
    )


def remove_leftovers(folder: Path) -> list[Path]:
    """Delete the temporary files that writes killed mid-way left in ``folder``."""
    removed = []
    for leftover in folder.glob(f".*{_TEMPORARY}"):
        if leftover.is_file() and not leftover.is_symlink():
            leftover.unlink(missing_ok=True)
            removed.append(leftover)
    return removed


class RunLock:
    """Exclusive hold on a run folder for one writer, named in ``.lock`` by process and host.

    The lock is the kernel's (``flock``): a run killed by ``kill -9`` holds nothing, so a stale
    ``.lock`` file never blocks the next run.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / LOCK
        self._fd: int | None = None

    def writer(self) -> int | None:
        """The process writing the folder now, if it runs on this machine: the lock names it,
        and a lock left by a killed run names a process that is gone. Reads only: a probe of
        the lock itself could make a run starting at that moment find the folder in use."""
        try:
            # A few bytes, not through a link, never blocking: the lock is cnnzoo's to write,
            # but anyone may have left something else of that name.
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
            try:
                words = os.read(fd, 256).decode("utf-8", errors="replace").split()
            finally:
                os.close(fd)
            pid, host = int(words[0]), words[1]
        except (OSError, ValueError, IndexError):  # no lock, or an empty one: nobody writes
            return None
        if host != socket.gethostname() or pid <= 0:
            return None
        try:
            os.kill(pid, 0)  # signal 0: whether the process exists
        except PermissionError:
            return pid  # another user's, alive
        except OSError:
            return None
        return pid

    def _holder(self) -> str:
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace").split()
        except OSError:
            return "another process"
        pid, host = [*text, "?", "?"][:2]
        return f"process {pid} on {host}"

    def acquire(self) -> RunLock:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.path.is_symlink():
            self.path.unlink()  # a lock is ours to make, never a link to follow
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        try:
            self._lock(fd)
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {socket.gethostname()}\n".encode())
        self._fd = fd
        return self

    def _lock(self, fd: int) -> None:
        if fcntl is None:  # Windows: no flock; one writer a folder is then up to the user
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunLockedError(self._message()) from None

    def _message(self) -> str:
        return (
            f"{self.folder} is in use by {self._holder()}: two runs writing one folder would "
            "mix their checkpoints and metrics. Wait for it to finish, stop it (Ctrl-C keeps "
            "its checkpoint), or train into another folder with --name"
        )

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing drops the flock
            self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
