"""Every experiment runs end to end at a tiny size and writes all its files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cnnzoo.cli import main
from cnnzoo.experiments import EXPERIMENTS, METRICS, run_experiment
from tests.helpers import TINY, assert_picture, needs_data


@needs_data
@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_each_experiment_writes_runs_summary_plots_and_report(name: str, tmp_path: Path) -> None:
    result = run_experiment(name, out=tmp_path, seeds=1, overrides=TINY)
    folder = tmp_path / f"{name}-quick"
    assert result.folder == folder
    summary = json.loads((folder / "summary.json").read_text())
    experiment = EXPERIMENTS[name]
    assert [arm["label"] for arm in summary["arms"]] == [a.label for a in experiment.quick.arms]
    for arm, spec in zip(summary["arms"], experiment.quick.arms, strict=True):
        assert arm["params"] > 0 and arm["macs"] > 0
        if not spec.train:
            assert arm["runs"] == []
            continue
        (run,) = arm["runs"]
        assert len(run["history"]) == 2  # epochs
        assert Path(run["run_dir"], "metrics.jsonl").read_text().count("\n") == 2
        assert Path(run["run_dir"], "model.safetensors").exists()
        for key in experiment.metrics:
            assert key in arm["stats"], key
    assert len(summary["claims"]) == len(experiment.claims)
    assert {c["verdict"].split(" (")[0].split(":")[0] for c in summary["claims"]} <= {
        "held",
        "did not hold",
        "not shown",
        "not measured",
        "not measured at this scale",
    }
    report = (folder / "report.md").read_text()
    learned = {run["learned"] for arm in summary["arms"] for run in arm["runs"]}
    if not experiment.quick.judge_learning:  # gradient-flow's 20 steps: a probe, not judged
        assert learned == {None} and "did not learn" not in report
    else:
        assert learned <= {True, False}
    for claim in experiment.claims:
        assert claim.text in report and claim.paper in report
    if any(arm.train for arm in experiment.quick.arms):  # the threads the runs trained on
        assert summary["machine"]["threads"] == TINY["threads"] == 1
        assert "up to 1 CPU thread a run" in report
    assert_picture(folder / "measures.png")
    if any(METRICS[key].probe for key in experiment.metrics):  # the probes' series, drawn
        assert all(run["series"] for arm in summary["arms"] for run in arm["runs"])
        assert_picture(folder / "profiles.png", min_width=600)
        assert "![Measured per layer or per shift](profiles.png)" in report
    if any(arm.train for arm in experiment.quick.arms):
        assert_picture(folder / "curves.png", min_width=1000)
        assert "![Training curves](curves.png)" in report


@needs_data
def test_running_again_reuses_finished_runs_and_retrains_changed_ones(tmp_path: Path) -> None:
    run_experiment("relu-vs-tanh", out=tmp_path, seeds=1, overrides=TINY)
    runs = tmp_path / "relu-vs-tanh-quick" / "runs"
    stamps = {p: p.stat().st_mtime_ns for p in runs.glob("*/checkpoint.pt")}
    # other threads, device or loader workers: the same runs, trained elsewhere
    elsewhere = {**TINY, "threads": 2, "device": "cpu", "workers": 0}
    again = run_experiment("relu-vs-tanh", out=tmp_path, seeds=1, overrides=elsewhere)
    assert {p: p.stat().st_mtime_ns for p in runs.glob("*/checkpoint.pt")} == stamps
    assert again.summary.arms[0].runs[0].history[-1]["epoch"] == 2
    changed = run_experiment("relu-vs-tanh", out=tmp_path, seeds=1, overrides={**TINY, "epochs": 1})
    assert changed.summary.arms[0].runs[0].history[-1]["epoch"] == 1
    assert sorted(p.name for p in runs.iterdir()) == ["relu-seed0", "tanh-seed0"]


def test_the_command_lists_experiments_and_refuses_unknown_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["experiment", "list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in EXPERIMENTS)
    with pytest.raises(SystemExit):
        main(["experiment", "relu"])
    assert "invalid choice: 'relu'" in capsys.readouterr().err
    assert main(["experiment", "relu-vs-tanh", "--scale", "medium", "--out", "nowhere"]) == 2
    assert "relu-vs-tanh has no medium scale" in capsys.readouterr().err
    with pytest.raises(ValueError, match="seeds must be at least 1"):
        run_experiment("dropout", seeds=0)
    with pytest.raises(ValueError, match="other than model and seed"):
        run_experiment("dropout", overrides={"seed": 3})


@needs_data
def test_a_medium_scale_runs_into_its_own_folder(tmp_path: Path) -> None:
    result = run_experiment("augmentation", "medium", out=tmp_path, seeds=1, overrides=TINY)
    assert result.folder == tmp_path / "augmentation-medium"
    summary = json.loads((result.folder / "summary.json").read_text())
    assert summary["scale"] == "medium" and summary["config"]["epochs"] == TINY["epochs"]
    assert summary["note"] == EXPERIMENTS["augmentation"].scale("medium").note
    assert "medium scale" in (result.folder / "report.md").read_text()
