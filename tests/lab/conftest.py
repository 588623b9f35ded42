"""The lab's fixtures: a runs root with one finished run in it, the lab serving it, and a
headless Chromium to open it in; each made once."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


@contextlib.contextmanager
def serving(root: Path) -> Iterator[str]:
    """The lab over ``root``, served by uvicorn in a thread as ``cnnzoo lab`` serves it, on a
    free loopback port; stopped (its runs with it) on leaving."""
    import uvicorn

    from cnnzoo.lab import create_app
    from cnnzoo.lab.server import bind

    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(create_app(root), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the lab did not start"
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(60)
        sock.close()


@pytest.fixture(scope="session")
def lab_url(runs_root: Path) -> Iterator[str]:
    """The lab over :func:`runs_root`."""
    with serving(runs_root) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium driven by Playwright (its own browser download is never
    used)."""
    from playwright.sync_api import sync_playwright

    from tests.helpers import CHROMIUM

    if CHROMIUM is None:
        pytest.skip("no Chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def experiment_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``ROOT/kernel-stacking-quick``: an experiment at a tiny size, its runs inside it."""
    if not have_fashion_mnist():
        pytest.skip("Fashion-MNIST files not found")
    from cnnzoo.experiments import run_experiment
    from tests.helpers import TINY

    root = tmp_path_factory.mktemp("lab-experiments")
    run_experiment("kernel-stacking", out=root, seeds=1, overrides=TINY)
    return root
