"""The data sets as data: each one's files, sizes, checksums and classes, the errors of data,
and the arrays a small data set is held in."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import torch

from cnnzoo.errors import ConfigError, DataError

__all__ = [
    "DATASETS",
    "DataFile",
    "DataIntegrityError",
    "DataNotFoundError",
    "DataSubsetWarning",
    "DatasetSpec",
    "ImageArrays",
    "spec_of",
]


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


def spec_of(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        pass
    close = difflib.get_close_matches(name.lower(), DATASETS, n=2, cutoff=0.4)
    hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
    raise ConfigError(f"unknown data set {name!r}.{hint} Known: {', '.join(DATASETS)}")


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
