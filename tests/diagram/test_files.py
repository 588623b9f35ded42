"""`cnnzoo draw` writes SVG, PNG and PDF that render, and refuses what it cannot write."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cnnzoo.cli import main
from tests.helpers import assert_picture, chromium, needs_chromium


def test_the_command_writes_each_format_and_the_png_is_a_picture(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("resnet34.svg", "resnet34.png", "resnet34.pdf"):
        assert main(["draw", "resnet34", "--output", str(tmp_path / name)]) == 0
        assert f"wrote {tmp_path / name}" in capsys.readouterr().out
    assert (tmp_path / "resnet34.svg").read_text().startswith("<svg ")
    assert_picture(tmp_path / "resnet34.png")
    pdf = (tmp_path / "resnet34.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 5_000


def test_bad_suffixes_and_small_inputs_are_one_line_and_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["draw", "vgg16", "--output", str(tmp_path / "vgg16.gif")]) == 2
    err = capsys.readouterr().err
    assert "cannot write a .gif figure; give a file ending in .svg, .png, .pdf" in err
    assert main(["summary", "alexnet", "--input", "3x32x32"]) == 2
    summary = capsys.readouterr().err.split("error: ", 1)[1]
    assert main(["draw", "alexnet", "--input", "3x32x32", "--output", str(tmp_path / "a.svg")]) == 2
    assert capsys.readouterr().err.split("error: ", 1)[1] == summary  # the same message
    assert list(tmp_path.iterdir()) == []


@needs_chromium
def test_headless_chromium_renders_the_svg_with_a_size(tmp_path: Path) -> None:
    assert main(["draw", "googlenet", "--output", str(tmp_path / "googlenet.svg")]) == 0
    page = tmp_path / "page.html"
    page.write_text(
        "<html><body><img id='d' src='googlenet.svg'><script>"
        "window.addEventListener('load', () => { const i = document.getElementById('d');"
        "document.body.dataset.size = i.naturalWidth + 'x' + i.naturalHeight; });"
        "</script></body></html>"
    )
    dom = chromium("--dump-dom", page.as_uri())
    size = re.search(r'data-size="(\d+)x(\d+)"', dom)
    assert size is not None and int(size[1]) > 500 and int(size[2]) > 1000, dom[:300]


def test_several_networks_go_into_a_folder_and_mistakes_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "zoo"
    assert main(["draw", "resnet20", "plain20", "--output-dir", str(out), "--format", "png"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["plain20.png", "resnet20.png"]
    for argv, message in (
        (["draw"], "name the networks to draw, or give --all"),
        (["draw", "--all", "--input", "3x32x32"], "leave out --input"),
        (["draw", "vgg11", "vgg13", "--output", "x.svg"], "for several networks give --output-dir"),
    ):
        assert main(argv) == 2
        assert message in capsys.readouterr().err
