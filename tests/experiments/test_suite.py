"""`cnnzoo experiment all`: every experiment of a scale in turn, and one table of their claims."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from cnnzoo.cli import main
from cnnzoo.errors import ConfigError, TrainingInterrupted
from cnnzoo.experiments import EXPERIMENTS, suite
from cnnzoo.experiments.significance import welch
from cnnzoo.experiments.summary import ClaimVerdict
from tests.helpers import needs_data


@needs_data
def test_the_suite_runs_each_experiment_of_its_scale_and_tables_every_claim(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Three experiments stand for the thirteen: relu-vs-tanh has no medium scale and is left
    out by name; normalization's and augmentation's medium scales run, each one's claims are
    printed as it ends, and every claim of their summaries is a row of the table."""
    names = ("relu-vs-tanh", "normalization", "augmentation")
    monkeypatch.setattr(suite, "EXPERIMENTS", {name: EXPERIMENTS[name] for name in names})
    argv = ["experiment", "all", "--scale", "medium", "--seeds", "1", "--out", str(tmp_path)]
    argv += ["--epochs", "2", "--train-subset", "128", "--test-subset", "64", "--threads", "1"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "no medium scale, left out: relu-vs-tanh" in out
    assert not (tmp_path / "relu-vs-tanh-medium").exists()
    assert re.search(r"augmentation: [0-9.]+ minutes of wall-clock time", out)
    # the first experiment's claims are printed before the second begins
    first_report = out.index(f"report: {tmp_path / 'normalization-medium' / 'report.md'}")
    assert first_report < out.index("experiment 2 of 2: augmentation")
    assert f"every claim: {tmp_path / 'claims-medium.md'}" in out
    table = (tmp_path / "claims-medium.md").read_text()
    assert table.startswith("Verdicts by Welch's one-sided t-test over the seeds at level 0.05")
    rows = [line for line in table.splitlines() if line.startswith("| ")][1:]
    verdicts = []
    for name in names[1:]:
        summary = json.loads((tmp_path / f"{name}-medium" / "summary.json").read_text())
        mine, rows = rows[: len(summary["claims"])], rows[len(summary["claims"]) :]
        for i, (row, claim) in enumerate(zip(mine, summary["claims"], strict=True)):
            cells = [cell.strip() for cell in row.strip("|").split(" | ")]
            verdict = suite._short(claim["verdict"])
            assert cells[1:6] == [claim["text"], claim["paper"], claim["measured"], verdict, "1"]
            if i:  # the command and the minutes on the experiment's first row only
                assert cells[0] == cells[6] == ""
        first = [cell.strip() for cell in mine[0].strip("|").split(" | ")]
        training = sum(run["train_time_s"] for arm in summary["arms"] for run in arm["runs"])
        assert first[0] == f"`cnnzoo experiment {name} --scale medium`"
        assert first[6].startswith(f"{training / 60:.1f} / ")
        verdicts += [ClaimVerdict.from_dict(c, "claim") for c in summary["claims"]]
    assert rows == [] and len(verdicts) == sum(len(EXPERIMENTS[n].claims) for n in names[1:])
    assert table.splitlines()[-1].startswith("2 experiments at medium scale on CPU (")
    assert f"({os.cpu_count()} CPUs, up to 1 CPU thread a run, torch " in table
    assert table.endswith(f"{suite._tally(verdicts)}.\n")


def test_the_tally_counts_each_kind_of_verdict_and_the_exact_ones_apart() -> None:
    def claim(verdict: str, seeds: int = 3) -> ClaimVerdict:
        return ClaimVerdict("c", "test_error", "a", "b", "p", "m", verdict, seeds)

    claims = [
        claim("held (exact figures)", 0),
        claim("held, p = 0.010"),
        claim("held, p < 0.001"),
        claim("not shown: within the seeds' noise, p = 0.4"),
        claim("did not hold: the other way, p = 0.01"),
        claim("not measured at this scale (resnet-1202 not trained)"),
    ]
    assert suite._tally(claims) == (
        "6 claims: 3 held (2 by test, 1 exact), 1 not shown, 1 did not hold, 1 not measured"
    )


def test_a_verdict_by_the_test_keeps_its_p_value_alone() -> None:
    """The test's own wording shortened, so a change to it shows here."""
    test = welch([1.0, 1.1, 1.2], [2.0, 2.2, 2.1])
    assert suite._short(f"held ({test.text(3, 3)})") == "held, p < 0.001"
    close = welch([1.0, 1.5, 2.0], [1.2, 1.8, 2.1])
    shown = f"not shown: within the seeds' noise ({close.text(3, 4)})"
    assert suite._short(shown) == f"not shown: within the seeds' noise, p = {close.p:.3f}"
    assert suite._short("held (exact figures)") == "held (exact figures)"


def test_the_suite_refuses_an_unknown_scale_before_any_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="scale 'huge': expected one of quick, medium, full"):
        suite.run_suite("huge", out=tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_a_suite_interrupted_says_how_to_continue_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C in the second experiment: the message keeps the run's and the experiment's own
    ways on and adds the suite's; no table of half the claims is written."""
    started = []

    def interrupted(name: str, *args: object) -> None:
        started.append(name)
        raise TrainingInterrupted("stopped at epoch 2, step 5; checkpoint saved")

    monkeypatch.setattr(suite, "run_experiment", interrupted)
    with pytest.raises(TrainingInterrupted) as stop:
        suite.run_suite("medium", out=tmp_path)
    assert str(stop.value) == (
        "stopped at epoch 2, step 5; checkpoint saved; "
        "or `cnnzoo experiment all --scale medium` with them to continue the suite"
    )
    assert len(started) == 1 and not (tmp_path / "claims-medium.md").exists()


def test_a_scale_no_experiment_has_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(suite, "EXPERIMENTS", {"relu-vs-tanh": EXPERIMENTS["relu-vs-tanh"]})
    with pytest.raises(ConfigError, match="no experiment has a medium scale"):
        suite.run_suite("medium")
