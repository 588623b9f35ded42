"""Where a data set's files are found, in this order:

1. the ``data_dir`` argument (``--data-dir`` on the command line), the only place looked in
   when it is given;
2. ``$CNNZOO_DATA``, the data set's own directory or a parent holding ``<name>/``;
3. ``/usr/share/datasets/<name>``, where Debian's ``dataset-fashion-mnist`` installs Fashion-MNIST;
4. the user cache ``$XDG_CACHE_HOME/cnnzoo/<name>`` (``~/.cache/cnnzoo/<name>``), where a download
   with torchvision's data set classes lands when nothing else is found.

In each, the files may lie directly, in a ``<name>/`` sub-folder, or where torchvision leaves them
(``FashionMNIST/raw/``, ``cifar-10-batches-py/``, ...)."""

from __future__ import annotations

import os
from pathlib import Path

from cnnzoo.data.catalogue import DataNotFoundError, DatasetSpec, spec_of

__all__ = [
    "ENV_VAR",
    "display_name",
    "file_in",
    "find_files",
    "locate",
]

ENV_VAR = "CNNZOO_DATA"
_DEBIAN_ROOT = Path("/usr/share/datasets")  # where Debian's dataset-* packages install


# ---------------------------------------------------------------------------------------------
# Finding the files


def _cache_root() -> Path:
    # The XDG base directory spec ignores a relative $XDG_CACHE_HOME.
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "cnnzoo"


def _candidates(spec: DatasetSpec, root: Path) -> list[Path]:
    """The directories under ``root`` the files may lie in, in the order they are tried."""
    dirs = [root, root / spec.name]
    dirs += [root / layout for layout in spec.layouts]
    dirs += [root / spec.name / layout for layout in spec.layouts]
    return list(dict.fromkeys(dirs))


def file_in(spec: DatasetSpec, directory: Path, name: str) -> Path | None:
    # IDX files lie gzipped (as published) or not (as torchvision extracts them); the .gz is
    # preferred because its original MD5 is also known.
    names = (name + ".gz", name) if spec.format == "idx" else (name,)
    for candidate in names:
        path = directory / candidate
        if path.is_file():
            return path
    return None


def _search(spec: DatasetSpec, root: Path, needed: tuple[str, ...]) -> tuple[Path | None, str]:
    """The first candidate directory under ``root`` holding every needed file, or what was seen."""
    if not root.is_dir():
        return None, "does not exist" if not root.exists() else "is not a directory"
    partial = []
    for directory in _candidates(spec, root):
        if not directory.is_dir():
            continue
        missing = [n for n in needed if file_in(spec, directory, n) is None]
        if not missing:
            return directory, ""
        if len(missing) < len(needed):
            partial.append(f"{directory} lacks {', '.join(display_name(spec, n) for n in missing)}")
    looked = ", ".join(str(d) for d in _candidates(spec, root))
    return None, f"not in {looked}" + (f" ({'; '.join(partial)})" if partial else "")


def display_name(spec: DatasetSpec, name: str) -> str:
    return f"{name}[.gz]" if spec.format == "idx" else name


def _download(spec: DatasetSpec, root: Path) -> None:
    """Fetch with torchvision's class into ``root``; its errors (no network, a bad checksum)
    propagate."""
    import torchvision.datasets

    root.mkdir(parents=True, exist_ok=True)
    # The test split: the constructor also loads it, and it is the smaller.
    getattr(torchvision.datasets, spec.torchvision)(root=str(root), train=False, download=True)


def find_files(
    spec: DatasetSpec,
    needed: tuple[str, ...],
    data_dir: str | os.PathLike[str] | None,
    download: bool,
) -> Path:
    env = os.environ.get(ENV_VAR) or None
    cache = _cache_root() / spec.name
    debian = f"Debian's location{f' ({spec.debian_package})' if spec.debian_package else ''}"
    places: list[tuple[str, Path | None]] = [
        ("data_dir", Path(data_dir).expanduser() if data_dir is not None else None),
        (f"${ENV_VAR}", Path(env).expanduser() if env else None),
        (debian, _DEBIAN_ROOT / spec.name),
        ("user cache", cache),
    ]
    # A folder the user names is the data asked for: without its files that is an error, not
    # a reason to train on the system's copy while the run records the user's folder.
    asked = [(label, root) for label, root in places[:2] if root is not None]
    if asked:
        label, named = asked[0]
        assert named is not None
        found, seen = _search(spec, named, needed)
        if found is not None:
            return found
        files = ", ".join(display_name(spec, n) for n in needed)
        raise DataNotFoundError(
            f"{spec.title} ({files}) is not in the folder given by {label}, {named}: {seen}. "
            "Only that folder is read when one is named; put the files there, or name none "
            "to use the system's copy or the user cache"
        )
    tried = []
    for label, root in places:
        if root is None:
            tried.append(f"{label}: not set")
            continue
        found, seen = _search(spec, root, needed)
        if found is not None:
            return found
        tried.append(f"{label} {root}: {seen}")
    if download:
        try:
            _download(spec, cache)
        except Exception as error:  # no network, a proxy, a full disk: report it and go on
            reason = " ".join(str(error).split()) or type(error).__name__
            tried.append(f"download (torchvision.datasets.{spec.torchvision}): failed, {reason}")
        else:
            found, seen = _search(spec, cache, needed)
            if found is not None:
                return found
            tried.append(f"download into {cache}: finished, but the files are {seen}")
    else:
        tried.append("download: not attempted (download=False)")
    raise DataNotFoundError(_not_found(spec, needed, tried, cache))


def _not_found(spec: DatasetSpec, needed: tuple[str, ...], tried: list[str], cache: Path) -> str:
    files = ", ".join(display_name(spec, n) for n in needed)
    ways = [
        "pass a directory holding the files: --data-dir DIR on the command line, data_dir=DIR in "
        "Python",
        f"or set {ENV_VAR}=DIR (the data set's directory, or a parent holding {spec.name}/)",
    ]
    if spec.debian_package:
        ways.append(f"or sudo apt-get install {spec.debian_package}")
    ways.append(
        f"or run once on a machine with network access (download=True fetches it into {cache}, "
        f"a folder you can copy); the data set's home: {spec.homepage}"
    )
    return (
        f"{spec.title} ({files}) not found. Tried, in order:\n"
        + "".join(f"  {line}\n" for line in tried)
        + "To get it:\n"
        + "".join(f"  {line}\n" for line in ways)
    ).rstrip()


def locate(
    name: str, data_dir: str | os.PathLike[str] | None = None, download: bool = True
) -> Path:
    """The directory holding every file of the data set, both splits (fetching it if allowed)."""
    spec = spec_of(name)
    return find_files(spec, spec.needed(), data_dir, download)
