"""Where the data sets come from, and proof that the files are whole.

Fashion-MNIST, MNIST, CIFAR-10 and CIFAR-100 are read from the files their publishers ship (IDX,
gzipped or not, and CIFAR's pickled Python batches), looked for in this order:

1. the ``data_dir`` argument (``--data-dir`` on the command line);
2. ``$CNNZOO_DATA``, the data set's own directory or a parent holding ``<name>/``;
3. ``/usr/share/datasets/<name>``, where Debian's ``dataset-fashion-mnist`` installs Fashion-MNIST;
4. the user cache ``$XDG_CACHE_HOME/cnnzoo/<name>`` (``~/.cache/cnnzoo/<name>``), where a download
   with torchvision's data set classes lands when nothing else is found.

In each, the files may lie directly, in a ``<name>/`` sub-folder, or where torchvision leaves them
(``FashionMNIST/raw/``, ``cifar-10-batches-py/``, ...). A corrupt or truncated file is an error that
names it: the IDX header must describe exactly the bytes that follow, the labels must match the
images, and a file that holds as many records as the original must have the original's MD5.

Users' own photos (an ImageFolder tree, one sub-folder per class) are split stratified and decoded
with PIL to the same uint8 tensors.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import io
import math
import os
import pickle
import random
import struct
import threading
import warnings
import zlib
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from torch.utils.data import Dataset

from cnnzoo.errors import ConfigError, DataError

__all__ = [
    "DATASETS",
    "ENV_VAR",
    "IMAGE_EXTENSIONS",
    "DataFile",
    "DataIntegrityError",
    "DataNotFoundError",
    "DataSubsetWarning",
    "DatasetSpec",
    "FolderImages",
    "FolderSplit",
    "ImageArrays",
    "image_folder_split",
    "load_arrays",
    "load_folder_arrays",
    "locate",
    "read_idx",
    "read_image",
]

ENV_VAR = "CNNZOO_DATA"
_DEBIAN_ROOT = Path("/usr/share/datasets")  # where Debian's dataset-* packages install
# torchvision's ImageFolder extensions, compared case-insensitively.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


class DataNotFoundError(DataError, FileNotFoundError):
    """No usable copy of the data: the message lists every place tried and how to get the data."""


class DataIntegrityError(DataError, ValueError):
    """A file that is truncated, corrupt or of another data set: the message names the file and
    what was expected against what was found."""


class DataSubsetWarning(UserWarning):
    """A well-formed file holding fewer or more records than the original: a subset or a test
    fixture. Its structure is checked; its checksum cannot be."""


# ---------------------------------------------------------------------------------------------
# The data sets as data


@dataclass(frozen=True)
class DataFile:
    """One file of a data set as its publisher ships it."""

    name: str  # without ".gz"; an IDX file may also lie gzipped
    records: int  # images (or labels) the original holds; another count is a subset, not checked
    md5: str | None  # of the content: the decompressed IDX bytes, or the pickle file as it is
    gz_md5: str | None = None  # of the publisher's .gz, the file torchvision downloads


@dataclass(frozen=True)
class DatasetSpec:
    """A data set's files, checksums, classes and where its copies are found."""

    name: str  # the key in DATASETS, and the folder name under every root
    title: str  # as its authors write it
    format: str  # "idx": an images and a labels file per split; "cifar": pickled batches
    train: tuple[DataFile, ...]  # idx: (images, labels); cifar: the batches, in order
    test: tuple[DataFile, ...]
    classes: tuple[str, ...]  # in label order
    image_shape: tuple[int, int, int]  # (C, H, W) of one image
    torchvision: str  # the torchvision.datasets class that downloads it
    layouts: tuple[str, ...]  # sub-folders a torchvision download leaves the files in
    homepage: str
    debian_package: str | None = None  # installs the files into /usr/share/datasets/<name>
    meta: str | None = None  # cifar: the pickle holding the class names
    class_key: str = ""  # cifar: the meta's key for the class names
    label_key: str = ""  # cifar: the batches' key for the labels (CIFAR-100: the fine labels)

    def files(self, split: str) -> tuple[DataFile, ...]:
        """The files of ``"train"`` or ``"test"``."""
        if split == "train":
            return self.train
        if split == "test":
            return self.test
        raise ConfigError(f"{self.name} has the splits 'train' and 'test', not {split!r}")

    def needed(self, split: str | None = None) -> tuple[str, ...]:
        """File names (without ".gz") a directory must hold: one split's, or all."""
        files = self.files(split) if split else self.train + self.test
        return tuple(f.name for f in files) + ((self.meta,) if self.meta else ())

    def size(self, split: str) -> int:
        """Images in the original split."""
        files = self.files(split)
        return files[0].records if self.format == "idx" else sum(f.records for f in files)


_CIFAR100_CLASSES = (
    "apple",
    "aquarium_fish",
    "baby",
    "bear",
    "beaver",
    "bed",
    "bee",
    "beetle",
    "bicycle",
    "bottle",
    "bowl",
    "boy",
    "bridge",
    "bus",
    "butterfly",
    "camel",
    "can",
    "castle",
    "caterpillar",
    "cattle",
    "chair",
    "chimpanzee",
    "clock",
    "cloud",
    "cockroach",
    "couch",
    "crab",
    "crocodile",
    "cup",
    "dinosaur",
    "dolphin",
    "elephant",
    "flatfish",
    "forest",
    "fox",
    "girl",
    "hamster",
    "house",
    "kangaroo",
    "keyboard",
    "lamp",
    "lawn_mower",
    "leopard",
    "lion",
    "lizard",
    "lobster",
    "man",
    "maple_tree",
    "motorcycle",
    "mountain",
    "mouse",
    "mushroom",
    "oak_tree",
    "orange",
    "orchid",
    "otter",
    "palm_tree",
    "pear",
    "pickup_truck",
    "pine_tree",
    "plain",
    "plate",
    "poppy",
    "porcupine",
    "possum",
    "rabbit",
    "raccoon",
    "ray",
    "road",
    "rocket",
    "rose",
    "sea",
    "seal",
    "shark",
    "shrew",
    "skunk",
    "skyscraper",
    "snail",
    "snake",
    "spider",
    "squirrel",
    "streetcar",
    "sunflower",
    "sweet_pepper",
    "table",
    "tank",
    "telephone",
    "television",
    "tiger",
    "tractor",
    "train",
    "trout",
    "tulip",
    "turtle",
    "wardrobe",
    "whale",
    "willow_tree",
    "wolf",
    "woman",
    "worm",
)

# Content MD5s of Fashion-MNIST were measured on Debian's files, which are recompressed (so their
# .gz MD5s differ from the publisher's); the .gz MD5s are torchvision's (datasets/mnist.py), as
# are CIFAR's per-file MD5s (datasets/cifar.py).
DATASETS: dict[str, DatasetSpec] = {
    "fashion-mnist": DatasetSpec(
        name="fashion-mnist",
        title="Fashion-MNIST",
        format="idx",
        train=(
            DataFile(
                "train-images-idx3-ubyte",
                60000,
                "f4a8712d7a061bf5bd6d2ca38dc4d50a",
                "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            ),
            DataFile(
                "train-labels-idx1-ubyte",
                60000,
                "9018921c3c673c538a1fc5bad174d6f9",
                "25c81989df183df01b3e8a0aad5dffbe",
            ),
        ),
        test=(
            DataFile(
                "t10k-images-idx3-ubyte",
                10000,
                "8181f5470baa50b63fa0f6fddb340f0a",
                "bef4ecab320f06d8554ea6380940ec79",
            ),
            DataFile(
                "t10k-labels-idx1-ubyte",
                10000,
                "15d484375f8d13e6eb1aabb0c3f46965",
                "bb300cfdad3c16e7a12a480ee83cd310",
            ),
        ),
        classes=(
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ),
        image_shape=(1, 28, 28),
        torchvision="FashionMNIST",
        layouts=("FashionMNIST/raw",),
        homepage="https://github.com/zalandoresearch/fashion-mnist",
        debian_package="dataset-fashion-mnist",
    ),
    "mnist": DatasetSpec(
        name="mnist",
        title="MNIST",
        format="idx",
        train=(
            DataFile("train-images-idx3-ubyte", 60000, None, "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
            DataFile("train-labels-idx1-ubyte", 60000, None, "d53e105ee54ea40749a09fcbcd1e9432"),
        ),
        test=(
            DataFile("t10k-images-idx3-ubyte", 10000, None, "9fb629c4189551a2d022fa330f9573f3"),
            DataFile("t10k-labels-idx1-ubyte", 10000, None, "ec29112dd5afa0611ce80d1b7f02629c"),
        ),
        classes=tuple(str(digit) for digit in range(10)),
        image_shape=(1, 28, 28),
        torchvision="MNIST",
        layouts=("MNIST/raw",),
        homepage="http://yann.lecun.com/exdb/mnist/",
    ),
    "cifar10": DatasetSpec(
        name="cifar10",
        title="CIFAR-10",
        format="cifar",
        train=(
            DataFile("data_batch_1", 10000, "c99cafc152244af753f735de768cd75f"),
            DataFile("data_batch_2", 10000, "d4bba439e000b95fd0a9bffe97cbabec"),
            DataFile("data_batch_3", 10000, "54ebc095f3ab1f0389bbae665268c751"),
            DataFile("data_batch_4", 10000, "634d18415352ddfa80567beed471001a"),
            DataFile("data_batch_5", 10000, "482c414d41f54cd18b22e5b47cb7c3cb"),
        ),
        test=(DataFile("test_batch", 10000, "40351d587109b95175f43aff81a1287e"),),
        classes=(
            "airplane",
            "automobile",
            "bird",
            "cat",
            "deer",
            "dog",
            "frog",
            "horse",
            "ship",
            "truck",
        ),
        image_shape=(3, 32, 32),
        torchvision="CIFAR10",
        layouts=("cifar-10-batches-py",),
        homepage="https://www.cs.toronto.edu/~kriz/cifar.html",
        meta="batches.meta",
        class_key="label_names",
        label_key="labels",
    ),
    "cifar100": DatasetSpec(
        name="cifar100",
        title="CIFAR-100",
        format="cifar",
        train=(DataFile("train", 50000, "16019d7e3df5f24257cddd939b257f8d"),),
        test=(DataFile("test", 10000, "f0ef6b0ae62326f3e7ffdfab6717acfc"),),
        classes=_CIFAR100_CLASSES,
        image_shape=(3, 32, 32),
        torchvision="CIFAR100",
        layouts=("cifar-100-python",),
        homepage="https://www.cs.toronto.edu/~kriz/cifar.html",
        meta="meta",
        class_key="fine_label_names",
        label_key="fine_labels",
    ),
}


def _spec(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        pass
    close = difflib.get_close_matches(name.lower(), DATASETS, n=2, cutoff=0.4)
    hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
    raise ConfigError(f"unknown data set {name!r}.{hint} Known: {', '.join(DATASETS)}")


# ---------------------------------------------------------------------------------------------
# The arrays


@dataclass(frozen=True, eq=False)
class ImageArrays:
    """A small data set held in memory as uint8, as the files store it."""

    name: str  # "fashion-mnist"
    images: torch.Tensor  # (N, C, H, W) uint8, C = 1 or 3
    labels: torch.Tensor  # (N,) int64
    classes: tuple[str, ...]  # class names in label order

    def __post_init__(self) -> None:
        images, labels = self.images, self.labels
        if images.dtype != torch.uint8 or images.dim() != 4 or images.shape[1] not in (1, 3):
            raise ConfigError(
                f"images of shape {tuple(images.shape)} and dtype {images.dtype}: expected "
                "(N, C, H, W) uint8 with C = 1 or 3"
            )
        if labels.dtype != torch.int64 or labels.shape != images.shape[:1]:
            raise ConfigError(
                f"labels of shape {tuple(labels.shape)} and dtype {labels.dtype}: expected "
                f"({images.shape[0]},) int64, one per image"
            )

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def __repr__(self) -> str:
        _, c, h, w = self.images.shape
        return (
            f"ImageArrays({self.name!r}: {len(self)} images of {c}x{h}x{w}, "
            f"{len(self.classes)} classes)"
        )


def load_arrays(
    name: str,
    split: str = "train",
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
) -> ImageArrays:
    """One split of a data set, checked, as uint8 images and int64 labels.

    Raises :class:`DataNotFoundError` when no copy is found (or fetched), and
    :class:`DataIntegrityError` for a file that is truncated, corrupt or not the data set's.
    """
    spec = _spec(name)
    spec.files(split)  # refuse an unknown split before searching
    directory = _find(spec, spec.needed(split), data_dir, download)
    if spec.format == "idx":
        images, labels = _load_idx(spec, directory, split)
        classes = spec.classes
    else:
        images, labels, classes = _load_cifar(spec, directory, split)
    return ImageArrays(spec.name, images, labels, classes)


def locate(
    name: str, data_dir: str | os.PathLike[str] | None = None, download: bool = True
) -> Path:
    """The directory holding every file of the data set, both splits (fetching it if allowed)."""
    spec = _spec(name)
    return _find(spec, spec.needed(), data_dir, download)


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


def _file_in(spec: DatasetSpec, directory: Path, name: str) -> Path | None:
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
        missing = [n for n in needed if _file_in(spec, directory, n) is None]
        if not missing:
            return directory, ""
        if len(missing) < len(needed):
            partial.append(f"{directory} lacks {', '.join(_display(spec, n) for n in missing)}")
    looked = ", ".join(str(d) for d in _candidates(spec, root))
    return None, f"not in {looked}" + (f" ({'; '.join(partial)})" if partial else "")


def _display(spec: DatasetSpec, name: str) -> str:
    return f"{name}[.gz]" if spec.format == "idx" else name


def _download(spec: DatasetSpec, root: Path) -> None:
    """Fetch with torchvision's class into ``root``; its errors (no network, a bad checksum)
    propagate."""
    import torchvision.datasets

    root.mkdir(parents=True, exist_ok=True)
    # The test split: the constructor also loads it, and it is the smaller.
    getattr(torchvision.datasets, spec.torchvision)(root=str(root), train=False, download=True)


def _find(
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
        files = ", ".join(_display(spec, n) for n in needed)
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
    files = ", ".join(_display(spec, n) for n in needed)
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


# ---------------------------------------------------------------------------------------------
# Reading and checking files


@dataclass
class _Blob:
    """A file's content, and the compressed bytes it came from when it was gzipped."""

    path: Path
    content: bytearray
    packed: bytes | None = field(default=None, repr=False)


_CHUNK = 1 << 24  # bytes inflated at a time: a bomb is caught within 16 MiB of its limit


def _too_big(path: Path, size: str, limit: int) -> DataIntegrityError:
    return DataIntegrityError(
        f"{path}: {size}, more than the {limit:,} bytes the format allows for this file: not the "
        "data set's file (or a decompression bomb); it was not read"
    )


def _inflate(path: Path, packed: bytes, limit: int | None) -> bytearray:
    """gzip members inflated a chunk at a time, refused as soon as they pass ``limit``."""
    out, data = bytearray(), packed
    while data:
        stream = zlib.decompressobj(wbits=31)  # gzip wrapper: header, CRC and size checked
        pending = data
        while not stream.eof:
            chunk = stream.decompress(pending, _CHUNK)
            out += chunk
            if limit is not None and len(out) > limit:
                raise _too_big(path, f"inflates to over {limit:,} bytes", limit)
            pending = stream.unconsumed_tail
            if not chunk and not pending:
                raise EOFError("the stream ends before its last block")
        data = stream.unused_data
        if data and not data.startswith(b"\x1f\x8b"):
            if data.strip(b"\0"):
                raise zlib.error(f"{len(data)} bytes of trailing garbage")
            break  # zero padding after the last member, as gzip allows
    return out


def _read_blob(path: Path, limit: int | None = None) -> _Blob:
    """A file's bytes, inflated if gzipped; ``limit`` bounds what the format allows, checked
    before reading (or while inflating) rather than after."""
    if path.suffix != ".gz":
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            if limit is not None and size > limit:
                raise _too_big(path, f"{size:,} bytes", limit)
            content = bytearray(size)
            read = f.readinto(content)
        return _Blob(path, content[:read] if read < len(content) else content)
    packed = path.read_bytes()
    try:
        content = _inflate(path, packed, limit)
    except (EOFError, zlib.error, OSError) as error:
        raise DataIntegrityError(
            f"{path}: not a whole gzip stream ({error}) in its {len(packed):,} bytes: the file is "
            "truncated or corrupt; delete it and fetch it again"
        ) from error
    return _Blob(path, content, packed)


def _md5(data: bytes | bytearray) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _verify(blob: _Blob, expected: DataFile, count: int, what: str) -> None:
    """Hold a well-formed file against the original's checksum, when it claims to be the original.

    A file with the original's record count must be the original: the publisher's .gz MD5 or the
    content MD5 must match. Another count is a subset (or a test fixture): structure only.
    """
    if count != expected.records:
        warnings.warn(
            f"{blob.path} holds {count} {what}, the original {expected.records}: a subset or "
            "another data set; its structure is checked, its checksum cannot be",
            DataSubsetWarning,
            stacklevel=4,
        )
        return
    if blob.packed is not None and expected.gz_md5 and _md5(blob.packed) == expected.gz_md5:
        return  # the publisher's file, untouched
    if expected.md5 is None:
        return  # no content checksum is known (MNIST decompressed): structure only
    found = _md5(blob.content)
    if found != expected.md5:
        after = " after decompression" if blob.packed is not None else ""
        raise DataIntegrityError(
            f"{blob.path}: {count} {what} as the original ({len(blob.content):,} bytes{after}), "
            f"but content md5 {found}, expected {expected.md5}: the file is corrupt; delete it and "
            "fetch it again"
        )


_IDX_TYPES = {
    0x08: "unsigned byte",
    0x09: "signed byte",
    0x0B: "short",
    0x0C: "int",
    0x0D: "float",
    0x0E: "double",
}


def _parse_idx(blob: _Blob) -> torch.Tensor:
    """The IDX format (LeCun et al.): two zero bytes, a type byte, a dimension count, then each
    dimension as a big-endian uint32, then the data in row-major order."""
    data, path = blob.content, blob.path
    if len(data) < 4:
        raise DataIntegrityError(
            f"{path}: {len(data)} bytes, shorter than an IDX file's 4-byte magic number: the file "
            "is truncated; delete it and fetch it again"
        )
    magic = int.from_bytes(data[:4], "big")
    zero, dtype, ndim = int.from_bytes(data[:2], "big"), data[2], data[3]
    if zero != 0 or ndim == 0 or dtype not in _IDX_TYPES:
        raise DataIntegrityError(
            f"{path}: magic number 0x{magic:08X} is not an IDX file's (0x00000803 for images, "
            "0x00000801 for labels: two zero bytes, the data type, the dimension count)"
        )
    if dtype != 0x08:
        raise DataIntegrityError(
            f"{path}: magic number 0x{magic:08X} says {_IDX_TYPES[dtype]} data (0x{dtype:02X}); "
            "image and label files hold unsigned bytes (0x08)"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataIntegrityError(
            f"{path}: {len(data)} bytes, shorter than the {header}-byte header of {ndim} "
            "dimensions: the file is truncated; delete it and fetch it again"
        )
    dims = struct.unpack(f">{ndim}I", data[4:header])
    need, have = math.prod(dims), len(data) - header
    if have != need:
        shape = "x".join(map(str, dims))
        fault = "truncated" if have < need else f"{have - need:,} bytes too long"
        raise DataIntegrityError(
            f"{path}: {have:,} bytes after the {header}-byte header, but its {shape} needs "
            f"{need:,}: the file is {fault}; delete it and fetch it again"
        )
    if need == 0:
        return torch.empty(dims, dtype=torch.uint8)
    return torch.frombuffer(data, dtype=torch.uint8, offset=header, count=need).view(dims)


def read_idx(path: str | os.PathLike[str]) -> torch.Tensor:
    """An IDX file (gzipped when its name ends in .gz) as a uint8 tensor of the header's shape.

    The header must describe exactly the bytes that follow; anything else is a
    :class:`DataIntegrityError` naming the file.
    """
    return _parse_idx(_read_blob(Path(path)))


def _load_idx(spec: DatasetSpec, directory: Path, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    image_file, label_file = spec.files(split)
    _, height, width = spec.image_shape
    # IDX: a 16-byte header, then the images; 8 bytes, then one byte a label
    limit = 16 + image_file.records * height * width
    blob = _read_blob(_required(spec, directory, image_file.name), limit)
    images = _parse_idx(blob)  # (N, H, W)
    if images.dim() != 3 or tuple(images.shape[1:]) != (height, width):
        raise DataIntegrityError(
            f"{blob.path}: IDX of shape {'x'.join(map(str, images.shape))}, expected "
            f"{image_file.records}x{height}x{width} (0x00000803, images of {height}x{width})"
        )
    _verify(blob, image_file, images.shape[0], "images")
    blob = _read_blob(_required(spec, directory, label_file.name), 8 + label_file.records)
    labels = _parse_idx(blob)  # (N,)
    if labels.dim() != 1:
        raise DataIntegrityError(
            f"{blob.path}: IDX of shape {'x'.join(map(str, labels.shape))}, expected "
            f"{label_file.records} labels (0x00000801, one dimension)"
        )
    if labels.shape[0] != images.shape[0]:
        raise DataIntegrityError(
            f"{blob.path} holds {labels.shape[0]} labels for the {images.shape[0]} images of "
            f"{image_file.name}: the files are of different splits, or one is cut short"
        )
    _check_labels(blob.path, labels, len(spec.classes))
    _verify(blob, label_file, labels.shape[0], "labels")
    return images.unsqueeze(1), labels.to(torch.int64)


def _required(spec: DatasetSpec, directory: Path, name: str) -> Path:
    path = _file_in(spec, directory, name)
    if path is None:  # removed since it was found
        raise DataNotFoundError(f"{directory} no longer holds {_display(spec, name)}")
    return path


def _check_labels(path: Path, labels: torch.Tensor, num_classes: int) -> None:
    if labels.numel() == 0:
        return
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= num_classes:
        bad = int(((labels < 0) | (labels >= num_classes)).sum())
        raise DataIntegrityError(
            f"{path}: labels range over {low}..{high} ({bad} outside), but the data set has "
            f"{num_classes} classes, 0..{num_classes - 1}: the file is corrupt or of another "
            "data set"
        )


class _Refused(pickle.UnpicklingError):
    """A pickle that names a callable no CIFAR batch needs."""


class _PickledDtype:
    """A numpy dtype as a pickle describes it (``numpy.dtype('u1', False, True)`` and a state),
    kept as data: numpy never sees the pickle's arguments."""

    def __init__(self, name: object, *_: object) -> None:
        self.name = name.decode("latin-1") if isinstance(name, bytes) else str(name)
        self.order = "|"

    def __setstate__(self, state: object) -> None:
        if isinstance(state, tuple) and len(state) > 1 and isinstance(state[1], str | bytes):
            self.order = state[1].decode("latin-1") if isinstance(state[1], bytes) else state[1]


class _PickledArray:
    """A numpy array as a pickle describes it (shape, dtype, raw bytes), kept as data.

    numpy's own unpickling builds whatever the file says, object arrays of raw pointers too;
    :func:`_cifar_array` turns only the shapes and types CIFAR has into arrays."""

    def __init__(self, *_: object) -> None:
        self.shape: object = None
        self.dtype: object = None
        self.raw: object = None

    def __setstate__(self, state: object) -> None:
        # (version, shape, dtype, is_fortran, raw data), as ndarray.__reduce__ writes it
        if isinstance(state, tuple) and len(state) == 5:
            _, self.shape, self.dtype, fortran, self.raw = state
            if fortran:
                self.raw = None  # CIFAR's arrays are C-ordered; anything else is refused


def _reconstruct(cls: object, *_: object) -> _PickledArray:
    if cls is not _PickledArray:
        raise _Refused("numpy.core.multiarray._reconstruct of something not an ndarray")
    return _PickledArray()


def _frombuffer(raw: object, dtype: object, shape: object, order: object) -> _PickledArray:
    array = _PickledArray()  # protocol 5's form of the same three facts
    array.raw, array.dtype, array.shape = raw, dtype, shape
    if order != "C":
        array.raw = None
    return array


def _latin1(text: object, encoding: object = "latin1") -> bytes:
    """Python 3's pickles write bytes as ``_codecs.encode(str, 'latin1')``; no other codec."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise _Refused(f"_codecs.encode with {encoding!r}")
    return text.encode("latin-1")


class _BatchUnpickler(pickle.Unpickler):
    """Unpickles CIFAR's batches and nothing else. A pickle may name any callable, so every
    name maps to a stand-in of ours: arrays and dtypes come back as descriptions (never built
    by numpy), bytes only through latin-1; any other name is refused."""

    _ALLOWED: ClassVar[dict[tuple[str, str], Any]] = {
        ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy.core.numeric", "_frombuffer"): _frombuffer,
        ("numpy._core.numeric", "_frombuffer"): _frombuffer,
        ("numpy", "ndarray"): _PickledArray,
        ("numpy", "dtype"): _PickledDtype,
        ("_codecs", "encode"): _latin1,
    }

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._ALLOWED[(module, name)]
        except KeyError:
            raise _Refused(f"{module}.{name}") from None


_INTEGER_DTYPES = {"u1": np.uint8, "i1": np.int8, "i2": np.int16, "i4": np.int32, "i8": np.int64}


def _cifar_array(value: object, what: str, kinds: tuple[str, ...]) -> np.ndarray | None:
    """``value`` as a numpy array when it is a pickled array of one of ``kinds`` whose raw bytes
    fill its shape exactly; None when it is not an array at all; an error otherwise."""
    if not isinstance(value, _PickledArray):
        return None
    dtype = value.dtype
    name = dtype.name.lstrip("<|=") if isinstance(dtype, _PickledDtype) else "?"
    shape = value.shape
    if (
        not isinstance(dtype, _PickledDtype)
        or name not in kinds
        or dtype.order == ">"
        or not isinstance(shape, tuple)
        or not all(isinstance(n, int) and n >= 0 for n in shape)
    ):
        raise DataIntegrityError(
            f"{what} is an array of dtype {name} and shape {shape}, which CIFAR never has "
            f"(expected {' or '.join(kinds)}); it was not read"
        )
    kind = _INTEGER_DTYPES[name]
    count = int(np.prod(shape)) if shape else 1
    raw = value.raw
    if not isinstance(raw, bytes | bytearray) or len(raw) != count * np.dtype(kind).itemsize:
        size = len(raw) if isinstance(raw, bytes | bytearray) else "no"
        raise DataIntegrityError(
            f"{what}: {size} bytes of data for an array of shape {shape}: the file is corrupt"
        )
    return np.frombuffer(bytes(raw), dtype=kind).reshape(shape)


_META_LIMIT = 1 << 20  # a CIFAR meta file: class names and a few numbers


def _unpickle(blob: _Blob) -> dict[bytes, Any]:
    try:
        # encoding="bytes": the batches were pickled by Python 2, whose str keys become bytes.
        loaded = _BatchUnpickler(io.BytesIO(blob.content), encoding="bytes").load()
    except _Refused as error:
        raise DataIntegrityError(
            f"{blob.path}: not a CIFAR batch: it refers to {error}, which a batch (arrays, lists "
            "and numbers) never does, and unpickling it could run code; it was not read"
        ) from error
    except Exception as error:
        raise DataIntegrityError(
            f"{blob.path}: not a readable CIFAR pickle ({error}): the file is truncated or "
            "corrupt; delete it and fetch it again"
        ) from error
    if not isinstance(loaded, dict):
        raise DataIntegrityError(
            f"{blob.path}: holds a {type(loaded).__name__}, expected a CIFAR dict"
        )
    return loaded


def _load_cifar(
    spec: DatasetSpec, directory: Path, split: str
) -> tuple[torch.Tensor, torch.Tensor, tuple[str, ...]]:
    assert spec.meta is not None
    blob = _read_blob(_required(spec, directory, spec.meta), _META_LIMIT)
    meta = _unpickle(blob)
    names = meta.get(spec.class_key.encode())
    classes: tuple[str, ...] = ()
    if isinstance(names, list) and all(isinstance(n, bytes | str) for n in names):
        classes = tuple(n.decode("latin-1") if isinstance(n, bytes) else n for n in names)
    if classes != spec.classes:
        found = f"{len(classes)} names starting {classes[:3]}" if classes else "none"
        raise DataIntegrityError(
            f"{blob.path}: class names under {spec.class_key!r}: {found}; expected the "
            f"{len(spec.classes)} of {spec.title} starting {spec.classes[:3]}"
        )
    channels, height, width = spec.image_shape
    pixels = channels * height * width
    images, labels = [], []
    for file in spec.files(split):
        # a pickled batch: the images, then a name and a label per image, some bytes each
        limit = file.records * (pixels + 256) + _META_LIMIT
        blob = _read_blob(_required(spec, directory, file.name), limit)
        batch = _unpickle(blob)
        key = spec.label_key
        data = _cifar_array(batch.get(b"data"), f"{blob.path}: 'data'", ("u1",))
        if data is None or data.ndim != 2 or data.shape[1] != pixels:
            found = f"uint8 {data.shape}" if data is not None else type(batch.get(b"data")).__name__
            raise DataIntegrityError(
                f"{blob.path}: 'data' is {found}, expected uint8 (N, {pixels}): N images of "
                f"{channels}x{height}x{width}"
            )
        targets = batch.get(key.encode())
        array = _cifar_array(targets, f"{blob.path}: {key!r}", tuple(_INTEGER_DTYPES))
        if array is not None:
            targets = array.reshape(-1).tolist()
        if not isinstance(targets, list) or not all(type(t) is int for t in targets):
            raise DataIntegrityError(
                f"{blob.path}: {key!r} is {type(targets).__name__}, expected a list of integer "
                "labels"
            )
        if len(targets) != len(data):
            raise DataIntegrityError(
                f"{blob.path}: {len(targets)} {key!r} for {len(data)} images, expected one "
                "label per image"
            )
        if any(not -(2**63) <= t < 2**63 for t in targets):
            raise DataIntegrityError(f"{blob.path}: {key!r} holds integers beyond 64 bits")
        target = torch.tensor(targets, dtype=torch.int64)
        _check_labels(blob.path, target, len(spec.classes))
        _verify(blob, file, len(data), "images")
        images.append(data)
        labels.append(target)
    # CIFAR stores each image as its 1024 red, then green, then blue values: (N, C, H, W) as is.
    stacked = np.concatenate(images).reshape(-1, channels, height, width)
    return torch.from_numpy(stacked), torch.cat(labels), spec.classes


# ---------------------------------------------------------------------------------------------
# Image folders: a user's own photos


@dataclass(frozen=True)
class FolderSplit:
    """An ImageFolder tree split into training and validation samples."""

    train: list[tuple[Path, int]]  # (image path, label), classes mixed in a seeded order
    val: list[tuple[Path, int]]
    classes: tuple[str, ...]  # the class folders' names, sorted; a label indexes this


def _images_under(directory: Path) -> list[Path]:
    # Hidden files are skipped: macOS's "._photo.jpg" companions are not images.
    return sorted(
        p
        for p in directory.rglob("*")
        if p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".") and p.is_file()
    )


def image_folder_split(
    root: str | os.PathLike[str], val_fraction: float = 0.1, seed: int = 0
) -> FolderSplit:
    """Split ``root/<class>/<image>`` into training and validation, stratified by class.

    Each class gives ``round(n · val_fraction)`` of its images to validation, at least one when
    it has two or more and at most all but one, so every class is seen in both. Each class is
    shuffled by its own generator seeded from ``(seed, class name)``: the split is the same on
    every run and machine, and adding a class leaves the others' splits as they were. Both lists
    come in a seeded order with the classes mixed, so a prefix of one is a fair sample of it.
    """
    if not 0.0 <= val_fraction < 1.0:
        raise ConfigError(f"val_fraction {val_fraction}: expected a fraction in [0, 1), e.g. 0.1")
    base = Path(root).expanduser()
    if not base.is_dir():
        raise DataNotFoundError(
            f"image folder {base} {'is not a directory' if base.exists() else 'does not exist'}: "
            "expected a directory with one sub-folder of images per class"
        )
    folders = sorted(d for d in base.iterdir() if d.is_dir() and not d.name.startswith("."))
    per_class = {d.name: _images_under(d) for d in folders}
    total = sum(len(paths) for paths in per_class.values())
    extensions = " ".join(IMAGE_EXTENSIONS)
    if total == 0:
        loose = len(_images_under(base)) if not folders else 0
        where = (
            f"{loose} images lie directly in it, not in class sub-folders"
            if loose
            else f"no images ({extensions}) in {len(folders)} sub-folders"
        )
        raise DataNotFoundError(
            f"image folder {base}: {where}; expected {base}/<class>/<image>, one sub-folder per "
            "class"
        )
    empty = [name for name, paths in per_class.items() if not paths]
    if empty:
        raise DataNotFoundError(
            f"image folder {base}: the class folders {', '.join(empty)} hold no images "
            f"({extensions}); add images or remove the folders"
        )
    if len(per_class) < 2:
        ((name, paths),) = per_class.items()
        raise ConfigError(
            f"image folder {base} has one class, {name!r} with {len(paths)} images: a "
            "classifier needs at least two class sub-folders"
        )
    classes = tuple(per_class)
    train: list[tuple[Path, int]] = []
    val: list[tuple[Path, int]] = []
    for label, (name, paths) in enumerate(per_class.items()):
        order = list(paths)
        random.Random(f"{seed}:{name}").shuffle(order)
        n = len(order)
        k = round(n * val_fraction)
        if val_fraction > 0 and n >= 2:
            k = min(max(k, 1), n - 1)
        val += [(p, label) for p in order[:k]]
        train += [(p, label) for p in order[k:]]
    # Classes interleaved in a seeded order: a prefix of either list is a fair sample of it.
    random.Random(f"{seed}:train").shuffle(train)
    random.Random(f"{seed}:val").shuffle(val)
    return FolderSplit(train=train, val=val, classes=classes)


_DEEP_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")


def _to_mode(image: Image.Image, mode: str) -> Image.Image:
    """Any PIL mode as "L" or "RGB" with 8-bit values."""
    if image.mode == "F":
        # Float images (TIFF, scientific cameras): [0, 1] as most tools write them, else their
        # own range stretched over 0..255; PIL's convert would clip [0, 1] to black.
        values = np.nan_to_num(np.asarray(image, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        low, high = float(values.min(initial=0.0)), float(values.max(initial=0.0))
        if low < 0.0 or high > 1.0:
            values = (values - low) / (high - low)
        image = Image.fromarray(np.rint(values * 255).astype(np.uint8))
    if image.mode in _DEEP_MODES:
        # PIL's convert clips 16-bit values at 255 instead of scaling: a 16-bit PNG turns white.
        # Deep integer images are read as 16-bit, PNG's and TIFF's deep greyscale.
        wide = np.asarray(image).astype(np.int64)
        image = Image.fromarray(((wide.clip(0, 65535) * 255 + 32767) // 65535).astype(np.uint8))
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        # Transparent pixels become black, whatever colour they happen to store.
        image = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", image.size, (0, 0, 0, 255)), image)
    return image.convert(mode)


@contextlib.contextmanager
def _no_bomb_warning() -> Iterator[None]:
    """Silence PIL's warning for images over its pixel limit: :func:`_check_pixels` refuses
    them instead. Warning filters are global and not thread-safe, so only the main thread sets
    them; threads that decode for it run inside its setting (:func:`load_folder_arrays`)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        yield


def _check_pixels(path: str | os.PathLike[str], size: tuple[int, int]) -> None:
    """Refuse an image larger than PIL's limit from its header, before its pixels are inflated
    (a small file can promise gigabytes: a decompression bomb)."""
    limit = Image.MAX_IMAGE_PIXELS
    width, height = size
    if limit is not None and width * height > limit:
        raise DataIntegrityError(
            f"{path}: refused, {width}x{height} = {width * height:,} pixels is more than the "
            f"{limit:,} PIL allows (PIL.Image.MAX_IMAGE_PIXELS; a decompression bomb?)"
        )


def read_image(path: str | os.PathLike[str], size: int, channels: int) -> torch.Tensor:
    """An image file as a (channels, size, size) uint8 tensor: the shorter side resized to
    ``size`` (bilinear, antialiased), the centre cropped square.

    Phone photos are turned upright by their EXIF orientation. Any mode (palette, CMYK, 16-bit,
    with alpha) becomes "L" for 1 channel or "RGB" for 3.
    """
    if channels not in (1, 3):
        raise ConfigError(f"channels {channels}: expected 1 (greyscale) or 3 (RGB)")
    if size < 1:
        raise ConfigError(f"size {size}: expected a side of at least 1 pixel")
    mode = "L" if channels == 1 else "RGB"
    try:
        with _no_bomb_warning(), Image.open(path) as opened:
            _check_pixels(path, opened.size)
            # JPEG decodes at 1/2, 1/4 or 1/8 scale when that still covers size x size: faster.
            opened.draft(mode, (size, size))
            image = ImageOps.exif_transpose(opened)
            image = _to_mode(image, mode)
    except DataIntegrityError:
        raise
    except Image.DecompressionBombError as error:
        raise DataIntegrityError(f"{path}: refused, {error}") from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise DataIntegrityError(f"{path}: not a readable image ({error})") from error
    width, height = image.size
    side = min(width, height)
    # Resizing the centred square of the source is the shorter-side resize and centre crop in
    # one step, without rounding the intermediate size.
    box = ((width - side) / 2, (height - side) / 2, (width + side) / 2, (height + side) / 2)
    image = image.resize((size, size), Image.Resampling.BILINEAR, box=box)
    pixels = torch.from_numpy(np.array(image, dtype=np.uint8))  # (H, W) or (H, W, 3)
    return pixels.unsqueeze(0) if channels == 1 else pixels.permute(2, 0, 1).contiguous()


class FolderImages(Dataset[tuple[torch.Tensor, int]]):
    """Images of an ImageFolder tree, decoded on demand: each item is a (channels, size, size)
    uint8 tensor and its label. For a folder too large to hold in memory."""

    def __init__(self, samples: Sequence[tuple[Path, int]], size: int, channels: int) -> None:
        if channels not in (1, 3):
            raise ConfigError(f"channels {channels}: expected 1 (greyscale) or 3 (RGB)")
        if size < 1:
            raise ConfigError(f"size {size}: expected a side of at least 1 pixel")
        self.samples = list(samples)
        self.size = size
        self.channels = channels

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        path, label = self.samples[index]
        return read_image(path, self.size, self.channels), label


def load_folder_arrays(
    samples: Sequence[tuple[Path, int]],
    size: int,
    channels: int,
    classes: Sequence[str] | None = None,
    name: str = "image-folder",
) -> ImageArrays:
    """A small image folder decoded whole into memory (as :class:`FolderImages` decodes it).

    ``classes`` names the labels (``FolderSplit.classes``); without it they are named by number.
    """
    labels = torch.tensor([label for _, label in samples], dtype=torch.int64)
    low, count = (int(labels.min()), int(labels.max()) + 1) if len(samples) else (0, 0)
    names = tuple(classes) if classes is not None else tuple(str(i) for i in range(count))
    if low < 0 or count > len(names):
        raise ConfigError(
            f"labels range over {low}..{count - 1}, but {len(names)} class names were given: "
            "one name per label is needed"
        )
    images = torch.empty(len(samples), channels, size, size, dtype=torch.uint8)
    # PIL decodes and resizes outside the GIL, so threads decode in parallel.
    workers = min(8, os.cpu_count() or 1)
    with _no_bomb_warning(), ThreadPoolExecutor(max_workers=workers) as pool:
        decoded = pool.map(lambda s: read_image(s[0], size, channels), samples)
        for i, pixels in enumerate(decoded):
            images[i] = pixels
    return ImageArrays(name, images, labels, names)
