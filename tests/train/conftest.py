"""Shared runs and helpers for the training tests: small, deterministic, one thread.

The reference run is lenet5_modern (no batch norm, no dropout, so runs compare exactly) for three
epochs of 8 steps on 512 Fashion-MNIST images with the fast recipe's augmentation, evaluated on
255 test images (odd, so two processes cannot split them evenly). Its rate is the fast recipe's
0.2 per 256 images scaled to batches of 64: at 0.2 these few steps are chaotic, and rounding
differences of 1e-9 grow to 1e-4 within 24 steps, too much to compare two processes with one.
"""

from __future__ import annotations

import functools
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

from cnnzoo.data.sources import DataNotFoundError, locate
from cnnzoo.train import RunResult, TrainConfig, load_checkpoint, resolve_config, train


def _have_fashion_mnist() -> bool:
    try:
        locate("fashion-mnist", download=False)
    except DataNotFoundError:
        return False
    return True


needs_data = pytest.mark.skipif(
    not _have_fashion_mnist(), reason="Fashion-MNIST files not found (no download in tests)"
)

SMALL: dict[str, Any] = dict(
    train_subset=512,
    test_subset=255,
    batch_size=64,
    lr=0.05,
    epochs=3,
    deterministic=True,
    threads=1,
)
TIMING = {"images_per_s", "epoch_time_s", "time_s"}  # the only fields two runs may differ in


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


@pytest.fixture(scope="session", autouse=True)
def _read_data_once() -> Iterator[None]:
    """Each run reads the same files; decompressing and checking them once saves ~0.6 s a run."""
    from cnnzoo.data import pipeline

    cached = functools.cache(pipeline.load_arrays)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline, "load_arrays", cached)
        yield


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    """The uninterrupted reference run; tests read it and must not change its folder."""
    if not _have_fashion_mnist():
        pytest.skip("Fashion-MNIST files not found")
    return train(small_config(tmp_path_factory.mktemp("runs"), "reference"), progress=False)


@pytest.fixture
def stop_at(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """``stop_at(n)`` sends this process a real SIGINT during global step ``n`` (from 1), or
    ``signum``; ``stop_at(n, error)`` raises ``error`` in step ``n`` instead, before the step
    changes anything (a crash)."""
    from cnnzoo.train import engine

    original = engine._Run.train_step

    def install(step: int, error: BaseException | None = None, signum: int = signal.SIGINT) -> None:
        fired = False  # once: the resumed run passes the same step again after a crash

        def train_step(run: Any, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
            nonlocal fired
            if run.global_step + 1 == step and not fired:
                fired = True
                if error is not None:
                    raise error
                signal.raise_signal(signum)
            return original(run, images, labels)

        monkeypatch.setattr(engine._Run, "train_step", train_step)

    return install
