"""Experiments in the lab: their claims and verdicts, plots and runs; a damaged summary shown
as what is wrong with it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from fastapi.testclient import TestClient

from cnnzoo.experiments import EXPERIMENTS
from cnnzoo.lab import create_app
from tests.helpers import needs_data

LOCAL = "http://127.0.0.1:8765"


@needs_data
def test_an_experiment_shows_its_claims_plots_and_runs(experiment_root: Path) -> None:
    client = TestClient(create_app(experiment_root), base_url=LOCAL)
    listing = client.get("/api/experiments").json()
    (found,) = listing["found"]
    assert found["id"] == "kernel-stacking-quick" and found["experiment"] == "kernel-stacking"
    assert [k["name"] for k in listing["known"]] == list(EXPERIMENTS)
    detail = client.get("/api/experiments/kernel-stacking-quick").json()
    written = json.loads((experiment_root / "kernel-stacking-quick" / "summary.json").read_text())
    assert [c["verdict"] for c in detail["claims"]] == [c["verdict"] for c in written["claims"]]
    assert found["held"] == sum(c["verdict"].startswith("held") for c in written["claims"])
    assert "measures.png" in detail["pictures"]
    asked = {"experiment": "kernel-stacking-quick"}
    picture = client.get("/api/experiment-file", params={**asked, "name": "measures.png"})
    assert picture.status_code == 200 and picture.content.startswith(b"\x89PNG")
    # each trained arm's run is a run of this root, which the runs page opens
    ids = [run["id"] for arm in detail["arms"] for run in arm["runs"]]
    assert ids and all(ids)
    # each run's figures, not its per-epoch rows or series: those are its page's and the plots'
    runs = [run for arm in detail["arms"] for run in arm["runs"]]
    assert not any(run.keys() & {"history", "series"} for run in runs)
    kept = [
        {k: v for k, v in run.items() if k not in ("history", "series")}
        for arm in written["arms"]
        for run in arm["runs"]
    ]
    assert [{k: v for k, v in run.items() if k != "id"} for run in runs] == kept
    assert all("test_error" in run and "seed" in run for run in kept)
    for run_id in ids:
        assert client.get(f"/api/runs/{run_id}").json()["status"] == "finished"
    refused = client.get("/api/experiment-file", params={**asked, "name": "summary.json"})
    assert refused.status_code == 404


@needs_data
def test_a_damaged_experiment_summary_is_named_not_a_traceback(
    experiment_root: Path, tmp_path: Path
) -> None:
    root = tmp_path / "runs"
    shutil.copytree(experiment_root / "kernel-stacking-quick", root / "edited")
    summary = root / "edited" / "summary.json"
    values = json.loads(summary.read_text())
    values["seeds"] = "three"
    summary.write_text(json.dumps(values))
    client = TestClient(create_app(root), base_url=LOCAL)
    (found,) = client.get("/api/experiments").json()["found"]
    assert "'seeds' is str, expected int" in found["problem"]
    answer = client.get("/api/experiments/edited")
    assert answer.status_code == 400 and "'seeds' is str, expected int" in answer.json()["error"]
