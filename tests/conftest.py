import os
from pathlib import Path

import pytest
import torch

from cnnzoo.train import resolve_config, train

# `make test` runs two pytest workers on two cores: one thread each, or four OpenMP threads
# would spin on two cores (the slowdown the README warns of on busy machines).
if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


# What the suite needs from the machine. Locally a test skips without it; under CI=true (as
# .ci/run sets) the run stops at once and says what is missing, so a green CI means every
# training and browser test ran.
REQUIRED_IN_CI = (
    "Fashion-MNIST files not found",
    "Debian's dataset-fashion-mnist is not installed",
    "no headless Chromium installed",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("CI") != "true":
        return
    missing = {
        mark.kwargs.get("reason", "")
        for item in items
        for mark in item.iter_markers("skipif")
        if mark.args and mark.args[0] is True and mark.kwargs.get("reason") in REQUIRED_IN_CI
    }
    if missing:
        raise pytest.UsageError(
            f"CI=true, but {'; '.join(sorted(missing))}: .ci/run installs them (Debian's "
            "dataset-fashion-mnist and chromium-headless-shell)"
        )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A LeNet-5 and a ResNet-20 trained for one short epoch, for the tests that read runs."""
    out = tmp_path_factory.mktemp("runs")
    folders = {}
    for model in ("lenet5", "resnet20"):
        config = resolve_config(
            model,
            None,
            out=str(out),
            epochs=1,
            train_subset=512,
            test_subset=128,
            batch_size=64,
            lr=0.02,
            threads=1,
        )
        folders[model] = train(config, progress=False).run_dir
    return folders
