"""From a data set to a model's input: the size and channels each model gets, and image folders
held in memory or streamed by workers."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from cnnzoo import ModelInfo, model_info
from cnnzoo.data import pipeline
from cnnzoo.data.augment import Augment
from cnnzoo.data.inputs import Fit, choose_fit
from cnnzoo.data.loader import InMemoryLoader, StreamLoader
from cnnzoo.train import TrainConfig, resolve_config, train

FASHION = (1, 28, 28)


def _fit(config: TrainConfig, info: ModelInfo) -> Fit:
    return choose_fit(info, FASHION, config.channels, config.fit, config.image_size)


@pytest.mark.parametrize(
    ("model", "channels", "expected"),
    [
        ("lenet5", "data", Fit((32, 32), 1, "pad")),  # the paper's 32x32 field (§III.A)
        ("lenet5_modern", "data", Fit((32, 32), 1, "pad")),
        ("resnet20", "data", Fit((28, 28), 1, "resize")),  # accepts 28x28 as it is
        ("alexnet", "model", Fit((227, 227), 3, "resize")),  # below its 67 px minimum: the paper's
        ("vgg16", "data", Fit((28, 28), 1, "resize")),  # 32 px minimum? no: 28 fits
    ],
)
def test_each_model_gets_its_input(model: str, channels: str, expected: Fit) -> None:
    info = model_info(model)
    fit = _fit(resolve_config(model, channels=channels), info)
    if model == "vgg16" and info.min_input_size[0] > 28:
        expected = Fit(info.input_size[1:], 1, "resize")
    assert fit == expected


def test_image_size_option_wins() -> None:
    fit = _fit(resolve_config("resnet20", image_size=64), model_info("resnet20"))
    assert fit == Fit((64, 64), 1, "resize")


def _folder(root: Path, per_class: int = 12) -> Path:
    for c, colour in enumerate([(250, 20, 20), (20, 250, 20), (20, 20, 250)]):
        folder = root / f"class{c}"
        folder.mkdir(parents=True)
        for i in range(per_class):
            size = (20 + 3 * i, 16 + 2 * c)
            Image.new("RGB", size, tuple(max(0, v - 5 * i) for v in colour)).save(
                folder / f"{i}.png"
            )
    return root


@pytest.mark.parametrize("stream", [False, True])
def test_image_folder_in_memory_or_streamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stream: bool
) -> None:
    root = _folder(tmp_path / "photos")
    if stream:
        monkeypatch.setattr(pipeline, "IN_MEMORY_BYTES", 0)
    data = pipeline.build_data(
        str(root), Fit((16, 16), 3), Augment(flip=True), 6, val_fraction=0.25, workers=0
    )
    assert isinstance(data.train, StreamLoader if stream else InMemoryLoader)
    assert data.classes == ("class0", "class1", "class2")
    assert data.train.num_samples == 24 and data.test.num_samples == 9  # 3 per class
    images, _ = next(iter(data.train))
    assert images.shape == (6, 3, 16, 16) and images.dtype == torch.float32
    seen = torch.cat([y for _, y in data.test])
    assert sorted(seen.tolist()) == [0] * 3 + [1] * 3 + [2] * 3
    # The red class is reddest: the colours survive decoding, resizing and normalisation.
    x, y = next(iter(data.test))
    red = x[:, 0].mean((1, 2)) - x[:, 2].mean((1, 2))
    assert red[y == 0].min() > red[y == 2].max()


def test_training_on_an_image_folder(tmp_path: Path) -> None:
    root = _folder(tmp_path / "photos")
    config = resolve_config(
        "lenet5_modern",
        data=str(root),
        epochs=4,
        batch_size=6,
        lr=0.05,
        out=str(tmp_path / "runs"),
        threads=1,
        workers=0,
        val_fraction=0.25,
    )
    result = train(config, progress=False)
    assert result.run_dir == tmp_path / "runs" / "lenet5_modern-photos-fast"
    assert result.test.count == 9
    assert result.test.top1 >= 66.0  # three flat colours: separable after four short epochs
