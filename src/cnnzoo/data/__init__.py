"""Data sets: where their files are found, proof that they are whole, and users' image folders."""

from cnnzoo.data.catalogue import (
    DATASETS,
    DataFile,
    DataIntegrityError,
    DataNotFoundError,
    DatasetSpec,
    DataSubsetWarning,
    ImageArrays,
)
from cnnzoo.data.folders import (
    FolderImages,
    FolderSplit,
    image_folder_split,
    load_folder_arrays,
    open_image,
    read_image,
)
from cnnzoo.data.formats import read_idx
from cnnzoo.data.search import locate
from cnnzoo.data.sources import load_arrays

__all__ = [
    "DATASETS",
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
    "open_image",
    "read_idx",
    "read_image",
]
