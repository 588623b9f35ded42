"""The benchmark scripts still start: each imports what it times and answers --help (a renamed
function once broke two of them without a test noticing); the speed route's runs on a slice."""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import needs_data

BENCHMARKS = sorted(
    p for p in (Path(__file__).parents[1] / "benchmarks").glob("*.py") if not p.name.startswith("_")
)


@pytest.mark.parametrize("script", BENCHMARKS, ids=lambda p: p.name)
def test_each_benchmark_answers_help(script: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(script), "--help"],
        capture_output=True,
        text=True,
        cwd=script.parent,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("usage: ")


@needs_data
def test_time_to_accuracy_over_seeds_prints_the_spread_and_the_baseline() -> None:
    """The speed route's benchmark on a slice: a run per seed, mean ± sd of the time and the
    final top-1, then ResNet-20's per-epoch time in the same run."""
    script = Path(__file__).parents[1] / "benchmarks" / "train_speed.py"
    words = ["--time-to-accuracy", "10", "--seeds", "2", "--epochs", "1", "--threads", "1"]
    words += ["--train-subset", "256", "--test-subset", "200", "--baseline-images", "256"]
    out = subprocess.run(
        [sys.executable, str(script), *words],
        capture_output=True,
        text=True,
        cwd=script.parent,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[1].startswith("speedrun, recipe speed, 1 epochs, batch 256, test views flip")
    assert [line.split(":")[0] for line in lines if line.startswith("seed ")] == [
        "seed 0",
        "seed 1",
    ]
    final = next(line for line in lines if line.startswith("final top-1 "))
    mean, _, sd = final.removeprefix("final top-1 ").partition("% after")[0].partition(" ± ")
    tops = [float(line.split()[-1]) for line in lines if line.startswith("seed ")]
    assert float(mean) == pytest.approx(statistics.mean(tops), abs=0.01)
    assert float(sd) == pytest.approx(statistics.stdev(tops), abs=0.01)
    assert any(line.startswith("baseline in the same run: resnet20 (fast)") for line in lines)
