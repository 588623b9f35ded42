"""The experiment specs are consistent, and the runner's measures and verdicts are exact."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest

import cnnzoo
from cnnzoo.experiments import EXPERIMENTS, METRICS, Claim
from cnnzoo.experiments.runner import get_experiment, judge, measure_history
from cnnzoo.experiments.significance import welch
from cnnzoo.experiments.summary import ArmSummary, Stats
from cnnzoo.train import resolve_config

NAMES = list(EXPERIMENTS)


def test_the_experiments_exist() -> None:
    assert NAMES == [
        "relu-vs-tanh",
        "overlapping-pooling",
        "normalization",
        "dropout",
        "kernel-stacking",
        "bottleneck",
        "degradation",
        "depth",
        "growth-rate",
        "augmentation",
        "gradient-flow",
        "cnn-vs-mlp",
        "depth-limit",
    ]


@pytest.mark.parametrize(
    ("name", "scale"), [(e.name, scale) for e in EXPERIMENTS.values() for scale in e.scales]
)
def test_every_arm_builds_and_every_config_resolves(name: str, scale: str) -> None:
    experiment = EXPERIMENTS[name]
    setup = experiment.scale(scale)
    # quick and medium on the embedded data; full on the paper's (MNIST for LeCun et al.)
    paper_data = "mnist" if experiment.paper.year == 1998 else "cifar10"
    assert setup.data == ("fashion-mnist" if scale != "full" else paper_data)
    assert len({arm.label for arm in setup.arms}) == len(setup.arms) >= 2
    for arm in setup.arms:
        model = cnnzoo.create_model(arm.model, device="meta", **arm.model_args)
        assert model.num_params() > 0
        if arm.train:
            config = resolve_config(arm.model, setup.recipe, **{**setup.config, **arm.config})
            assert config.model_args == {}  # the runner adds the arm's
    if "epochs_to_target" in experiment.metrics:
        assert setup.target_error is not None
    # A verdict is a t-test over seeds: every claim between trained arms gets at least three,
    # at every scale (counted arms are exact and need one).
    trained = {arm.label for arm in setup.arms if arm.train}
    if any({c.better, c.worse} <= trained for c in experiment.claims):
        assert setup.seeds >= 3


def test_a_claim_about_an_arm_that_is_not_there_is_refused() -> None:
    experiment = EXPERIMENTS["relu-vs-tanh"]
    with pytest.raises(ValueError, match="does not measure"):
        type(experiment)(
            **{**experiment.__dict__, "claims": (Claim("x", "test_error", "ReLU", "sigmoid", "-"),)}
        )
    with pytest.raises(ValueError, match="unknown experiment 'relu'"):
        get_experiment("relu")


def _rows(train_errors: list[float], test_errors: list[float]) -> list[dict[str, float]]:
    return [
        {"epoch": i + 1, "train_top1": 100 - a, "test_top1": 100 - b, "time_s": 10.0 * (i + 1)}
        for i, (a, b) in enumerate(zip(train_errors, test_errors, strict=True))
    ]


def test_epochs_to_target_interpolate_within_the_crossing_epoch() -> None:
    history = _rows([40.0, 30.0, 20.0], [45.0, 35.0, 30.0])
    figures = measure_history(history, target=25.0)
    # error 30 after epoch 2, 20 after epoch 3: 25 is crossed half-way through epoch 3
    assert figures["epochs_to_target"] == pytest.approx(2.5)
    assert figures["test_error"] == pytest.approx(30.0)
    assert figures["train_error"] == pytest.approx(20.0)
    assert figures["gap"] == pytest.approx(10.0)
    assert figures["train_time_s"] == 30.0
    # from the start (100% error at epoch 0) to 50% after epoch 1: 75% is reached at 0.5
    assert measure_history(_rows([50.0], [50.0]), 75.0)["epochs_to_target"] == pytest.approx(0.5)
    assert measure_history(history, target=5.0)["epochs_to_target"] is None


def test_the_gap_uses_the_final_weights_on_unaugmented_training_images() -> None:
    history = _rows([20.0], [30.0])
    history[0]["train_eval_top1"] = 95.0
    figures = measure_history(history, None)
    assert figures["fitted_error"] == pytest.approx(5.0)
    assert figures["gap"] == pytest.approx(25.0)


def _arms(**values: list[float | None]) -> dict[str, ArmSummary]:
    return {
        label: ArmSummary(
            label,
            "lenet5",
            {},
            {},
            True,
            0,
            0,
            [],
            {"test_error": Stats.of(v), "epochs_to_target": Stats.of(v)},
        )
        for label, v in values.items()
    }


@pytest.mark.parametrize(
    ("better", "worse", "verdict"),
    [
        # t = 14.1 on 2 degrees of freedom: p = 0.0025 (scipy's ttest_ind, equal_var=False)
        ([10.0, 10.2], [12.0, 12.2], "held (Welch's t-test, one-sided p = 0.002 at level 0.05"),
        # the old rule's "held": a difference of a standard deviation, p = 0.276
        ([10.0, 12.0], [11.0, 13.0], "not shown: within the seeds' noise (Welch's t-test, "),
        # the other way: the p-value quoted is that direction's (0.002), not the claim's
        (
            [12.0, 12.2],
            [10.0, 10.2],
            "did not hold: the other way (Welch's t-test, one-sided p = 0.002",
        ),
        ([11.0, 13.0], [10.0, 12.0], "not shown: within the seeds' noise"),
        # three seeds each, a small difference: p = 0.037
        ([10.0, 10.3, 10.1], [10.4, 10.6, 10.3], "held (Welch's t-test, one-sided p = 0.037"),
        ([10.0, 10.0], [10.0, 10.0], "not shown: within the seeds' noise"),  # no spread, no gap
        ([10.0], [10.5], "held (one seed: no test of the noise)"),
    ],
)
def test_verdicts_come_from_welchs_test_and_name_it(
    better: list[float], worse: list[float], verdict: str
) -> None:
    claim = Claim("a beats b", "test_error", "a", "b", "1 point")
    result = judge(claim, _arms(a=better, b=worse))
    assert result.verdict.startswith(verdict)
    assert result.seeds == min(len(better), len(worse))
    if result.seeds >= 2:
        assert result.verdict.endswith(f", {len(better)} seeds each)")
    assert result.measured.startswith("a ") and " vs b " in result.measured  # both, in order


def test_welchs_test_is_scipys() -> None:
    scipy = pytest.importorskip("scipy.stats")
    rng = random.Random(0)
    for _ in range(200):
        a = [rng.gauss(0, rng.uniform(0.1, 3)) for _ in range(rng.randint(2, 6))]
        b = [rng.gauss(rng.uniform(-3, 3), rng.uniform(0.1, 3)) for _ in range(rng.randint(2, 6))]
        ours = welch(a, b)
        theirs = scipy.ttest_ind(b, a, equal_var=False, alternative="greater")
        assert ours.t == pytest.approx(theirs.statistic, rel=1e-9)
        assert ours.p == pytest.approx(theirs.pvalue, abs=1e-12)
    with pytest.raises(ValueError, match="at least two values on each side"):
        welch([1.0], [2.0, 3.0])


def test_ratios_and_targets_never_reached() -> None:
    claim = Claim("a is faster", "epochs_to_target", "a", "b", "6x", ratio=True)
    result = judge(claim, _arms(a=[2.0, 2.0], b=[6.0, 6.0]))
    assert result.measured == "a 2.00 vs b 6.00 (3.00x)"  # the claim's arms by name, in order
    # seeds that agree exactly: no spread to test against, and the verdict says so
    assert (
        result.verdict == "held (no spread among the seeds: the difference decides, 2 seeds each)"
    )
    result = judge(claim, _arms(a=[2.0], b=[None]))
    assert result.verdict == "held (b did not reach the target in every seed)"
    assert "not reached" in result.measured
    result = judge(claim, _arms(a=[None], b=[None]))
    assert result.verdict.startswith("not measured")
    stats = Stats.of([3.0, None])
    assert math.isinf(stats.mean) and stats.values == [3.0, None]


def test_metrics_that_belong_to_the_network_are_not_per_seed() -> None:
    assert not METRICS["params"].per_seed and not METRICS["macs"].per_seed
    assert METRICS["test_error"].lower_is_better
    titles = [m.title for m in METRICS.values()]  # each plot panel says which figure it is
    assert len(set(titles)) == len(titles) and all(len(t) <= 30 for t in titles)


def test_a_summary_reads_back_as_it_was_written_infinities_included(tmp_path: Path) -> None:
    from cnnzoo.experiments.summary import (
        ClaimVerdict,
        ExperimentSummary,
        Machine,
        RunSummary,
    )

    runs = [
        RunSummary(0, "runs/a-seed0", [{"epoch": 1}], True, {"epochs_to_target": None}),
        RunSummary(1, "runs/a-seed1", [{"epoch": 1}], False, {"epochs_to_target": 3.5}),
        RunSummary(2, "runs/a-seed2", [{"epoch": 1}], None, {"epochs_to_target": 2.0}),
    ]
    arm = ArmSummary(
        "a",
        "resnet20",
        {"depth": 20},
        {},
        True,
        270,
        40,
        runs,
        {"epochs_to_target": Stats.of([None, 3.5, 2.0])},
    )
    claim = ClaimVerdict("a is fast", "epochs_to_target", "a", "a", "6x", "not reached", "held", 3)
    summary = ExperimentSummary(
        "x",
        "X",
        "why?",
        "Paper 2012",
        "Fig. 1",
        "quick",
        "cifar10",
        "fast",
        {"epochs": 2},
        3,
        25.0,
        "",
        ["epochs_to_target"],
        [arm],
        [claim],
        Machine("2", "3.11", 2, 2, None),
    )
    summary.write(tmp_path)
    again = ExperimentSummary.read(tmp_path)
    assert again == summary and math.isinf(again.arms[0].stats["epochs_to_target"].mean)
    # seed 2 was not judged (a probe's few steps): not a failed run
    assert again.failed_runs == ["a, seed 1"] and arm.call == "resnet20(depth=20)"
    assert (
        arm.format("epochs_to_target") == "not reached by 1 of 3 seeds" and arm.format("gap") == "—"
    )
    # a figure that is no number (a diverged seed's NaN) counts among the seeds that missed
    assert (
        Stats.of([2.0, math.nan, None]).format("epochs_to_target") == "not reached by 2 of 3 seeds"
    )


def test_a_claim_on_an_arm_not_trained_at_this_scale_is_not_measured() -> None:
    counted = ArmSummary("big", "resnet1202", {}, {}, False, 19, 9, [], {"params": Stats.of([19])})
    arms = {**_arms(small=[7.0]), "big": counted}
    claim = Claim("small beats big", "test_error", "small", "big", "6.43% vs 7.93%")
    verdict = judge(claim, arms)
    assert verdict.verdict == "not measured at this scale (big not trained)"
    assert not verdict.held and verdict.measured == verdict.measured_over == "—"


def test_series_read_back_and_bad_ones_are_refused(tmp_path: Path) -> None:
    from cnnzoo.experiments.summary import RunSummary
    from cnnzoo.train.files import RunFileError

    run = RunSummary(0, "r", [{"epoch": 1}], True, {"shift_rise": 3.0}, {"shift_error": [1, 2.5]})
    assert RunSummary.from_dict(run.to_dict(), "here") == run
    for series in ({"grad_init": [1, "2"]}, {"nonsense": [1.0]}, {"grad_init": 3}):
        with pytest.raises(RunFileError, match="series"):
            RunSummary.from_dict({**run.to_dict(), "series": series}, "here")


def test_a_scale_an_experiment_lacks_is_refused_by_name() -> None:
    without = next(e for e in EXPERIMENTS.values() if e.medium is None)
    with pytest.raises(ValueError, match=f"{without.name} has no medium scale"):
        without.scale("medium")
    with pytest.raises(ValueError, match="expected one of quick, medium, full"):
        without.scale("huge")
    assert without.scales == ["quick", "full"]
