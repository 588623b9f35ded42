"""``scripts/gpu-check --dry-run``: the GPU machine's script, every step on the CPU at a tiny
size, so that it runs on the day a GPU is there."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

from tests.helpers import needs_data

SCRIPT = Path(__file__).parents[1] / "scripts" / "gpu-check"


@needs_data
def test_the_gpu_check_runs_every_step_on_the_cpu(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path), "--dry-run"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    figures = json.loads((tmp_path / "gpu-check.json").read_text())
    steps = figures["steps"]
    assert figures["dry_run"] is True and list(steps) == [
        "install",
        "machine",
        "tests",
        "speed",
        "experiments",
    ]
    assert steps["install"] == {
        "status": "skipped",
        "why": "cnnzoo already imports from this checkout",
    }
    assert steps["machine"]["status"] == "passed" and steps["machine"]["torch"]
    # Without a GPU every CUDA test skips, and says why.
    tests = steps["tests"]
    assert tests["status"] == "passed" and tests["tests"] == tests["skipped"] == 7
    assert all(case.startswith("skipped: ") for case in tests["cases"].values())
    assert "test_two_gpus_train_through_nccl" in tests["cases"]
    routes = steps["speed"]["routes"]
    assert [r["route"].split(",")[0] for r in routes] == [
        "speedrun",
        "speedrun 64/128/256",
        "resnet20",
    ]
    for route in routes:
        assert route["epochs"] == 1 and 0 < route["final_top1"] <= 100
        assert math.isfinite(route["training_s"]) and set(route["time_to"]) == {"93", "94"}
    experiments = steps["experiments"]["experiments"]
    assert set(experiments) == {"relu-vs-tanh", "kernel-stacking"}
    assert all(e["scale"] == "quick" and e["verdicts"] for e in experiments.values())
    assert (tmp_path / "cuda-tests.log").read_text().count("skipped") >= 1
