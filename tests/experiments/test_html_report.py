"""`cnnzoo report` makes one self-contained page, and headless Chromium renders it whole."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnnzoo.cli import main
from cnnzoo.experiments import run_experiment
from cnnzoo.experiments.html import write_html_report
from tests.helpers import TINY, chromium, needs_chromium, needs_data


@pytest.fixture(scope="module")
def page(runs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    experiment = run_experiment("relu-vs-tanh", out=out, seeds=1, overrides=TINY).folder
    path = out / "report.html"
    argv = ["report", str(runs["lenet5"]), str(runs["resnet20"]), str(experiment)]
    assert main([*argv, "--output", str(path)]) == 0
    return path


@needs_data
def test_the_page_holds_everything_it_shows(page: Path) -> None:
    text = page.read_text()
    sources = re.findall(r'src="([^"]*)"', text)
    # both runs' curves together, each run's curves and filters, the experiment's two plots
    assert len(sources) == 7
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    assert "http://" not in text.replace("https://", "") and "<link" not in text
    for heading in (
        "Run: lenet5-fashion-mnist-lenet5",
        "Run: resnet20-fashion-mnist-fast",
        "Experiment: ReLU against tanh",
        "6x (25% training error on CIFAR-10",
    ):
        assert heading in text


@needs_data
@needs_chromium
def test_headless_chromium_renders_every_image(page: Path, tmp_path: Path) -> None:
    dom = chromium("--dump-dom", page.as_uri())
    body = re.search(r'<body data-images="(\d+)" data-images-loaded="(\d+)"', dom)
    assert body is not None, "the page's load handler did not run"
    assert int(body[1]) == 7 and body[1] == body[2]
    shot = tmp_path / "shot.png"
    chromium(f"--screenshot={shot}", "--window-size=1280,1600", page.as_uri())
    with Image.open(shot) as image:
        pixels = np.asarray(image.convert("L"), dtype=float)
    assert image.size == (1280, 1600) and pixels.std() > 20  # text, tables, plots: not blank


def test_a_folder_that_is_neither_run_nor_experiment_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="neither a run folder"):
        write_html_report([tmp_path], tmp_path / "r.html")


MARK = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_every_field_is_escaped_and_only_files_inside_are_embedded(tmp_path: Path) -> None:
    """A summary.json from someone else, with markup in every field it has; a PNG that links
    to a file elsewhere. The page holds the markup as text and embeds no linked file."""
    import json

    folder = tmp_path / "experiment"
    folder.mkdir()
    claim = dict.fromkeys(("text", "metric", "better", "worse", "paper", "measured"), MARK)
    claim.update(verdict=MARK, seeds=1)
    run = {"seed": 0, "run_dir": MARK, "history": [], "learned": False, "test_error": 1.0}
    stats = {"mean": 1.0, "std": 0.0, "min": 1.0, "max": 1.0, "n": 1, "values": [1.0]}
    arm = {
        "label": MARK,
        "model": MARK,
        "model_args": {MARK: MARK},
        "config": {MARK: MARK},
        "trained": True,
        "params": 1,
        "macs": 1,
        "runs": [run],
        "stats": {"test_error": stats},
    }
    text = ("experiment", "title", "question", "paper", "source", "scale", "data", "recipe")
    summary = {
        **dict.fromkeys(text, MARK),
        "config": {MARK: MARK},
        "seeds": 1,
        "target_error": None,
        "note": MARK,
        "claims": [claim],
        "metrics": ["test_error"],
        "arms": [arm],
        "machine": {"torch": MARK, "python": MARK, "cpus": 2, "threads": 2, "cuda": None},
    }
    (folder / "summary.json").write_text(json.dumps(summary))
    secret = tmp_path / "passwd"
    secret.write_bytes(b"root:x:0:0")
    (folder / "curves.png").symlink_to(secret)
    page = write_html_report([folder], tmp_path / "report.html").read_text()
    assert "<script>alert" not in page and "<img src=x" not in page
    assert page.count("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;") >= 14
    assert "base64" not in page  # the linked file was not copied in


def test_a_summary_with_a_field_of_the_wrong_type_is_refused_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An experiment's summary.json from elsewhere is read as the typed summary: a field that
    is not what cnnzoo writes is one line naming the file and the field, not a traceback."""
    import json

    folder = tmp_path / "experiment"
    folder.mkdir()
    (folder / "summary.json").write_text(
        json.dumps({"experiment": "x", "title": "t", "question": "q", "paper": 3})
    )
    assert main(["report", str(folder), "--output", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert "summary.json: 'paper' is int, expected str" in err and err.count("\n") == 1
    assert not (tmp_path / "r.html").exists()
