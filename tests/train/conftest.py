"""Fixtures of the training tests: the reference run, data read once, a stop at a chosen step.

The reference run is :func:`tests.helpers.small_config`'s (its docstring says why it is so).
"""

from __future__ import annotations

import functools
import signal
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import torch

from cnnzoo.train import RunResult, train
from tests.helpers import have_fashion_mnist, small_config


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
    if not have_fashion_mnist():
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
