"""The README's pictures of the lab (``make lab-screenshots``): a short LeNet-5 run and a tiny
experiment in a scratch folder, the lab serving it, each page shot in headless Chromium."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

from cnnzoo.cli import main
from cnnzoo.experiments import run_experiment
from cnnzoo.lab import create_app
from cnnzoo.lab.server import bind
from cnnzoo.train import resolve_config, train

HERE = Path(__file__).parent
BROWSER = shutil.which("chromium-headless-shell") or shutil.which("chromium")


def _runs(root: Path) -> None:
    config = resolve_config("lenet5", out=str(root), name="lenet5", epochs=6, train_subset=8192)
    assert main(["eval", str(train(config, progress=False).run_dir)]) == 0
    quick = {"train_subset": 1024, "test_subset": 1024, "epochs": 3}
    run_experiment("kernel-stacking", out=root / "experiments", seeds=1, overrides=quick)


def shoot() -> None:
    root = Path(tempfile.mkdtemp(prefix="cnnzoo-lab-shots-"))
    _runs(root)
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(create_app(root), log_level="warning"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=BROWSER, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 800}, base_url=base)
        page.goto("/zoo")
        page.wait_for_selector("table.zoo tbody tr")
        page.locator("svg.cost").scroll_into_view_if_needed()
        page.screenshot(path=HERE / "zoo.png")
        page.goto("/models/resnet34")
        page.click("g.part[data-name='layer2.0']")
        page.wait_for_selector("#layer pre.arithmetic")
        page.screenshot(path=HERE / "model.png")
        page.goto("/runs/lenet5")
        page.wait_for_selector("svg.curve polyline")
        page.screenshot(path=HERE / "run.png")
        page.goto("/inside?run=lenet5")
        page.wait_for_selector("img.maps")
        page.fill("#test-index", "12")
        page.click("#show-test")
        page.locator(".inside", has_text="test image 12").wait_for()
        page.screenshot(path=HERE / "inside.png")
        page.goto("/experiments/experiments/kernel-stacking-quick")
        page.wait_for_selector("table.claims")
        page.screenshot(path=HERE / "experiment.png")
        browser.close()
    server.should_exit = True
    shutil.rmtree(root)


if __name__ == "__main__":
    shoot()
