"""The benchmark scripts still start: each imports what it times and answers --help (a renamed
function once broke two of them without a test noticing)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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
