"""Data sets: where their files are found, proof that they are whole, and users' image folders."""

from cnnzoo.data.sources import (
    DATASETS,
    DataFile,
    DataIntegrityError,
    DataNotFoundError,
    DatasetSpec,
    DataSubsetWarning,
    FolderImages,
    FolderSplit,
    ImageArrays,
    image_folder_split,
    load_arrays,
    load_folder_arrays,
    locate,
    read_idx,
    read_image,
)

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
    "read_idx",
    "read_image",
]
