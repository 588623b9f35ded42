"""Data-set sources: the search order, the IDX and CIFAR readers, integrity checks, image folders.

Nothing here touches the network: every test runs with ``_download`` replaced, ``$CNNZOO_DATA``
unset, the user cache in a temporary directory and Debian's location moved to an empty one,
except the tests that read Debian's Fashion-MNIST where it is installed.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import pickle
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision.datasets
from PIL import Image

from cnnzoo.data import (
    DATASETS,
    DataIntegrityError,
    DataNotFoundError,
    DataSubsetWarning,
    FolderImages,
    ImageArrays,
    catalogue,
    image_folder_split,
    load_arrays,
    load_folder_arrays,
    locate,
    read_idx,
    read_image,
    search,
)
from tests.helpers import requires

DEBIAN_ROOT = search._DEBIAN_ROOT
DEBIAN_FMNIST = DEBIAN_ROOT / "fashion-mnist"
HAS_DEBIAN = all(
    (DEBIAN_FMNIST / f"{f.name}.gz").is_file()
    for f in DATASETS["fashion-mnist"].train + DATASETS["fashion-mnist"].test
)
needs_debian = requires("Debian's dataset-fashion-mnist", HAS_DEBIAN)
subset_ok = pytest.mark.filterwarnings("ignore::cnnzoo.data.DataSubsetWarning")

FMNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No environment, no Debian files, a private cache, and no download."""

    def no_download(spec: catalogue.DatasetSpec, root: Path) -> None:
        raise AssertionError(f"a test tried to download {spec.name} into {root}")

    monkeypatch.delenv("CNNZOO_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(search, "_DEBIAN_ROOT", tmp_path / "debian")
    monkeypatch.setattr(search, "_download", no_download)


# ---------------------------------------------------------------------------------------------
# Helpers that write data sets in their publishers' formats


def idx_bytes(array: np.ndarray, magic: bytes | None = None) -> bytes:
    header = magic or bytes([0, 0, 0x08, array.ndim])
    dims = b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + dims + array.astype(np.uint8).tobytes()


def write(path: Path, data: bytes, gz: bool) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data, compresslevel=1)
    path.write_bytes(data)
    return path


def make_idx(
    directory: Path, fill: int = 0, n_train: int = 20, n_test: int = 10, gz: bool = True
) -> Path:
    """A small Fashion-MNIST-shaped set whose every pixel is ``fill``, labels cycling 0..9."""
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = np.full((n, 28, 28), fill, dtype=np.uint8)
        labels = np.arange(n, dtype=np.uint8) % 10
        write(directory / f"{prefix}-images-idx3-ubyte", idx_bytes(images), gz)
        write(directory / f"{prefix}-labels-idx1-ubyte", idx_bytes(labels), gz)
    return directory


def fill_of(arrays: ImageArrays) -> int:
    values = arrays.images.unique()
    assert len(values) == 1
    return int(values[0])


def batch_pickle(path: Path, data: np.ndarray, labels: list[int], key: bytes) -> None:
    batch = {
        b"batch_label": b"test",
        key: labels,
        b"data": data,
        b"filenames": [b"x.png"] * len(data),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(batch, protocol=2))


def make_cifar10(directory: Path, per_batch: int = 4) -> Path:
    spec = DATASETS["cifar10"]
    meta = {b"label_names": [c.encode() for c in spec.classes], b"num_vis": 3072}
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    for i, file in enumerate(spec.train + spec.test):
        # Image k of batch i: its red plane is i, green k, blue 200.
        data = np.zeros((per_batch, 3, 32, 32), dtype=np.uint8)
        data[:, 0], data[:, 2] = i, 200
        data[:, 1] = np.arange(per_batch, dtype=np.uint8)[:, None, None]
        labels = [(i + k) % 10 for k in range(per_batch)]
        batch_pickle(directory / file.name, data.reshape(per_batch, -1), labels, b"labels")
    return directory


# ---------------------------------------------------------------------------------------------
# The registry of data sets


def test_checksums_are_torchvisions() -> None:
    for name, cls in (
        ("mnist", torchvision.datasets.MNIST),
        ("fashion-mnist", torchvision.datasets.FashionMNIST),
    ):
        spec = DATASETS[name]
        ours = [(f"{f.name}.gz", f.gz_md5) for f in spec.train + spec.test]
        assert ours == [tuple(r) for r in cls.resources]
    for name, cls in (
        ("cifar10", torchvision.datasets.CIFAR10),
        ("cifar100", torchvision.datasets.CIFAR100),
    ):
        spec = DATASETS[name]
        assert [[f.name, f.md5] for f in spec.train] == cls.train_list
        assert [[f.name, f.md5] for f in spec.test] == cls.test_list
        assert spec.meta == cls.meta["filename"]
        assert spec.class_key == cls.meta["key"]
        assert spec.layouts == (cls.base_folder,)


def test_specs_describe_the_published_sets() -> None:
    fmnist = DATASETS["fashion-mnist"]
    assert fmnist.classes == (
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
    )
    assert fmnist.debian_package == "dataset-fashion-mnist"
    assert [fmnist.size("train"), fmnist.size("test")] == [60000, 10000]
    assert [DATASETS["cifar10"].size(s) for s in ("train", "test")] == [50000, 10000]
    cifar100 = DATASETS["cifar100"].classes
    assert len(cifar100) == 100 and list(cifar100) == sorted(cifar100)
    assert cifar100[:3] == ("apple", "aquarium_fish", "baby") and cifar100[-1] == "worm"
    for spec in DATASETS.values():
        assert len(spec.classes) == len(set(spec.classes))
        for f in spec.train + spec.test:
            assert f.md5 is None or len(f.md5) == 32
    with pytest.raises(ValueError, match="'train' and 'test', not 'val'"):
        load_arrays("fashion-mnist", "val")
    with pytest.raises(ValueError, match="Did you mean 'mnist'"):
        load_arrays("mnsit")


# ---------------------------------------------------------------------------------------------
# Debian's Fashion-MNIST


@needs_debian
def test_debian_fashion_mnist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search, "_DEBIAN_ROOT", DEBIAN_ROOT)
    assert locate("fashion-mnist", download=False) == DEBIAN_FMNIST
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the full set: checksummed, no subset warning
        train = load_arrays("fashion-mnist", "train", download=False)
        test = load_arrays("fashion-mnist", "test", download=False)
    assert train.images.shape == (60000, 1, 28, 28) and train.images.dtype == torch.uint8
    assert test.images.shape == (10000, 1, 28, 28) and test.images.dtype == torch.uint8
    assert train.labels.dtype == torch.int64 and len(train) == 60000 and len(test) == 10000
    assert train.labels.bincount().tolist() == [6000] * 10
    assert test.labels.bincount().tolist() == [1000] * 10
    # The data set's published per-pixel mean and standard deviation: 0.2860 and 0.3530.
    counts = torch.bincount(train.images.flatten(), minlength=256).double()
    values = torch.arange(256, dtype=torch.float64) / 255
    mean = (counts * values).sum() / counts.sum()
    std = ((counts * (values - mean) ** 2).sum() / counts.sum()).sqrt()
    assert mean.item() == pytest.approx(0.2860, abs=5e-5)
    assert std.item() == pytest.approx(0.3530, abs=5e-5)
    assert train.classes[9] == "Ankle boot"
    assert repr(test) == "ImageArrays('fashion-mnist': 10000 images of 1x28x28, 10 classes)"


@needs_debian
def test_a_flipped_byte_in_a_full_size_copy_is_caught(tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(DEBIAN_FMNIST / "t10k-labels-idx1-ubyte.gz", copy)
    content = bytearray(gzip.decompress((DEBIAN_FMNIST / "t10k-images-idx3-ubyte.gz").read_bytes()))
    content[16 + 5000] ^= 0x01  # one pixel, one bit: the structure is still perfect
    bad = write(copy / "t10k-images-idx3-ubyte", bytes(content), gz=True)
    found = hashlib.md5(content).hexdigest()
    with pytest.raises(DataIntegrityError) as caught:
        load_arrays("fashion-mnist", "test", data_dir=copy)
    message = str(caught.value)
    assert str(bad) in message
    assert f"md5 {found}, expected 8181f5470baa50b63fa0f6fddb340f0a" in message
    assert "delete it and fetch it again" in message
    # The same bytes unflipped and uncompressed are the original: accepted without a warning.
    content[16 + 5000] ^= 0x01
    bad.unlink()
    write(copy / "t10k-images-idx3-ubyte", bytes(content), gz=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        test = load_arrays("fashion-mnist", "test", data_dir=copy)
    assert test.images.shape == (10000, 1, 28, 28)


# ---------------------------------------------------------------------------------------------
# Where the files are looked for


@subset_ok
def test_data_dir_comes_before_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine, env = make_idx(tmp_path / "mine", fill=1), make_idx(tmp_path / "env", fill=2)
    monkeypatch.setenv("CNNZOO_DATA", str(env))
    assert fill_of(load_arrays("fashion-mnist", data_dir=mine)) == 1
    assert locate("fashion-mnist", data_dir=mine) == mine
    assert fill_of(load_arrays("fashion-mnist")) == 2
    # A data_dir without the files is an error: the data asked for, or none.
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataNotFoundError, match=r"not in the folder given by data_dir"):
        load_arrays("fashion-mnist", data_dir=tmp_path / "empty")


@subset_ok
def test_a_data_dir_missing_one_file_is_an_error_naming_it(tmp_path: Path) -> None:
    """It used to fall back to the system's copy without a word: 60,000 images for a folder
    of 1,000, while config.json named the user's folder."""
    mine = make_idx(tmp_path / "mine", fill=1)
    next(mine.glob("train-labels*")).unlink()
    with pytest.raises(DataNotFoundError, match=r"lacks train-labels-idx1-ubyte\[\.gz\]"):
        load_arrays("fashion-mnist", data_dir=mine)


@subset_ok
def test_environment_names_the_set_or_its_parent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_idx(tmp_path / "all" / "fashion-mnist", fill=3)
    monkeypatch.setenv("CNNZOO_DATA", str(tmp_path / "all"))
    assert locate("fashion-mnist") == tmp_path / "all" / "fashion-mnist"
    assert fill_of(load_arrays("fashion-mnist", "test")) == 3


@subset_ok
def test_debian_location_comes_before_the_cache(tmp_path: Path) -> None:
    make_idx(tmp_path / "cache" / "cnnzoo" / "fashion-mnist", fill=5)
    assert fill_of(load_arrays("fashion-mnist")) == 5
    make_idx(tmp_path / "debian" / "fashion-mnist", fill=4)
    assert fill_of(load_arrays("fashion-mnist")) == 4


@subset_ok
def test_torchvision_layouts(tmp_path: Path) -> None:
    make_idx(tmp_path / "tv" / "FashionMNIST" / "raw", fill=6)
    assert locate("fashion-mnist", data_dir=tmp_path / "tv") == tmp_path / "tv/FashionMNIST/raw"
    assert fill_of(load_arrays("fashion-mnist", data_dir=tmp_path / "tv")) == 6
    # torchvision's MNIST download, extracted (raw IDX, no .gz), under <name>/ of a parent.
    make_idx(tmp_path / "tv" / "mnist" / "MNIST" / "raw", fill=7, gz=False)
    mnist = load_arrays("mnist", "test", data_dir=tmp_path / "tv")
    assert fill_of(mnist) == 7 and mnist.classes == tuple("0123456789")


@subset_ok
def test_raw_and_gzipped_idx_read_the_same(tmp_path: Path) -> None:
    raw = make_idx(tmp_path / "raw", fill=9, gz=False)
    packed = make_idx(tmp_path / "gz", fill=9, gz=True)
    a = load_arrays("fashion-mnist", data_dir=raw)
    b = load_arrays("fashion-mnist", data_dir=packed)
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    assert a.images.shape == (20, 1, 28, 28) and a.labels.tolist() == [i % 10 for i in range(20)]
    assert read_idx(packed / "t10k-labels-idx1-ubyte.gz").tolist() == list(range(10))
    cube = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = write(tmp_path / "cube", idx_bytes(cube), gz=False)
    assert read_idx(path).shape == (2, 3, 4)
    assert read_idx(path).flatten().tolist() == list(range(24))


def test_a_subset_is_loaded_with_a_warning(tmp_path: Path) -> None:
    make_idx(tmp_path, n_train=20)
    with pytest.warns(DataSubsetWarning, match="holds 20 (images|labels), the original 60000") as w:
        arrays = load_arrays("fashion-mnist", data_dir=tmp_path)
    assert len(arrays) == 20
    assert [Path(str(r.message).split()[0]).name for r in w] == [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
    ]


def test_not_found_lists_every_place_and_the_remedies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CNNZOO_DATA", str(tmp_path / "env"))
    (tmp_path / "env").mkdir()
    with pytest.raises(DataNotFoundError) as caught:  # a folder named: only it is searched
        load_arrays("fashion-mnist", download=False)
    message = str(caught.value)
    for place in (
        "env",
        "env/fashion-mnist",
        "env/FashionMNIST/raw",
        "env/fashion-mnist/FashionMNIST/raw",
    ):
        assert str(tmp_path / place) in message
    assert "debian" not in message and "given by $CNNZOO_DATA" in message
    monkeypatch.delenv("CNNZOO_DATA")
    with pytest.raises(DataNotFoundError) as caught:
        load_arrays("fashion-mnist", download=False)
    message = str(caught.value)
    for place in ("debian/fashion-mnist", "cache/cnnzoo/fashion-mnist"):
        assert str(tmp_path / place) in message
    assert "sudo apt-get install dataset-fashion-mnist" in message
    assert "CNNZOO_DATA=DIR" in message and "--data-dir DIR" in message
    assert "network access" in message and "download=False" in message
    assert isinstance(caught.value, FileNotFoundError)
    # MNIST has no Debian package: no apt-get line.
    with pytest.raises(DataNotFoundError) as caught:
        load_arrays("mnist", download=False)
    assert "apt-get" not in str(caught.value)


def test_a_partial_directory_says_what_it_lacks(tmp_path: Path) -> None:
    make_idx(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataNotFoundError, match=r"lacks t10k-labels-idx1-ubyte\[\.gz\]"):
        locate("fashion-mnist", data_dir=tmp_path, download=False)
    with pytest.warns(DataSubsetWarning):  # the train split is whole
        assert len(load_arrays("fashion-mnist", "train", data_dir=tmp_path, download=False)) == 20


def test_a_failed_download_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(spec: catalogue.DatasetSpec, root: Path) -> None:
        raise OSError("<urlopen error [Errno -2]\n Name or service not known>")

    monkeypatch.setattr(search, "_download", offline)
    with pytest.raises(DataNotFoundError, match=r"failed, <urlopen .* Name or service not known>"):
        load_arrays("fashion-mnist")


@subset_ok
def test_a_download_lands_in_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fetched = []

    def fetch(spec: catalogue.DatasetSpec, root: Path) -> None:
        fetched.append(root)
        make_idx(root / "FashionMNIST" / "raw", fill=8)  # where torchvision puts it

    monkeypatch.setattr(search, "_download", fetch)
    assert fill_of(load_arrays("fashion-mnist")) == 8
    assert fetched == [tmp_path / "cache" / "cnnzoo" / "fashion-mnist"]
    assert fill_of(load_arrays("fashion-mnist")) == 8 and len(fetched) == 1  # found, not fetched


# ---------------------------------------------------------------------------------------------
# Corrupt IDX files


@subset_ok
@pytest.mark.parametrize(
    ("damage", "match"),
    [
        ("magic", r"magic number 0x12345678 is not an IDX file's"),
        ("float", r"0x00000D03 says float data .* unsigned bytes \(0x08\)"),
        ("truncated-gz", r"not a whole gzip stream"),
        ("corrupt-gz", r"not a whole gzip stream"),
        ("truncated-raw", r"15,580 bytes after the 16-byte header, but its 20x28x28 needs 15,680"),
        ("long-raw", r"the file is 3 bytes too long"),
        ("empty", r"0 bytes, shorter than an IDX file's 4-byte magic number"),
    ],
)
def test_damaged_idx_is_an_error_naming_the_file(tmp_path: Path, damage: str, match: str) -> None:
    make_idx(tmp_path, gz=damage.endswith("gz"))
    name = "train-images-idx3-ubyte" + (".gz" if damage.endswith("gz") else "")
    path = tmp_path / name
    data = path.read_bytes()
    if damage == "magic":
        data = b"\x12\x34\x56\x78" + data[4:]
    elif damage == "float":
        data = b"\x00\x00\x0d\x03" + data[4:]
    elif damage == "truncated-gz":
        data = data[: len(data) // 2]
    elif damage == "corrupt-gz":
        data = data[:-8] + bytes(8)  # the CRC and size trailer
    elif damage == "truncated-raw":
        data = data[:-100]
    elif damage == "long-raw":
        data += b"abc"
    elif damage == "empty":
        data = b""
    path.write_bytes(data)
    with pytest.raises(DataIntegrityError, match=match) as caught:
        load_arrays("fashion-mnist", data_dir=tmp_path)
    assert str(path) in str(caught.value)
    with pytest.raises(DataIntegrityError, match=match):
        read_idx(path)


@subset_ok
def test_labels_must_match_the_images(tmp_path: Path) -> None:
    make_idx(tmp_path)
    write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(np.zeros(19, np.uint8)), gz=True)
    with pytest.raises(DataIntegrityError, match="holds 19 labels for the 20 images"):
        load_arrays("fashion-mnist", data_dir=tmp_path)
    labels = np.arange(20, dtype=np.uint8) % 10
    labels[7] = 10
    write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(labels), gz=True)
    with pytest.raises(
        DataIntegrityError, match=r"labels range over 0\.\.10 \(1 outside\).* 0\.\.9"
    ):
        load_arrays("fashion-mnist", data_dir=tmp_path)
    images = np.zeros((20, 1, 28), dtype=np.uint8)  # a labels-like file in the images' place
    write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(images), gz=True)
    with pytest.raises(DataIntegrityError, match="expected 60000 labels"):
        load_arrays("fashion-mnist", data_dir=tmp_path)
    write(tmp_path / "train-images-idx3-ubyte", idx_bytes(np.zeros((20, 32, 32))), gz=True)
    with pytest.raises(DataIntegrityError, match="shape 20x32x32, expected 60000x28x28"):
        load_arrays("fashion-mnist", data_dir=tmp_path)


def test_checksum_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file with the original's record count must match a known MD5: the publisher's .gz, or
    the content; with neither known only the structure is checked."""
    make_idx(tmp_path, n_test=10)
    gz = tmp_path / "t10k-images-idx3-ubyte.gz"
    packed_md5 = hashlib.md5(gz.read_bytes()).hexdigest()
    content_md5 = hashlib.md5(gzip.decompress(gz.read_bytes())).hexdigest()
    spec = DATASETS["fashion-mnist"]
    images, labels = spec.test

    def load_with(**changes: str | None) -> ImageArrays:
        original = dataclasses.replace(images, records=10, **changes)
        test = (original, dataclasses.replace(labels, records=10, md5=None, gz_md5=None))
        patched = dict(DATASETS, **{"fashion-mnist": dataclasses.replace(spec, test=test)})
        monkeypatch.setattr(catalogue, "DATASETS", patched)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the counts are the original's: no subset warning
            return load_arrays("fashion-mnist", "test", data_dir=tmp_path)

    assert len(load_with(md5=content_md5, gz_md5=None)) == 10
    assert len(load_with(md5="0" * 32, gz_md5=packed_md5)) == 10  # the publisher's .gz, as is
    assert len(load_with(md5=None, gz_md5="0" * 32)) == 10  # recompressed MNIST: structure only
    with pytest.raises(DataIntegrityError, match=f"md5 {content_md5}, expected {'0' * 32}"):
        load_with(md5="0" * 32, gz_md5="1" * 32)


# ---------------------------------------------------------------------------------------------
# CIFAR


@subset_ok
def test_cifar10_python_batches(tmp_path: Path) -> None:
    make_cifar10(tmp_path / "cifar-10-batches-py")
    train = load_arrays("cifar10", data_dir=tmp_path)
    test = load_arrays("cifar10", "test", data_dir=tmp_path)
    assert train.images.shape == (20, 3, 32, 32) and train.images.dtype == torch.uint8
    assert test.images.shape == (4, 3, 32, 32) and train.labels.dtype == torch.int64
    assert train.classes == DATASETS["cifar10"].classes
    # Batch 2, image 3: red plane 2, green 3, blue 200; the batches in order.
    assert train.images[4 * 2 + 3, :, 5, 7].tolist() == [2, 3, 200]
    assert train.labels[:8].tolist() == [0, 1, 2, 3, 1, 2, 3, 4]
    assert test.images[0, 0].unique().tolist() == [5]


def test_cifar_checksum_applies_at_the_original_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_cifar10(tmp_path, per_batch=4)
    with pytest.warns(DataSubsetWarning, match="holds 4 images, the original 10000"):
        load_arrays("cifar10", "test", data_dir=tmp_path)
    # Were the original 4 images, these would have to be its bytes.
    spec = DATASETS["cifar10"]
    test = (dataclasses.replace(spec.test[0], records=4),)
    patched = dict(DATASETS, cifar10=dataclasses.replace(spec, test=test))
    monkeypatch.setattr(catalogue, "DATASETS", patched)
    found = hashlib.md5((tmp_path / "test_batch").read_bytes()).hexdigest()
    with pytest.raises(
        DataIntegrityError,
        match=f"test_batch: 4 images as the original .* md5 {found}, "
        "expected 40351d587109b95175f43aff81a1287e",
    ):
        load_arrays("cifar10", "test", data_dir=tmp_path)


@subset_ok
def test_cifar100_fine_labels_and_meta(tmp_path: Path) -> None:
    spec = DATASETS["cifar100"]
    root = tmp_path / "cifar100" / "cifar-100-python"
    root.mkdir(parents=True)
    meta = {
        b"fine_label_names": [c.encode() for c in spec.classes],
        b"coarse_label_names": [b"x"] * 20,
    }
    (root / "meta").write_bytes(pickle.dumps(meta, protocol=2))
    data = np.arange(6 * 3072, dtype=np.uint8).reshape(6, 3072)
    for name in ("train", "test"):
        batch = {b"data": data, b"fine_labels": [0, 99, 5, 42, 7, 1], b"coarse_labels": [0] * 6}
        (root / name).write_bytes(pickle.dumps(batch, protocol=2))
    arrays = load_arrays("cifar100", data_dir=tmp_path)
    assert arrays.labels.tolist() == [0, 99, 5, 42, 7, 1]
    assert arrays.classes[99] == "worm" and len(arrays.classes) == 100
    assert torch.equal(arrays.images.flatten(), torch.from_numpy(data).flatten())


class _Exploit:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (print, ("a pickle ran code",))


@subset_ok
@pytest.mark.parametrize(
    ("damage", "match"),
    [
        ("truncated", r"data_batch_1: not a readable CIFAR pickle"),
        ("code", r"data_batch_1: not a CIFAR batch: it refers to __builtin__\.print"),
        ("shape", r"data_batch_1: 'data' is uint8 \(4, 3000\), expected uint8 \(N, 3072\)"),
        ("labels", r"data_batch_1: 3 'labels' for 4 images"),
        ("range", r"data_batch_1: labels range over 0\.\.12"),
        ("meta", r"batches.meta: class names under 'label_names': 9 names"),
        ("list", r"data_batch_1: holds a list, expected a CIFAR dict"),
    ],
)
def test_damaged_cifar_is_an_error_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str, match: str
) -> None:
    make_cifar10(tmp_path)
    path = tmp_path / "data_batch_1"
    batch = pickle.loads(path.read_bytes(), encoding="bytes")
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:-500])
    elif damage == "code":
        batch[b"filenames"] = _Exploit()
    elif damage == "shape":
        batch[b"data"] = batch[b"data"][:, :3000]
    elif damage == "labels":
        batch[b"labels"] = batch[b"labels"][:3]
    elif damage == "range":
        batch[b"labels"][1] = 12
    elif damage == "meta":
        names = [c.encode() for c in DATASETS["cifar10"].classes[:9]]
        (tmp_path / "batches.meta").write_bytes(pickle.dumps({b"label_names": names}))
    elif damage == "list":
        batch = [batch]
    if damage not in ("truncated", "meta"):
        path.write_bytes(pickle.dumps(batch, protocol=2))
    with pytest.raises(DataIntegrityError, match=match):
        load_arrays("cifar10", data_dir=tmp_path)
    assert "ran code" not in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------
# Image folders


def save(path: Path, image: Image.Image) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


def make_folder(root: Path) -> dict[str, int]:
    """Three classes of PNGs and JPEGs in mixed modes and sizes."""
    counts = {"cat": 10, "dog": 3, "eel": 1}
    modes = ["RGB", "L", "RGBA", "P", "CMYK", "I;16"]
    for c, (name, n) in enumerate(counts.items()):
        for i in range(n):
            mode = modes[(i + c) % len(modes)]
            size = (20 + 7 * i, 30 + 3 * c)
            suffix = ".jpg" if mode == "CMYK" else ".png"
            image = Image.new("RGB", size, (40 * c, 20 * i, 100)).convert(mode)
            save(root / name / f"{i:02d}{suffix.upper() if i == 2 else suffix}", image)
    (root / "cat" / "notes.txt").write_text("not an image")
    (root / "cat" / "._00.png").write_bytes(b"macOS resource fork")
    return counts


def test_folder_split_is_stratified_and_deterministic(tmp_path: Path) -> None:
    counts = make_folder(tmp_path)
    split = image_folder_split(tmp_path, val_fraction=0.2, seed=3)
    assert split.classes == ("cat", "dog", "eel")
    assert split == image_folder_split(tmp_path, val_fraction=0.2, seed=3)
    assert split != image_folder_split(tmp_path, val_fraction=0.2, seed=4)
    val_counts = [sum(1 for _, label in split.val if label == c) for c in range(3)]
    assert val_counts == [2, 1, 0]  # 10·0.2; at least one of 3; none of the only eel
    everything = sorted(split.train + split.val)
    assert len(everything) == sum(counts.values()) == len(set(everything))
    assert all(p.parent.name == split.classes[label] for p, label in everything)
    assert not any(p.name.startswith(".") or p.suffix == ".txt" for p, _ in everything)
    assert image_folder_split(tmp_path, val_fraction=0.0).val == []


def test_folder_images_decode_any_mode(tmp_path: Path) -> None:
    make_folder(tmp_path)
    split = image_folder_split(tmp_path, val_fraction=0.2)
    samples = split.train + split.val
    for channels in (1, 3):
        dataset = FolderImages(samples, size=16, channels=channels)
        assert len(dataset) == 14
        for i in range(len(dataset)):
            image, label = dataset[i]
            assert image.shape == (channels, 16, 16) and image.dtype == torch.uint8
            assert label == samples[i][1]
    arrays = load_folder_arrays(samples, 12, 3, classes=split.classes, name="pets")
    assert arrays.images.shape == (14, 3, 12, 12) and arrays.classes == ("cat", "dog", "eel")
    assert arrays.labels.tolist() == [label for _, label in samples]
    assert torch.equal(arrays.images[5], read_image(samples[5][0], 12, 3))
    assert load_folder_arrays([], 8, 1).images.shape == (0, 1, 8, 8)


def test_read_image_converts_values_faithfully(tmp_path: Path) -> None:
    # A wide image in thirds, red | green | blue: the centre crop keeps the green third.
    thirds = Image.new("RGB", (60, 20), (255, 0, 0))
    thirds.paste((0, 255, 0), (20, 0, 40, 20))
    thirds.paste((0, 0, 255), (40, 0, 60, 20))
    centre = read_image(save(tmp_path / "thirds.png", thirds), 10, 3)
    assert centre.shape == (3, 10, 10)
    assert centre[:, 2:8, 2:8].reshape(3, -1).unique(dim=1).T.tolist() == [[0, 255, 0]]
    # A tall image: its upright middle; greyscale of pure green by ITU-R 601-2 is 150.
    tall = Image.new("RGB", (20, 60), (0, 255, 0))
    assert read_image(save(tmp_path / "tall.png", tall), 8, 1).unique().tolist() == [150]
    # 16-bit greyscale scales to 8 bits instead of clipping: 32896/65535 is 128/255.
    deep = Image.fromarray(np.full((9, 9), 32896, dtype=np.uint16))
    assert deep.mode == "I;16"
    assert read_image(save(tmp_path / "deep.png", deep), 4, 1).unique().tolist() == [128]
    # Transparent pixels are black whatever colour they store; opaque ones keep theirs.
    rgba = Image.new("RGBA", (8, 8), (255, 255, 255, 0))
    rgba.paste((10, 20, 30, 255), (0, 0, 8, 4))
    pixels = read_image(save(tmp_path / "alpha.png", rgba), 8, 3)
    assert pixels[:, 0, 0].tolist() == [10, 20, 30] and pixels[:, 7, 7].tolist() == [0, 0, 0]
    palette = Image.new("RGB", (6, 6), (200, 100, 50)).quantize(colors=4)
    assert palette.mode == "P"
    assert read_image(save(tmp_path / "p.png", palette), 3, 3)[:, 1, 1].tolist() == [200, 100, 50]
    # A phone photo stored sideways with EXIF orientation 6 (rotate 90° clockwise to view).
    sideways = Image.new("RGB", (40, 20), (0, 0, 0))
    sideways.paste((255, 255, 255), (0, 0, 20, 20))  # the left half as stored: the top as seen
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "phone.jpg"
    sideways.save(path, exif=exif, quality=95)
    upright = read_image(path, 20, 1)[0]
    assert upright.shape == (20, 20)
    assert upright[:5].float().mean() > 200 and upright[15:].float().mean() < 50
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(DataIntegrityError, match=f"{broken}: not a readable image"):
        read_image(broken, 8, 3)
    with pytest.raises(ValueError, match="channels 2: expected 1"):
        FolderImages([], 8, 2)


def test_float_images_keep_their_values(tmp_path: Path) -> None:
    """A float TIFF (mode F) in [0, 1] became black: PIL's convert clips it to 0 and 1."""
    half = Image.fromarray(np.full((6, 6), 0.5, dtype=np.float32))
    assert half.mode == "F"
    assert read_image(save(tmp_path / "half.tiff", half), 4, 1).unique().tolist() == [128]
    assert read_image(tmp_path / "half.tiff", 4, 3)[:, 0, 0].tolist() == [128, 128, 128]
    # Values outside [0, 1] (counts, Kelvin) are stretched over their own range.
    ramp = np.zeros((4, 8), dtype=np.float32)
    ramp[:, 4:] = 1000.0
    ramp[0, 0] = np.nan  # as black
    stretched = read_image(save(tmp_path / "counts.tiff", Image.fromarray(ramp)), 4, 1)
    assert stretched[0, :, 0].tolist() == [0, 0, 0, 0] and stretched[0, :, 3].tolist() == [255] * 4


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header promises ``width`` x ``height`` 1-bit pixels, in well under 1 KB: a
    decompression bomb's shape (its pixels would take width x height bytes once decoded)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    rows = zlib.compress(b"\0" * (1 + (width + 7) // 8) * 8)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def test_decompression_bombs_are_refused_from_their_header(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 100,000 x 100,000 PNG of a few hundred bytes was a traceback (PIL's error); one between
    PIL's limit and twice it decoded with a warning."""
    bomb = tmp_path / "bomb" / "a" / "bomb.png"
    bomb.parent.mkdir(parents=True)
    bomb.write_bytes(_png_header(100_000, 100_000))
    assert bomb.stat().st_size < 1024
    with pytest.raises(DataIntegrityError, match=f"{bomb}: refused, .*decompression bomb"):
        read_image(bomb, 8, 1)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)
    near = save(tmp_path / "near.png", Image.new("L", (150, 100)))  # 1.5x the limit: PIL warns
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing escapes as a warning
        with pytest.raises(DataIntegrityError, match=r"150x100 = 15,000 pixels is more than"):
            read_image(near, 8, 1)
        samples = [(near, 0), (save(tmp_path / "ok.png", Image.new("L", (90, 100))), 0)]
        with pytest.raises(DataIntegrityError, match=r"near\.png: refused"):
            load_folder_arrays(samples, 8, 1)  # decoded on threads
    assert read_image(samples[1][0], 8, 1).shape == (1, 8, 8)


def test_folder_errors_say_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="does not exist"):
        image_folder_split(tmp_path / "nowhere")
    (tmp_path / "empty" / "a").mkdir(parents=True)
    with pytest.raises(DataNotFoundError, match=r"no images \(\.jpg .*\) in 1 sub-folders"):
        image_folder_split(tmp_path / "empty")
    save(tmp_path / "loose" / "x.png", Image.new("RGB", (4, 4)))
    with pytest.raises(DataNotFoundError, match="1 images lie directly in it"):
        image_folder_split(tmp_path / "loose")
    save(tmp_path / "one" / "cats" / "x.png", Image.new("RGB", (4, 4)))
    with pytest.raises(ValueError, match="has one class, 'cats' with 1 images"):
        image_folder_split(tmp_path / "one")
    (tmp_path / "one" / "dogs").mkdir()
    with pytest.raises(DataNotFoundError, match="the class folders dogs hold no images"):
        image_folder_split(tmp_path / "one")
    with pytest.raises(ValueError, match=r"val_fraction 1.0: expected a fraction in \[0, 1\)"):
        image_folder_split(tmp_path / "one", val_fraction=1.0)


class _RawArray:
    """Pickles as numpy's own ndarray reduction does, with a state the test chooses: the way a
    crafted file builds an object array whose 'pointers' are bytes of the file."""

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype, raw: bytes) -> None:
        self.state = (1, shape, dtype, False, raw)

    def __reduce__(self) -> tuple[object, ...]:
        from numpy.core.multiarray import _reconstruct  # type: ignore[attr-defined]

        return (_reconstruct, (np.ndarray, (0,), b"b"), self.state)


@subset_ok
@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        (b"labels", _RawArray((4,), np.dtype(object), b"\x41" * 32), r"dtype O8 .* not read"),
        (b"data", _RawArray((4, 3072), np.dtype(object), b"\x41" * 32), r"dtype O8 .* not read"),
        (b"data", _RawArray((4, 3072), np.dtype(np.uint8), b"\x00" * 100), r"100 bytes of data"),
        (b"labels", _RawArray((4,), np.dtype(">i8"), b"\x00" * 32), r"dtype i8"),
        (b"labels", [0, 1, "2", 3], r"expected a list of integer labels"),
        (b"labels", np.array([1, 2, 3, 4], dtype=np.float32), r"dtype f4"),
    ],
)
def test_a_crafted_cifar_array_is_refused_by_name_not_dereferenced(
    tmp_path: Path, field: bytes, value: object, match: str
) -> None:
    """numpy would build an object array from raw bytes of the file and dereference them when
    the labels are converted (a segfault under the file's control): arrays are parsed as data,
    and only uint8 images and integer labels of the right size are accepted."""
    make_cifar10(tmp_path)
    path = tmp_path / "data_batch_1"
    batch = pickle.loads(path.read_bytes(), encoding="bytes")
    batch[field] = value
    path.write_bytes(pickle.dumps(batch, protocol=2))
    with pytest.raises(DataIntegrityError, match=match):
        load_arrays("cifar10", data_dir=tmp_path)


@subset_ok
def test_cifar_labels_stored_as_an_integer_array_load(tmp_path: Path) -> None:
    make_cifar10(tmp_path)
    path = tmp_path / "data_batch_1"
    batch = pickle.loads(path.read_bytes(), encoding="bytes")
    labels = list(batch[b"labels"])
    batch[b"labels"] = np.array(labels, dtype=np.int64)
    for protocol in (2, 5):
        path.write_bytes(pickle.dumps(batch, protocol=protocol))
        assert load_arrays("cifar10", data_dir=tmp_path).labels[:4].tolist() == labels


@pytest.mark.parametrize("packed", [True, False])
def test_a_file_larger_than_its_format_allows_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, packed: bool
) -> None:
    """A 1 MB .gz that inflates to 60 MB used to be inflated whole (2.6 GB of memory for a
    47 MB promise) before any check: it is now stopped within one 16 MiB chunk of the limit,
    16 + 60,000·784 bytes for Fashion-MNIST's training images."""
    import gzip
    import tracemalloc

    make_idx(tmp_path)
    images = tmp_path / "train-images-idx3-ubyte.gz"
    bomb = idx_bytes(np.zeros((80_000, 28, 28), dtype=np.uint8))  # 62.7 MB of zeros
    if packed:
        images.write_bytes(gzip.compress(bomb))
        assert images.stat().st_size < 200_000
    else:
        images.unlink()
        images.with_suffix("").write_bytes(bomb)
    tracemalloc.start()
    with pytest.raises(DataIntegrityError, match=r"more than the 47,040,016 bytes the format"):
        load_arrays("fashion-mnist", data_dir=tmp_path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 120e6 if packed else peak < 10e6  # never the whole file, nor more
