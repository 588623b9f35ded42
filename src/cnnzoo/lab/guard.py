"""Who may ask the lab, and which files it may read: the loopback or a token, the runs root
and nothing outside it.

The lab binds to the loopback by default. There a page of another site could still reach it
through DNS rebinding (a name of theirs that resolves to 127.0.0.1), so requests must name the
loopback in their ``Host`` header. Bound to any other address it requires the access token it
printed in its URL, as Jupyter does: in the query (``?token=``, then kept in a cookie), or as
``Authorization: token ...``.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
import stat
from pathlib import Path

from cnnzoo.errors import CnnzooError

__all__ = [
    "LOOPBACK_NAMES",
    "PICTURES",
    "TOKEN_COOKIE",
    "Forbidden",
    "NotFound",
    "TooLarge",
    "is_loopback",
    "new_token",
    "own_file",
    "picture_in",
    "pictures_in",
    "plain_name",
    "token_matches",
    "under_root",
]

TOKEN_COOKIE = "cnnzoo_lab_token"
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


class Forbidden(CnnzooError):
    """A request the lab refuses (403): no token, a foreign host, a path outside the root."""


class NotFound(CnnzooError):
    """Nothing of that name (404)."""


class TooLarge(CnnzooError):
    """A request body over the lab's limit (413)."""


def is_loopback(host: str) -> bool:
    """``127.0.0.1``, ``::1`` or ``localhost``: an address only this machine reaches."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    return secrets.token_urlsafe(24)


def token_matches(given: str | None, token: str) -> bool:
    """In constant time, so the token cannot be guessed a character at a time."""
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


def host_of(header: str) -> str:
    """The host of a ``Host`` header, without its port: ``[::1]:8765`` is ``::1``."""
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def plain_name(part: str) -> str:
    """One component of a path a request names: not empty, not ``.`` or ``..``, no
    separators, no control characters; refused otherwise."""
    if not part:
        raise NotFound("an empty name: give a run or an experiment under the runs root")
    if (
        part in (".", "..")
        or "/" in part
        or "\\" in part
        or any(ord(c) < 32 or ord(c) == 127 for c in part)
    ):
        raise Forbidden(f"{part!r} is not a plain name: paths outside the runs root are refused")
    return part


def under_root(root: Path, relative: str) -> Path:
    """``root/relative`` when it is inside ``root`` once every link is followed: ``..``,
    absolute paths and links that lead out are refused (403), a missing file is a 404."""
    if relative.startswith(("/", "\\")) or os.path.isabs(relative):
        raise Forbidden(f"{relative!r}: absolute paths are refused; name a run under the root")
    parts = [plain_name(part) for part in relative.split("/")]
    base = root.resolve()
    path = base.joinpath(*parts)
    try:
        resolved = path.resolve(strict=True)
    except (FileNotFoundError, NotADirectoryError):
        raise NotFound(f"{relative}: no such run or file under the runs root") from None
    except (OSError, RuntimeError) as error:  # a loop of links
        raise Forbidden(f"{relative}: cannot be resolved ({error})") from None
    if not resolved.is_relative_to(base):
        raise Forbidden(f"{relative}: leads outside the runs root (a link); refused")
    return resolved


PICTURES = (".png", ".svg")  # what a page shows of a run's or an experiment's folder


def pictures_in(folder: Path) -> list[str]:
    """The pictures of ``folder`` itself: regular files, not links."""
    return sorted(
        p.name
        for p in folder.iterdir()
        if p.suffix in PICTURES and p.is_file() and not p.is_symlink()
    )


def picture_in(folder: Path, name: str) -> Path:
    """The picture ``name`` of ``folder``: a plain name, a regular file, not a link."""
    if Path(name).suffix not in PICTURES:
        raise NotFound(f"{name}: the lab shows pictures ({', '.join(PICTURES)}) only")
    path = under_root(folder, name)
    if (folder / name).is_symlink() or not path.is_file():
        raise NotFound(f"{name}: not a picture of {folder.name}")
    return path


MAX_FILE = 64 * 2**20  # bytes of a run's own file the lab reads (metrics of long runs fit)


def own_file(root: Path, path: Path, limit: int = MAX_FILE) -> Path:
    """``path`` when it is a regular file of its own inside ``root``: not a link (which could
    lead anywhere), not a device or a pipe (``/dev/zero`` never ends), at most ``limit``
    bytes. A missing file is a 404; anything else is refused (403)."""
    try:
        status = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise NotFound(f"{path.name}: no such file") from None
    if stat.S_ISLNK(status.st_mode) or not stat.S_ISREG(status.st_mode):
        raise Forbidden(f"{path.name}: not a regular file (a link, a device or a pipe); refused")
    if not path.resolve().is_relative_to(root.resolve()):
        raise Forbidden(f"{path.name}: outside the runs root; refused")
    if status.st_size > limit:
        raise Forbidden(f"{path.name}: {status.st_size:,} bytes, more than the lab reads")
    return path
