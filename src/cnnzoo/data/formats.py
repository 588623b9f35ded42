"""The publishers' files, read with proof that they are whole, and the IDX format (MNIST's).

A corrupt or truncated file is an error that names it: the IDX header must describe exactly the
bytes that follow, the labels must match the images, a file that holds as many records as the
original must have the original's MD5, and nothing is inflated beyond what its format allows.
CIFAR's pickled batches are read in :mod:`cnnzoo.data.cifar` on the same footing."""

from __future__ import annotations

import hashlib
import math
import os
import struct
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path

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
    "Blob",
    "check_labels",
    "load_idx",
    "read_blob",
    "read_idx",
    "required_file",
    "verify",
]

# ---------------------------------------------------------------------------------------------
# Reading and checking files


@dataclass
class Blob:
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


def read_blob(path: Path, limit: int | None = None) -> Blob:
    """A file's bytes, inflated if gzipped; ``limit`` bounds what the format allows, checked
    before reading (or while inflating) rather than after."""
    if path.suffix != ".gz":
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            if limit is not None and size > limit:
                raise _too_big(path, f"{size:,} bytes", limit)
            content = bytearray(size)
            read = f.readinto(content)
        return Blob(path, content[:read] if read < len(content) else content)
    packed = path.read_bytes()
    try:
        content = _inflate(path, packed, limit)
    except (EOFError, zlib.error, OSError) as error:
        raise DataIntegrityError(
            f"{path}: not a whole gzip stream ({error}) in its {len(packed):,} bytes: the file is "
            "truncated or corrupt; delete it and fetch it again"
        ) from error
    return Blob(path, content, packed)


def _md5(data: bytes | bytearray) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def verify(blob: Blob, expected: DataFile, count: int, what: str) -> None:
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


def _parse_idx(blob: Blob) -> torch.Tensor:
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
    return _parse_idx(read_blob(Path(path)))


def load_idx(spec: DatasetSpec, directory: Path, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    image_file, label_file = spec.files(split)
    _, height, width = spec.image_shape
    # IDX: a 16-byte header, then the images; 8 bytes, then one byte a label
    limit = 16 + image_file.records * height * width
    blob = read_blob(required_file(spec, directory, image_file.name), limit)
    images = _parse_idx(blob)  # (N, H, W)
    if images.dim() != 3 or tuple(images.shape[1:]) != (height, width):
        raise DataIntegrityError(
            f"{blob.path}: IDX of shape {'x'.join(map(str, images.shape))}, expected "
            f"{image_file.records}x{height}x{width} (0x00000803, images of {height}x{width})"
        )
    verify(blob, image_file, images.shape[0], "images")
    blob = read_blob(required_file(spec, directory, label_file.name), 8 + label_file.records)
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
    check_labels(blob.path, labels, len(spec.classes))
    verify(blob, label_file, labels.shape[0], "labels")
    return images.unsqueeze(1), labels.to(torch.int64)


def required_file(spec: DatasetSpec, directory: Path, name: str) -> Path:
    path = file_in(spec, directory, name)
    if path is None:  # removed since it was found
        raise DataNotFoundError(f"{directory} no longer holds {display_name(spec, name)}")
    return path


def check_labels(path: Path, labels: torch.Tensor, num_classes: int) -> None:
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
