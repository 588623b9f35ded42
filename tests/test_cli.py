"""The command line: what a person sees, and one clear line on a mistake."""

import subprocess
import sys

import pytest

from cnnzoo.cli import main, parse_size


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cnnzoo.cli", *args], capture_output=True,
                          text=True, env={"COLUMNS": "160", "PATH": ""}, check=False)  # fmt: skip


def test_list_shows_names_papers_and_counts() -> None:
    out = run("list", "resnet*")
    assert out.returncode == 0, out.stderr
    assert "resnet1202" in out.stdout and "19.42M" in out.stdout and "19.4M" in out.stdout
    assert "lenet5" not in out.stdout


def test_list_everything(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "46 models" in out and "60.97M" in out and "60M" in out


def test_info_shows_paper_deviations_and_layers(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "googlenet_tv"]) == 0
    out = capsys.readouterr().out
    assert "Going Deeper with Convolutions" in out
    assert "3x3 convolutions in the branch the paper gives 5x5" in out
    assert "inception5b" in out and "1024x7x7" in out


def test_info_at_another_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "resnet18", "--input", "1x64x64", "--depth", "1"]) == 0
    assert "512x2x2" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [(["info", "resnt50"], "Did you mean: resnet50"),
     (["info", "alexnet", "--input", "3x32x32"], "at least 67x67"),
     (["info", "alexnet", "--input", "3by224"], "write CxHxW like 3x224x224"),
     (["list", "zz*"], "no model matches 'zz*'")],
)  # fmt: skip
def test_mistakes_get_one_line_and_exit_2(args: list[str], message: str) -> None:
    out = run(*args)
    assert out.returncode == 2
    assert message in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_parse_size() -> None:
    assert parse_size("224") == (3, 224, 224)
    assert parse_size("1x28x28") == (1, 28, 28)
