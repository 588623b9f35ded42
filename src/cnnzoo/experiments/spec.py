"""What an experiment is, as data: the arms it compares, at what scale, and what the paper says.

An experiment names a paper's claim, the networks (arms) that test it, a quick scale for a
laptop and a full scale after the paper's setup, and the claims as comparisons of measured
figures between arms. The runner trains every arm with every seed on the training engine; the
report puts each measured figure beside the paper's and says whether the claim held.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cnnzoo.errors import ConfigError
from cnnzoo.models import Paper

__all__ = [
    "FAILED_RUNS",
    "LEARNED_MARGIN",
    "METRICS",
    "Arm",
    "Claim",
    "Experiment",
    "Metric",
    "Scale",
]

# A run whose final training accuracy is no more than this many points above chance did not
# learn: a failed run (a seed that collapsed), not a property of its arm. Reports name them.
LEARNED_MARGIN = 5.0
FAILED_RUNS = (
    f"Runs that did not learn (training accuracy within {LEARNED_MARGIN:g} points of chance)"
)


@dataclass(frozen=True)
class Metric:
    """A figure measured for every run of an arm."""

    key: str
    label: str  # as the report's table and plots print it, with its unit
    title: str  # a plot panel's title: short, and no two metrics' alike
    lower_is_better: bool = True
    per_seed: bool = True  # False: a property of the network (parameters), the same each seed


METRICS: dict[str, Metric] = {
    m.key: m
    for m in [
        Metric("test_error", "test error (%)", "Test error"),
        Metric("train_error", "training error (%, running, as trained)", "Training error, running"),
        Metric(
            "fitted_error",
            "training error (%, final weights, no augmentation)",
            "Training error, final weights",
        ),
        Metric("gap", "test - training error (points)", "Test - training error"),
        Metric("epochs_to_target", "epochs to the target training error", "Epochs to target"),
        Metric("params", "parameters", "Parameters", per_seed=False),
        Metric("macs", "multiply-accumulates per image", "MACs per image", per_seed=False),
        Metric("train_time_s", "training time (s)", "Training time"),
    ]
}


@dataclass(frozen=True)
class Arm:
    """One network and setting compared: a zoo model, its builder arguments, config values."""

    label: str  # as the report names it: "ReLU", "plain-56"
    model: str
    model_args: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)  # TrainConfig values of this arm only
    train: bool = True  # False: measured by analysis only (a network too big to train here)
    input_size: tuple[int, int, int] | None = None  # analysis input (default: the scale's)

    @property
    def slug(self) -> str:
        return "".join(c if c.isalnum() else "-" for c in self.label.lower()).strip("-")


@dataclass(frozen=True)
class Scale:
    """How big a run is: the data, the shared config values, the seeds and the arms."""

    data: str
    config: dict[str, Any]  # TrainConfig values shared by every arm (a recipe's worth)
    seeds: int
    arms: tuple[Arm, ...]
    note: str = ""  # how this scale departs from the paper's setup
    target_error: float | None = None  # for ``epochs_to_target``: training error in percent
    recipe: str = "fast"  # the recipe beneath ``config``


@dataclass(frozen=True)
class Claim:
    """``better`` should beat ``worse`` on ``metric`` (lower is better unless the metric says).

    ``paper`` is the figure the paper reports for the same comparison; ``ratio`` shows the
    measured comparison as worse/better (e.g. "6x as many epochs") rather than a difference.
    """

    text: str
    metric: str
    better: str  # arm label
    worse: str  # arm label
    paper: str
    ratio: bool = False


@dataclass(frozen=True)
class Experiment:
    """One of a paper's claims, put to the test."""

    name: str
    title: str
    paper: Paper
    source: str  # where the paper makes the claim: "Fig. 1", "§3.4"
    question: str  # what the experiment asks, in one sentence
    metrics: tuple[str, ...]  # the table's columns, keys of METRICS
    claims: tuple[Claim, ...]
    quick: Scale
    full: Scale
    curves: bool = True  # plot training curves (False: an analysis-only comparison)

    def scale(self, name: str) -> Scale:
        if name not in ("quick", "full"):
            raise ConfigError(f"scale {name!r}: expected 'quick' or 'full'")
        scale: Scale = getattr(self, name)
        return scale

    def __post_init__(self) -> None:
        unknown = [m for m in self.metrics if m not in METRICS]
        if unknown:
            raise ConfigError(f"{self.name}: unknown metrics {unknown}; known: {list(METRICS)}")
        for scale in (self.quick, self.full):
            labels = {arm.label for arm in scale.arms}
            for claim in self.claims:
                missing = {claim.better, claim.worse} - labels
                if missing or claim.metric not in self.metrics:
                    raise ConfigError(
                        f"{self.name}: claim {claim.text!r} compares {sorted(missing)} or "
                        f"{claim.metric!r}, which the experiment does not measure"
                    )
