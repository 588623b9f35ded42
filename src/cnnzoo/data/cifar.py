"""CIFAR's pickled Python batches, read through an unpickler that builds no object but plain
data: arrays are rebuilt by cnnzoo from their shape, dtype and bytes (uint8 images, integer
labels), every other callable is refused by name, and the files are checked as IDX files are."""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from cnnzoo.data.catalogue import DataIntegrityError, DatasetSpec
from cnnzoo.data.formats import Blob, check_labels, read_blob, required_file, verify

__all__ = ["load_cifar"]


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


def _unpickle(blob: Blob) -> dict[bytes, Any]:
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
    blob = read_blob(required_file(spec, directory, spec.meta), _META_LIMIT)
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
        blob = read_blob(required_file(spec, directory, file.name), limit)
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
        check_labels(blob.path, target, len(spec.classes))
        verify(blob, file, len(data), "images")
        images.append(data)
        labels.append(target)
    # CIFAR stores each image as its 1024 red, then green, then blue values: (N, C, H, W) as is.
    stacked = np.concatenate(images).reshape(-1, channels, height, width)
    return torch.from_numpy(stacked), torch.cat(labels), spec.classes
