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


# What the suite needs from the machine (``tests.helpers.requires``). Locally a test skips
# without it; under CI=true (as .ci/run sets) the run stops at once and says what is missing, so
# a green CI means every training and browser test ran.
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing: set[str] = set()
    for item in items:
        for mark in item.iter_markers("requires"):
            if not mark.kwargs["available"]:
                missing.add(mark.kwargs["what"])
                item.add_marker(pytest.mark.skip(reason=f"{mark.kwargs['what']} not found"))
    if missing and os.environ.get("CI") == "true":
        raise pytest.UsageError(
            f"CI=true, but {'; '.join(sorted(missing))} not found: .ci/run installs them "
            "(Debian's dataset-fashion-mnist and chromium-headless-shell)"
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
