"""A data set's split as checked uint8 arrays: found (:mod:`~cnnzoo.data.search`), read and
verified (:mod:`~cnnzoo.data.formats`, :mod:`~cnnzoo.data.cifar`), described by the catalogue
(:mod:`~cnnzoo.data.catalogue`)."""

from __future__ import annotations

import os

from cnnzoo.data.catalogue import ImageArrays, spec_of
from cnnzoo.data.cifar import load_cifar
from cnnzoo.data.formats import load_idx
from cnnzoo.data.search import find_files

__all__ = [
    "load_arrays",
]


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
    spec = spec_of(name)
    spec.files(split)  # refuse an unknown split before searching
    directory = find_files(spec, spec.needed(split), data_dir, download)
    if spec.format == "idx":
        images, labels = load_idx(spec, directory, split)
        classes = spec.classes
    else:
        images, labels, classes = load_cifar(spec, directory, split)
    return ImageArrays(spec.name, images, labels, classes)
