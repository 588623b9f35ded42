"""The publishers' file formats, read with proof that the files are whole: IDX (gzipped or
not) and CIFAR's pickled Python batches, through an unpickler that builds no object but plain
data. A corrupt or truncated file is an error that names it: the IDX header must describe
exactly the bytes that follow, the labels must match the images, a file that holds as many
records as the original must have the original's MD5, and nothing is inflated beyond what its
format allows."""

from __future__ import annotations

import hashlib
import io
import math
import os
import pickle
import struct
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from cnnzoo.data.catalogue import (
    DataFile,
    DataIntegrityError,
    DataNotFoundError,
    DatasetSpec,
    DataSubsetWarning,
)
from cnnzoo.data.search import display_name, file_in

__all__ = [
    "load_cifar",
    "load_idx",
    "read_idx",
]

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


def load_idx(spec: DatasetSpec, directory: Path, split: str) -> tuple[torch.Tensor, torch.Tensor]:
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
    path = file_in(spec, directory, name)
    if path is None:  # removed since it was found
        raise DataNotFoundError(f"{directory} no longer holds {display_name(spec, name)}")
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


def load_cifar(
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
