"""Under CI=true a missing data set stops the run instead of skipping the tests that need it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path


def _collect(tmp_path: Path, ci: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CI": ci, "CNNZOO_DATA": str(tmp_path)}  # a data folder with no files
    env.pop("PYTEST_XDIST_WORKER", None)
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--co"]
    return subprocess.run(
        [*argv, "tests/train/test_engine.py"],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).parent.parent,
        timeout=300,
    )


def test_ci_stops_and_names_what_is_missing(tmp_path: Path) -> None:
    done = _collect(tmp_path, "true")
    assert done.returncode == 4, done.stdout + done.stderr
    assert "CI=true, but the Fashion-MNIST files (no download in tests) not found" in done.stderr


def test_without_ci_the_tests_are_collected_to_skip(tmp_path: Path) -> None:
    done = _collect(tmp_path, "")
    assert done.returncode == 0, done.stdout + done.stderr
    collected = re.search(r"\b(\d+) tests collected", done.stdout)
    assert collected and int(collected[1]) >= 10, done.stdout  # the engine's tests, all of them
