"""What the tests share: the data they need, small training configs, and comparisons.

The small training config is lenet5_modern (no batch norm, no dropout, so runs compare
exactly) for three epochs of 8 steps on 512 Fashion-MNIST images with the fast recipe's
augmentation, evaluated on 255 test images (odd, so two processes cannot split them evenly).
Its rate is the fast recipe's 0.2 per 256 images scaled to batches of 64: at 0.2 these few
steps are chaotic, and rounding differences of 1e-9 grow to 1e-4 within 24 steps, too much to
compare two processes with one.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from cnnzoo.data.catalogue import DataNotFoundError
from cnnzoo.data.search import locate
from cnnzoo.train import TrainConfig, load_checkpoint, resolve_config


def have_fashion_mnist() -> bool:
    try:
        locate("fashion-mnist", download=False)
    except DataNotFoundError:
        return False
    return True


def requires(what: str, available: bool) -> pytest.MarkDecorator:
    """A test that needs ``what`` from the machine. Without it the test is skipped locally;
    under CI=true (as .ci/run sets) the run stops and names it (``tests/conftest.py``), so a
    green CI means every such test ran."""
    return pytest.mark.requires(what=what, available=available)


needs_data = requires("the Fashion-MNIST files (no download in tests)", have_fashion_mnist())

SMALL: dict[str, Any] = dict(
    train_subset=512,
    test_subset=255,
    batch_size=64,
    lr=0.05,
    epochs=3,
    deterministic=True,
    threads=1,
)
# The only fields two runs may differ in: how fast, and on how many threads, they trained.
TIMING = {"images_per_s", "epoch_time_s", "time_s", "threads"}


def small_config(out: Path, name: str, model: str = "lenet5_modern", **changes: Any) -> TrainConfig:
    return resolve_config(model, "fast", out=str(out), name=name, **{**SMALL, **changes})


def weights(run: Path, key: str = "model") -> dict[str, torch.Tensor]:
    """The final weights of a run folder, as its checkpoint holds them."""
    return load_checkpoint(run)[key]


def assert_same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    differ = [k for k in a if not torch.equal(a[k], b[k])]
    assert not differ, f"tensors differ: {differ}"


def without_timing(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k not in TIMING} for row in history]


def options(values: dict[str, Any]) -> list[str]:
    """``cnnzoo train`` options for config ``values``: ``--batch-size=64``, ``--deterministic``."""
    return [f"--{k.replace('_', '-')}" + ("" if v is True else f"={v}") for k, v in values.items()]


# An experiment at a size that runs in seconds.
TINY = dict(train_subset=64, test_subset=64, epochs=2, batch_size=32, threads=1)


def assert_picture(path: Path, min_width: int = 400) -> None:
    """A PNG of a readable size with something drawn on it (not one flat colour)."""
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.width >= min_width and image.height >= 200
        pixels = np.asarray(image.convert("L"), dtype=float)
    assert pixels.std() > 5, f"{path} looks blank"


LISTING_FILE = Path(__file__).parent.parent / "src" / "cnnzoo" / "listing.py"
_LISTING_START = "# In the registry's order"


def listing_now() -> dict[str, tuple[Any, ...]]:
    """Each model's row of ``cnnzoo.listing`` as the registry and the builders make it now."""
    from cnnzoo import create_model, list_models, model_info
    from cnnzoo.anatomy.compare import compare

    rows = {}
    for name, figures in zip(list_models(), compare(list_models()), strict=True):
        info = model_info(name)
        model = create_model(name, device="meta")
        params = model.num_params()
        extra = model.num_params(training=True) - params
        rows[name] = (
            info.family,
            info.paper.year,
            tuple(info.input_size),
            info.params.text if info.params else "",
            len(info.deviations),
            params,
            extra,
            tuple(model.training_only()),
            figures.macs,
            figures.depth,
            figures.receptive_field,
        )
    return rows


def write_listing() -> None:
    """Write ``src/cnnzoo/listing.py`` afresh (``make listing``)."""
    rows = "".join(f"    {name!r}: Listed{row!r},\n" for name, row in listing_now().items())
    text = LISTING_FILE.read_text()
    head = text[: text.index(_LISTING_START)]
    table = f"{_LISTING_START}: historical, by the year each family first appeared.\n"
    LISTING_FILE.write_text(f"{head}{table}LISTING: dict[str, Listed] = {{\n{rows}}}\n")


CHROMIUM = shutil.which("chromium-headless-shell") or shutil.which("chromium")
needs_chromium = requires("headless Chromium", CHROMIUM is not None)


def chromium(*args: str) -> str:
    """Headless Chromium's output for ``args`` (``--dump-dom URL``, ``--screenshot=...``)."""
    assert CHROMIUM is not None
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout
