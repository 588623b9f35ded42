"""The lab in a real browser: Debian's headless Chromium, driven by Playwright, clicking and
typing as a student would."""

from __future__ import annotations

import contextlib
import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from cnnzoo.experiments import EXPERIMENTS
from cnnzoo.listing import LISTING
from cnnzoo.models import model_info
from tests.helpers import needs_chromium, needs_data
from tests.lab.conftest import serving

pytestmark = [needs_data, needs_chromium]


@pytest.fixture
def page(browser: Any, lab_url: str) -> Iterator[Any]:
    """A fresh tab on the lab over the shared runs root."""
    with _tab(browser, lab_url) as tab:
        yield tab


@contextlib.contextmanager
def _tab(browser: Any, url: str) -> Iterator[Any]:
    """A fresh tab; any script error on it fails the test (a refused request is the page's to
    show, and each test that makes one reads what the page says)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, base_url=url)
    tab = context.new_page()
    errors: list[str] = []

    def console(message: Any) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.on("console", console)
    yield tab
    context.close()
    assert not errors, errors


def _not_blank(tab: Any) -> None:
    pixels = np.asarray(Image.open(io.BytesIO(tab.screenshot(full_page=True))).convert("L"))
    assert pixels.std() > 20 and len(np.unique(pixels)) > 50


def _width(image: Any) -> int:
    """The natural width of a picture once it has loaded (0: it did not)."""
    return int(image.evaluate("img => img.decode().then(() => img.naturalWidth, () => 0)"))


def _rows(tab: Any) -> list[str]:
    return tab.locator("table.zoo tbody tr").evaluate_all("rows => rows.map(r => r.dataset.model)")


def test_the_zoo_filters_sorts_and_charts_every_model(page: Any) -> None:
    page.goto("/zoo")
    page.wait_for_selector("table.zoo tbody tr")
    assert len(_rows(page)) == 52
    page.fill("input[type=search]", "resnet3")
    assert _rows(page) == ["resnet32", "resnet34"]
    assert page.inner_text("[aria-live=polite]") == "2 of 52 models"
    page.fill("input[type=search]", "")
    page.select_option("select", "VGG")
    page.focus("th[data-key=params] button")  # by the keyboard
    page.keyboard.press("Enter")
    assert _rows(page)[0] == "vgg11"
    page.keyboard.press("Enter")
    assert (
        _rows(page)[0] == "vgg19_bn"
        and page.get_attribute("th[data-key=params]", "aria-sort") == "descending"
    )
    # the chart: a point for each model whose paper reports a top-5 error, each a link
    reported = [n for n in LISTING if model_info(n).top5_error is not None]
    assert page.locator("svg.cost a circle").count() == len(reported) > 10
    _not_blank(page)


def test_a_model_shows_a_blocks_arithmetic_when_clicked(page: Any) -> None:
    page.goto("/zoo")
    page.click("a[href='/models/resnet34']")
    page.wait_for_selector(".diagram svg g.part")
    assert page.url.endswith("/models/resnet34")
    page.click("g.part[data-name='layer2.0']")
    detail = page.inner_text("#layer")
    assert "layer2.0" in detail and "128×28×28" in detail
    assert "(56 - 3 + 2·1)/2 + 1 = 28.5 → 28 (floored)" in detail  # the /2 convolution
    assert "3·3·64·128 = 73,728" in detail
    assert "83×83" in detail  # its receptive field, also drawn over the input
    assert page.locator("#layer svg.field rect").count() == 2
    # drawn over a demo photo at the network's input size
    assert "demo-image?name=chelsea&height=224&width=224" in (
        page.get_attribute("#layer svg.field image", "href") or ""
    )
    # the keyboard reaches the same: a block is a button
    page.focus("g.part[data-name='conv1']")
    page.keyboard.press("Enter")
    assert "(224 - 7 + 2·3)/2 + 1 = 112.5 → 112 (floored)" in page.inner_text("#layer")
    _not_blank(page)


def test_a_model_retraced_at_another_input_size_warns_of_misfits(page: Any) -> None:
    page.goto("/models/alexnet")
    page.wait_for_selector(".diagram svg")
    assert "60,965,224 parameters" in page.inner_text(".totals")
    page.fill("#input-size", "3x224x224")
    page.click("button[type=submit]")
    page.wait_for_url("**/models/alexnet?input=3x224x224")
    page.wait_for_selector(".warning")
    assert "do not fit their input" in page.inner_text(".warning")
    page.fill("#input-size", "3x8x8")
    page.click("button[type=submit]")
    page.wait_for_selector("[role=alert]")
    assert "8x8" in page.inner_text("[role=alert]")


def test_a_run_shows_its_curves_config_and_confusion_matrix(page: Any) -> None:
    page.goto("/runs")
    page.wait_for_selector("table.runs tbody tr")
    page.click("table.runs a:text('lenet')")
    page.wait_for_selector("svg.curve polyline")
    lines = page.locator("svg.curve polyline.series")
    assert lines.count() == 4  # train and test, loss and accuracy
    assert lines.first.get_attribute("points").count(",") == 2  # two epochs
    assert "finished" in page.inner_text("main")
    assert _width(page.locator(".pictures img")) > 100
    assert "train_subset" in page.inner_text("table.config")
    _not_blank(page)


def test_a_run_named_like_markup_is_shown_as_text(page: Any, runs_root: Path) -> None:
    name = "<img src=x onerror=window.pwned=1>"
    shutil.copytree(runs_root / "lenet", runs_root / name)
    try:
        page.goto("/runs")
        page.wait_for_selector(f"tr[data-run='{name}']")
        assert name in page.inner_text("table.runs")
        assert page.locator("table.runs img").count() == 0
        assert page.evaluate("window.pwned") is None
    finally:
        shutil.rmtree(runs_root / name)


def test_a_run_started_from_the_page_finishes_and_one_stopped_resumes(
    browser: Any, tmp_path: Path
) -> None:
    with serving(tmp_path) as url, _tab(browser, url) as tab:
        tab.goto("/runs")
        tab.wait_for_selector("form.new-run")
        tab.select_option("#new-model", "lenet5")
        tab.fill("#new-epochs", "2")
        tab.fill("#new-subset", "256")
        tab.fill("#new-test-subset", "200")
        tab.fill("#new-threads", "1")
        tab.click("form.new-run button[type=submit]")
        tab.wait_for_url("**/runs/lenet5-fashion-mnist-*")
        tab.wait_for_selector(".status-finished", timeout=120_000)
        assert tab.locator("svg.curve polyline.series").count() == 4
        assert "epoch 2/2" in tab.text_content("pre.log")
        tab.click("#evaluate")
        tab.locator(".evaluation", has_text="200 test images").wait_for(timeout=120_000)
        assert tab.locator(".per-class tbody tr").count() == 10
        assert _width(tab.locator(".pictures img")) > 100  # its confusion matrix
        first = tab.url
        tab.click("nav a[data-page=runs]")
        tab.wait_for_selector("table.runs tbody tr")
        assert "finished" in tab.inner_text("table.runs")

        tab.fill("#new-epochs", "1000")  # more than it trains before it is stopped
        tab.fill("#new-subset", "256")
        tab.fill("#new-test-subset", "200")
        tab.fill("#new-threads", "1")
        tab.click("form.new-run button[type=submit]")
        tab.wait_for_url(lambda url: "/runs/lenet5-fashion-mnist-" in url and url != first)
        tab.wait_for_selector("svg.curve polyline.series", timeout=120_000)  # an epoch
        tab.click("#stop")
        tab.wait_for_selector(".status-stopped", timeout=120_000)
        assert "checkpoint saved" in tab.text_content("pre.log")
        tab.click("#resume")
        tab.wait_for_selector(".status-running", timeout=120_000)
        tab.wait_for_selector("#stop")
        _not_blank(tab)


def test_inside_a_layer_a_test_image_then_an_upload(page: Any, tmp_path: Path) -> None:
    page.goto("/runs/lenet")
    page.click("text=Look inside its network")
    page.wait_for_selector("img.maps")
    assert "6 of 6 maps, 28×28" in page.inner_text(".inside")
    assert page.locator(".scores li").count() == 10
    page.select_option("#layer-choice", "features.c3")
    page.locator(".inside", has_text="16 of 16 maps").wait_for()
    photo = tmp_path / "photo.png"
    Image.new("RGB", (120, 90), (220, 220, 220)).save(photo)
    page.set_input_files("#upload", str(photo))
    page.locator(".inside", has_text="the uploaded image").wait_for()
    for picture in ("img.input", "img.maps", "img.filters", "img.cam"):
        assert _width(page.locator(picture)) > 0, picture
    page.set_input_files("#upload", str(Path(__file__)))  # not an image
    page.locator("[role=status]", has_text="not a readable image").wait_for()
    _not_blank(page)


def test_an_experiment_page_shows_its_verdicts_plots_and_runs(
    browser: Any, experiment_root: Path
) -> None:
    with serving(experiment_root) as url, _tab(browser, url) as tab:
        tab.goto("/experiments")
        tab.click("a[href='/experiments/kernel-stacking-quick']")
        tab.wait_for_selector("table.claims tbody tr")
        claims = tab.locator("table.claims tbody tr")
        assert claims.count() == len(EXPERIMENTS["kernel-stacking"].claims)
        assert tab.locator("table.claims td.held, table.claims td.not-held").count() >= 1
        assert _width(tab.locator(".pictures img").first) > 100
        _not_blank(tab)
        tab.locator("a.run-link").first.click()
        tab.wait_for_selector("svg.curve polyline.series")
