"""The lab's fixtures: a runs root with one finished run in it, made once."""

from __future__ import annotations

from pathlib import Path

import pytest

from cnnzoo.cli import main
from cnnzoo.train import train
from tests.helpers import have_fashion_mnist, small_config


@pytest.fixture(scope="session")
def runs_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``ROOT/lenet``: a short LeNet run, evaluated (so it has its confusion.png). Tests
    that add to the root add folders of their own and leave this one as it is."""
    if not have_fashion_mnist():
        pytest.skip("Fashion-MNIST files not found")
    root = tmp_path_factory.mktemp("lab-runs")
    config = small_config(root, "lenet", train_subset=128, test_subset=64, epochs=2)
    run = train(config, progress=False).run_dir
    assert main(["eval", str(run)]) == 0
    return root
