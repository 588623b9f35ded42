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
    "PROFILES",
    "SCALES",
    "SHIFTS",
    "Arm",
    "Claim",
    "Experiment",
    "Metric",
    "Profile",
    "Scale",
    "check_scale",
]

SCALES = ("quick", "medium", "full")
SHIFTS = (1, 2, 3, 4)  # pixels the shifted test moves the test images (experiments.probes)


def check_scale(name: str) -> None:
    """Refuse a scale that is none of :data:`SCALES`, before anything is trained or made."""
    if name not in SCALES:
        raise ConfigError(f"scale {name!r}: expected one of {', '.join(SCALES)}")


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
    probe: str | None = None  # measured on the trained run by this probe (experiments.probes)


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
        Metric(
            "grad_decades_init",
            "decades between the first and last activation's gradient, at initialisation",
            "Gradient spread at init",
            probe="gradients",
        ),
        Metric(
            "grad_decades_trained",
            "decades between the first and last activation's gradient, trained",
            "Gradient spread, trained",
            probe="gradients",
        ),
        Metric(
            "shift_error",
            f"test error (%), test images shifted {SHIFTS[0]}-{SHIFTS[-1]} pixels",
            "Error on shifted tests",
            probe="shift",
        ),
        Metric(
            "shift_rise",
            "shifted - unshifted test error (points)",
            "Error added by shifts",
            probe="shift",
        ),
    ]
}


@dataclass(frozen=True)
class Profile:
    """A series a probe measures for every run (a value per layer, per shift), drawn as one
    line per run against its position: ``x`` gives the positions, or None for 1, 2, 3, ..."""

    key: str
    title: str
    x_label: str
    y_label: str
    log: bool = False
    x: tuple[float, ...] | None = None


PROFILES: dict[str, Profile] = {
    p.key: p
    for p in [
        Profile(
            "grad_init",
            "Gradient at each activation, at initialisation",
            "activation, from the input",
            "gradient norm (L2, one batch)",
            log=True,
        ),
        Profile(
            "grad_trained",
            "Gradient at each activation, trained",
            "activation, from the input",
            "gradient norm (L2, one batch)",
            log=True,
        ),
        Profile(
            "shift_error",
            "Test error against shift",
            "shift (pixels, mean of up, down, left, right)",
            "test error (%)",
            x=(0, *SHIFTS),
        ),
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
    # False: the runs train too briefly to be judged by their accuracy (a probe's few steps,
    # where an arm at chance is what is measured, not a failed seed): none is called failed.
    judge_learning: bool = True


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
    # Between the two, for claims the quick scale is too short for; its note gives its time
    # (measured: 15-35 minutes on two CPU cores for ConvNet-4, a day or more for the deep
    # ResNets). None where the quick scale already gives the claims a fair chance.
    medium: Scale | None = None

    def scale(self, name: str) -> Scale:
        check_scale(name)
        scale: Scale | None = getattr(self, name)
        if scale is None:
            raise ConfigError(
                f"{self.name} has no {name} scale: its quick scale gives its claims a fair "
                "chance; run it as it is, or with --full for the paper's setup"
            )
        return scale

    @property
    def scales(self) -> list[str]:
        return [name for name in SCALES if getattr(self, name) is not None]

    def __post_init__(self) -> None:
        unknown = [m for m in self.metrics if m not in METRICS]
        if unknown:
            raise ConfigError(f"{self.name}: unknown metrics {unknown}; known: {list(METRICS)}")
        for scale in (self.scale(name) for name in self.scales):
            labels = {arm.label for arm in scale.arms}
            for claim in self.claims:
                missing = {claim.better, claim.worse} - labels
                if missing or claim.metric not in self.metrics:
                    raise ConfigError(
                        f"{self.name}: claim {claim.text!r} compares {sorted(missing)} or "
                        f"{claim.metric!r}, which the experiment does not measure"
                    )
