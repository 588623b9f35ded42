"""What an experiment found, typed: written as ``summary.json``, rendered as Markdown and HTML.

The runner builds an :class:`ExperimentSummary`; both reports render from it, and a
``summary.json`` read back (one this machine wrote, or one from anyone) passes through
:meth:`ExperimentSummary.from_dict`, which refuses a field of the wrong type by name.
"""

from __future__ import annotations

import json
import math
import os
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnnzoo.experiments.spec import METRICS, PROFILES
from cnnzoo.train.files import JsonFields, RunFileError, read_json, write_file
from cnnzoo.train.folder import RunFolder

__all__ = [
    "SUMMARY",
    "ArmSummary",
    "ClaimVerdict",
    "ExperimentSummary",
    "Machine",
    "RunSummary",
    "Stats",
]

SUMMARY = RunFolder.SUMMARY  # an experiment folder's has the name of a run's, and "experiment"


@dataclass(frozen=True)
class Stats:
    """One figure of one arm over its seeds; a run that never reached a target counts as
    infinitely many epochs, so the mean is infinite ("not reached")."""

    mean: float
    std: float
    min: float
    max: float
    n: int
    values: list[float | None]  # per seed; None: not reached

    @classmethod
    def of(cls, values: Sequence[float | None]) -> Stats:
        numbers = [math.inf if v is None else float(v) for v in values]
        finite = [v for v in numbers if math.isfinite(v)]
        whole = len(finite) == len(numbers)
        return cls(
            mean=statistics.fmean(numbers) if numbers and whole else math.inf,
            std=statistics.stdev(finite) if whole and len(finite) > 1 else 0.0,
            min=min(numbers),
            max=max(numbers),
            n=len(numbers),
            values=list(values),
        )

    def reached(self) -> bool:
        return math.isfinite(self.mean)

    def figure(self) -> str:
        """The mean (± std over seeds) as a verdict quotes it."""
        if not self.reached():
            return "not reached"
        text = f"{self.mean:,.0f}" if abs(self.mean) >= 1e4 else f"{self.mean:.2f}"
        return text + (f" ± {self.std:.2f}" if self.n > 1 and self.std else "")

    def format(self, key: str) -> str:
        """``mean ± std (n)`` in the metric's unit; "not reached" for a target never met."""
        if not self.reached():
            missed = sum(v is None or not math.isfinite(v) for v in self.values)
            return f"not reached by {missed} of {self.n} seeds"
        if key == "params":
            return f"{self.mean:,.0f}"
        if key == "macs":
            return f"{self.mean / 1e6:,.1f}M"
        text = f"{self.mean:.1f}" if key == "train_time_s" else f"{self.mean:.2f}"
        if self.n > 1:
            text += f" ± {self.std:.2f} (n={self.n})"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "mean": self.mean,
            "std": self.std,
            "min": self.min,
            "max": self.max,
            "n": self.n,
            "values": self.values,
        }

    @classmethod
    def from_dict(cls, values: object, where: str) -> Stats:
        f = JsonFields(values, where)
        seeds = f.get("values", list)
        if not all(v is None or isinstance(v, int | float) for v in seeds):
            raise RunFileError(f"{where}: 'values' holds something other than numbers")
        return cls(
            f.number("mean"),
            f.number("std"),
            f.number("min"),
            f.number("max"),
            f.get("n", int),
            [None if v is None else float(v) for v in seeds],
        )


@dataclass(frozen=True)
class RunSummary:
    """One seed of one arm: where it trained, its rows and its figures."""

    seed: int
    run_dir: str
    history: list[dict[str, Any]]
    learned: bool | None  # above chance by LEARNED_MARGIN; False: failed; None: not judged
    figures: dict[str, float | None]  # keys of METRICS; None: a target not reached
    series: dict[str, list[float]] = field(default_factory=dict)  # keys of PROFILES

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "run_dir": self.run_dir,
            "history": self.history,
            "learned": self.learned,
            **self.figures,
            "series": self.series,
        }

    @classmethod
    def from_dict(cls, values: object, where: str) -> RunSummary:
        f = JsonFields(values, where)
        figures = {k: f.get(k, (int, float, type(None))) for k in METRICS if k in f.values}
        series = f.get("series", dict) if "series" in f.values else {}
        for key, points in series.items():
            numbers = isinstance(points, list) and all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in points
            )
            if key not in PROFILES or not numbers:
                raise RunFileError(f"{where}: series {key!r} is not a known list of numbers")
        return cls(
            f.get("seed", int),
            f.get("run_dir", str),
            f.get("history", list),
            f.get("learned", (bool, type(None))),
            {k: None if v is None else float(v) for k, v in figures.items()},
            {k: [float(v) for v in points] for k, points in series.items()},
        )


@dataclass(frozen=True)
class ArmSummary:
    """One arm: its network, its runs, and each figure's statistics over the seeds."""

    label: str
    model: str
    model_args: dict[str, Any]
    config: dict[str, Any]
    trained: bool
    params: int
    macs: int
    runs: list[RunSummary]
    stats: dict[str, Stats]

    def format(self, key: str) -> str:
        """The figure ``key`` as the reports' tables print it; "—" when not measured."""
        stats = self.stats.get(key)
        return "—" if stats is None else stats.format(key)

    @property
    def call(self) -> str:
        """The network as Python builds it: ``plain_cifar(depth=56)``."""
        args = ", ".join(f"{k}={v}" for k, v in self.model_args.items())
        return f"{self.model}({args})" if args else self.model

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "model": self.model,
            "model_args": self.model_args,
            "config": self.config,
            "trained": self.trained,
            "params": self.params,
            "macs": self.macs,
            "runs": [run.to_dict() for run in self.runs],
            "stats": {k: s.to_dict() for k, s in self.stats.items()},
        }

    @classmethod
    def from_dict(cls, values: object, where: str) -> ArmSummary:
        f = JsonFields(values, where)
        stats = JsonFields(f.get("stats", dict), f"{where}, stats")
        return cls(
            f.get("label", str),
            f.get("model", str),
            f.get("model_args", dict),
            f.get("config", dict),
            f.get("trained", bool),
            f.get("params", int),
            f.get("macs", int),
            f.items("runs", RunSummary.from_dict),
            {k: Stats.from_dict(v, f"{stats.where}, {k}") for k, v in stats.values.items()},
        )


@dataclass(frozen=True)
class ClaimVerdict:
    """A claim of the paper, and what this experiment measured of it."""

    text: str
    metric: str
    better: str
    worse: str
    paper: str  # the paper's figure for the same comparison
    measured: str
    verdict: str  # "held", "did not hold" or "not shown", with the test that decided it
    seeds: int  # 0: exact (a figure of the network, the same for every seed)

    @property
    def held(self) -> bool:
        return self.verdict.startswith("held")

    @property
    def measured_over(self) -> str:
        """The seeds column: how many, "exact" for a network's own figures, "—" for none."""
        if self.verdict.startswith("not measured at this scale"):
            return "—"
        return str(self.seeds) if self.seeds else "exact"

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, values: object, where: str) -> ClaimVerdict:
        f = JsonFields(values, where)
        names = ("text", "metric", "better", "worse", "paper", "measured", "verdict")
        text, metric, better, worse, paper, measured, verdict = (f.get(k, str) for k in names)
        seeds = f.get("seeds", int)
        return cls(text, metric, better, worse, paper, measured, verdict, seeds)


@dataclass(frozen=True)
class Machine:
    """Where the runs trained (training times mean little without it)."""

    torch: str
    python: str
    cpus: int | None
    threads: int
    cuda: str | None  # the GPU's name; None on the CPU

    def describe(self) -> str:
        """``CPU (2 CPUs, up to 2 CPU threads a run, torch 2.14.1)``, as reports say it."""
        threads = f"{self.threads} CPU thread{'s' * (self.threads != 1)}"
        return f"{self.cuda or 'CPU'} ({self.cpus} CPUs, up to {threads} a run, torch {self.torch})"

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, values: object, where: str) -> Machine:
        f = JsonFields(values, where)
        return cls(
            f.get("torch", str),
            f.get("python", str),
            f.get("cpus", (int, type(None))),
            f.get("threads", int),
            f.get("cuda", (str, type(None))),
        )


@dataclass(frozen=True)
class ExperimentSummary:
    """An experiment at one scale: its setup, every arm's figures and the verdict on each claim."""

    experiment: str
    title: str
    question: str
    paper: str  # the citation
    source: str  # where in the paper the claim is made
    scale: str
    data: str
    recipe: str
    config: dict[str, Any]  # the TrainConfig values over the recipe, overrides included
    seeds: int
    target_error: float | None
    note: str  # how the scale departs from the paper's setup
    metrics: list[str]
    arms: list[ArmSummary]
    claims: list[ClaimVerdict]
    machine: Machine

    @property
    def failed_runs(self) -> list[str]:
        """``label, seed N`` of the runs that did not learn; the verdicts count them."""
        return [
            f"{arm.label}, seed {run.seed}"
            for arm in self.arms
            for run in arm.runs
            if run.learned is False
        ]

    @property
    def setup(self) -> str:
        return f"{self.scale} scale, {self.data}, {self.seeds} seed(s)"

    @property
    def training_time_s(self) -> float:
        """The runs' own training time: the same when a second invocation reuses them."""
        return sum(
            float(run.figures.get("train_time_s") or 0) for arm in self.arms for run in arm.runs
        )

    def to_dict(self) -> dict[str, Any]:
        """What ``summary.json`` holds (infinities as null: JSON has none)."""
        return _finite(
            {
                "experiment": self.experiment,
                "title": self.title,
                "question": self.question,
                "paper": self.paper,
                "source": self.source,
                "scale": self.scale,
                "data": self.data,
                "recipe": self.recipe,
                "config": self.config,
                "seeds": self.seeds,
                "target_error": self.target_error,
                "note": self.note,
                "metrics": self.metrics,
                "arms": [arm.to_dict() for arm in self.arms],
                "claims": [claim.to_dict() for claim in self.claims],
                "failed_runs": self.failed_runs,
                "training_time_s": self.training_time_s,
                "machine": self.machine.to_dict(),
            }
        )

    @classmethod
    def from_dict(cls, values: object, where: str) -> ExperimentSummary:
        f = JsonFields(values, where)
        experiment, title, question, paper, source, scale, data, recipe = (
            f.get(k, str)
            for k in (
                "experiment",
                "title",
                "question",
                "paper",
                "source",
                "scale",
                "data",
                "recipe",
            )
        )
        config, seeds = f.get("config", dict), f.get("seeds", int)
        target = f.get("target_error", (int, float, type(None)))
        note, metrics = f.get("note", str), f.get("metrics", list)
        unknown = [m for m in metrics if m not in METRICS]
        if unknown:
            raise RunFileError(f"{where}: unknown metrics {unknown}; known: {list(METRICS)}")
        return cls(
            experiment=experiment,
            title=title,
            question=question,
            paper=paper,
            source=source,
            scale=scale,
            data=data,
            recipe=recipe,
            config=config,
            seeds=seeds,
            target_error=None if target is None else float(target),
            note=note,
            metrics=list(metrics),
            arms=f.items("arms", ArmSummary.from_dict),
            claims=f.items("claims", ClaimVerdict.from_dict),
            machine=Machine.from_dict(f.get("machine", dict), f"{where}, machine"),
        )

    def write(self, folder: Path) -> Path:
        text = json.dumps(self.to_dict(), indent=2) + "\n"
        return write_file(folder / SUMMARY, text, inside=folder)

    @classmethod
    def read(cls, folder: str | os.PathLike[str]) -> ExperimentSummary:
        path = Path(folder) / SUMMARY
        return cls.from_dict(read_json(path), str(path))

    @staticmethod
    def is_experiment(folder: Path) -> bool:
        """The folder holds an experiment's summary (a run folder's has no ``experiment``)."""
        path = folder / SUMMARY
        return path.is_file() and "experiment" in read_json(path)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
