"""Run an experiment: every arm with every seed on the training engine, then measure and judge.

An experiment's folder (``runs/NAME-SCALE``) holds one run folder per arm and seed, the
``summary.json`` of all figures, the plots and ``report.md``. Running it again reuses finished
runs whose config is unchanged and resumes interrupted ones, so nothing trained is lost.
"""

from __future__ import annotations

import math
import os
import platform
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from cnnzoo.anatomy.analysis import analyze
from cnnzoo.data.catalogue import DATASETS
from cnnzoo.data.inputs import choose_fit
from cnnzoo.errors import ConfigError
from cnnzoo.experiments.probes import PROBES
from cnnzoo.experiments.significance import LEVEL, welch
from cnnzoo.experiments.spec import LEARNED_MARGIN, METRICS, Arm, Claim, Experiment, Scale
from cnnzoo.experiments.specs import EXPERIMENTS
from cnnzoo.experiments.summary import (
    ArmSummary,
    ClaimVerdict,
    ExperimentSummary,
    Machine,
    RunSummary,
    Stats,
)
from cnnzoo.factory import create_model
from cnnzoo.models import model_info
from cnnzoo.train.config import MOVABLE_FIELDS, TrainConfig, resolve_config
from cnnzoo.train.distributed import pick_device
from cnnzoo.train.engine import TrainingInterrupted, train
from cnnzoo.train.folder import RunFolder

__all__ = ["ExperimentResult", "get_experiment", "judge", "measure_history", "run_experiment"]


@dataclass
class ExperimentResult:
    folder: Path
    summary: ExperimentSummary

    @property
    def verdicts(self) -> dict[str, str]:
        return {claim.text: claim.verdict for claim in self.summary.claims}


def get_experiment(name: str) -> Experiment:
    if name not in EXPERIMENTS:
        raise ConfigError(f"unknown experiment {name!r}; known: {', '.join(EXPERIMENTS)}")
    return EXPERIMENTS[name]


def measure_history(history: list[dict[str, Any]], target: float | None) -> dict[str, float | None]:
    """The per-run figures of METRICS from a run's per-epoch rows."""
    last = history[-1]
    test_error, train_error = 100 - last["test_top1"], 100 - last["train_top1"]
    fitted = 100 - last["train_eval_top1"] if "train_eval_top1" in last else None
    figures: dict[str, float | None] = {
        "test_error": test_error,
        "train_error": train_error,
        "train_time_s": last["time_s"],
        "gap": test_error - (train_error if fitted is None else fitted),
    }
    if fitted is not None:
        figures["fitted_error"] = fitted
    if target is not None:
        figures["epochs_to_target"] = _epochs_to(history, target)
    return figures


def _epochs_to(history: list[dict[str, Any]], target: float) -> float | None:
    """Epochs until the running training error first reaches ``target`` percent, interpolated
    linearly within the epoch that crosses it (AlexNet Fig. 1's measure); None if never."""
    previous_epoch, previous_error = 0.0, 100.0
    for row in history:
        error = 100 - row["train_top1"]
        if error <= target:
            share = (previous_error - target) / max(previous_error - error, 1e-9)
            return previous_epoch + share * (row["epoch"] - previous_epoch)
        previous_epoch, previous_error = float(row["epoch"]), error
    return None


def judge(claim: Claim, arms: dict[str, ArmSummary]) -> ClaimVerdict:
    """Did ``claim.better`` beat ``claim.worse``? Over seeds, by Welch's one-sided t-test at
    :data:`LEVEL`: 'held' when the difference is significant the claim's way, 'did not hold'
    when it is significant the other way, 'not shown' when it is neither (the seeds' noise
    could make it); each verdict names the test and its p-value. A network's own figures
    (parameters, MACs) are exact: their difference decides. One seed allows no test, and
    says so."""
    metric = METRICS[claim.metric]
    unmeasured = [arm for arm in (claim.better, claim.worse) if claim.metric not in arms[arm].stats]
    if unmeasured:
        return ClaimVerdict(
            claim.text,
            claim.metric,
            claim.better,
            claim.worse,
            claim.paper,
            "—",
            f"not measured at this scale ({' and '.join(unmeasured)} not trained)",
            0,
        )
    better, worse = arms[claim.better].stats[claim.metric], arms[claim.worse].stats[claim.metric]
    sign = 1 if metric.lower_is_better else -1
    margin = sign * (worse.mean - better.mean)
    seeds = min(better.n, worse.n) if metric.per_seed else 0
    if math.isinf(better.mean) and math.isinf(worse.mean):
        verdict, margin = "not measured: neither arm reached the target", 0.0
    elif math.isinf(margin):
        late = claim.worse if margin > 0 else claim.better
        way = "held" if margin > 0 else "did not hold"
        verdict = f"{way} ({late} did not reach the target in every seed)"
    elif not metric.per_seed:
        verdict = ("held" if margin > 0 else "did not hold") + " (exact figures)"
    elif seeds < 2:
        verdict = ("held" if margin > 0 else "did not hold") + " (one seed: no test of the noise)"
    else:
        values = [[sign * float(v) for v in arm.values if v is not None] for arm in (better, worse)]
        test = welch(*values)
        if test.p < LEVEL:
            verdict = f"held ({test.text(better.n, worse.n)})"
        elif 1 - test.p < LEVEL:
            verdict = f"did not hold: the other way ({test.text(better.n, worse.n, reverse=True)})"
        else:
            verdict = f"not shown: within the seeds' noise ({test.text(better.n, worse.n)})"
    # Both arms by name, the claim's first arm first, in every row.
    both = f"{claim.better} {better.figure()} vs {claim.worse} {worse.figure()}"
    if claim.ratio:
        ratio = worse.mean / better.mean if better.mean else math.inf
        measured = both + (f" ({ratio:.2f}x)" if math.isfinite(ratio) else " (not reached)")
    else:
        measured = f"{both} ({sign * -margin:+.2f})"
    return ClaimVerdict(
        claim.text, claim.metric, claim.better, claim.worse, claim.paper, measured, verdict, seeds
    )


def _analysis(arm: Arm, scale: Scale, config: TrainConfig | None) -> tuple[int, int]:
    """Parameters and multiply-accumulates of the arm's network as it is trained (or at its
    ``input_size``, with the paper's classes, for networks measured without training)."""
    info = model_info(arm.model)
    if config is None:
        size = arm.input_size or info.input_size
        kwargs: dict[str, Any] = {}
    else:
        stored = DATASETS[scale.data].image_shape
        fit = choose_fit(info, stored, config.channels, config.fit, config.image_size)
        size = (fit.channels, *fit.size)
        kwargs = {"num_classes": len(DATASETS[scale.data].classes)}
    model = create_model(arm.model, in_chans=size[0], device="meta", **kwargs, **arm.model_args)
    totals = analyze(model, tuple(size)).totals
    return totals.params, totals.macs


def _threads_used(arms: Iterable[ArmSummary]) -> int:
    """The most CPU threads any epoch of the runs trained on (a run records them per epoch;
    one read back from an older version does not: this process's count stands in)."""
    seen = [row.get("threads") for arm in arms for run in arm.runs for row in run.history]
    return max((n for n in seen if isinstance(n, int)), default=torch.get_num_threads())


def _train_once(config: TrainConfig, run_dir: Path, progress: bool) -> list[dict[str, Any]]:
    """The run's per-epoch rows: read back when it finished with this config, resumed when it
    was interrupted, trained from scratch otherwise (a stale folder is replaced). Device,
    threads and folders may differ: they change how fast a run trains, not what it learns."""
    folder = RunFolder(run_dir)
    try:
        before = TrainConfig.from_dict(folder.read_config())
        same = before.trained_as() == config.trained_as()
    except (OSError, ValueError):  # no run yet, or one from an incompatible version
        same = False
    if same and folder.finished():
        return folder.read_metrics()
    if same and folder.has_checkpoint():
        here = {k: v for k, v in config.to_dict().items() if k in MOVABLE_FIELDS}
        return train(resume=run_dir, runtime=here, progress=progress).history
    if run_dir.exists():
        shutil.rmtree(run_dir)
    return train(config, progress=progress).history


def run_experiment(
    name: str,
    scale: str = "quick",
    out: str | os.PathLike[str] = "runs",
    seeds: int | None = None,
    overrides: dict[str, Any] | None = None,
    progress: bool = False,
    log: Callable[[str], None] | None = None,
) -> ExperimentResult:
    """Train and measure every arm of experiment ``name``; write summary, plots and report.

    ``overrides`` are TrainConfig values over the scale's (``data_dir``, ``device``,
    ``threads``, or ``epochs``/``train_subset`` for a smaller try); ``seeds`` replaces the
    scale's number of seeds (0, 1, 2, ...).
    """
    from cnnzoo.experiments.report import write_report  # matplotlib: only when reporting

    experiment = get_experiment(name)
    setup = experiment.scale(scale)
    overrides = dict(overrides or {})
    bad = sorted(set(overrides) - set(TrainConfig.__dataclass_fields__))
    if bad or "model" in overrides or "seed" in overrides:
        raise ConfigError(
            f"overrides {bad or ['model/seed']}: give TrainConfig fields other than model and "
            "seed (the experiment chooses those)"
        )
    n_seeds = setup.seeds if seeds is None else seeds
    if n_seeds < 1:
        raise ConfigError(f"seeds must be at least 1, got {n_seeds}")
    if "device" in overrides:
        pick_device(str(overrides["device"]))  # a GPU that is not there: refused before a run
    folder = Path(out) / f"{experiment.name}-{scale}"
    folder.mkdir(parents=True, exist_ok=True)
    say = log or (lambda _text: None)
    probes = sorted({probe for key in experiment.metrics if (probe := METRICS[key].probe)})
    arms: dict[str, ArmSummary] = {}
    for arm in setup.arms:
        runs: list[RunSummary] = []
        config = None
        if arm.train:
            for seed in range(n_seeds):
                values = {**setup.config, **arm.config, **overrides}
                config = resolve_config(
                    arm.model,
                    setup.recipe,
                    **values,
                    seed=seed,
                    data=setup.data,
                    model_args=dict(arm.model_args),
                    out=str(folder / "runs"),
                    name=f"{arm.slug}-seed{seed}",
                )
                run_dir = folder / "runs" / config.name
                say(f"{experiment.name}: {arm.label}, seed {seed} -> {run_dir}")
                try:
                    history = _train_once(config, run_dir, progress)
                except TrainingInterrupted as stop:
                    again = f"cnnzoo experiment {name}" + (
                        "" if scale == "quick" else f" --scale {scale}"
                    )
                    raise TrainingInterrupted(
                        f"{stop}; or run `{again}` again, with the same --out and options, "
                        "to continue the whole experiment"
                    ) from None
                chance = 100 / len(DATASETS[setup.data].classes)
                figures = measure_history(history, setup.target_error)
                series: dict[str, list[float]] = {}
                for probe in probes:
                    probed = PROBES[probe](config, run_dir)
                    figures.update(probed.figures)
                    series.update(probed.series)
                runs.append(
                    RunSummary(
                        seed,
                        str(run_dir),
                        history,
                        history[-1]["train_top1"] > chance + LEARNED_MARGIN
                        if setup.judge_learning
                        else None,
                        figures,
                        series,
                    )
                )
        params, macs = _analysis(arm, setup, config)
        cost: dict[str, float | None] = {"params": params, "macs": macs}
        for run in runs:
            run.figures.update(cost)
        stats = {}
        for key in experiment.metrics:
            per_seed = METRICS[key].per_seed
            if arm.train or not per_seed:
                measured = [run.figures.get(key) for run in runs] if per_seed else [cost[key]]
                stats[key] = Stats.of(measured)
        arms[arm.label] = ArmSummary(
            arm.label,
            arm.model,
            dict(arm.model_args),
            dict(arm.config),
            arm.train,
            params,
            macs,
            runs,
            stats,
        )
    summary = ExperimentSummary(
        experiment=experiment.name,
        title=experiment.title,
        question=experiment.question,
        paper=experiment.paper.cite(),
        source=experiment.source,
        scale=scale,
        data=setup.data,
        recipe=setup.recipe,
        config={**setup.config, **overrides},
        seeds=n_seeds,
        target_error=setup.target_error,
        note=setup.note,
        metrics=list(experiment.metrics),
        arms=list(arms.values()),
        claims=[judge(claim, arms) for claim in experiment.claims],
        machine=Machine(
            torch=torch.__version__,
            python=platform.python_version(),
            cpus=os.cpu_count(),
            threads=_threads_used(arms.values()),
            cuda=torch.cuda.get_device_name() if torch.cuda.is_available() else None,
        ),
    )
    summary.write(folder)
    write_report(summary, folder, curves=experiment.curves)
    return ExperimentResult(folder, summary)
