"""The papers' claims as experiments: declarative specs, a runner on the training engine, and
reports that put each measured figure beside the paper's."""

from cnnzoo.experiments.runner import ExperimentResult, get_experiment, run_experiment
from cnnzoo.experiments.spec import METRICS, Arm, Claim, Experiment, Metric, Scale
from cnnzoo.experiments.specs import EXPERIMENTS
from cnnzoo.experiments.summary import ExperimentSummary

__all__ = [
    "EXPERIMENTS",
    "METRICS",
    "Arm",
    "Claim",
    "Experiment",
    "ExperimentResult",
    "ExperimentSummary",
    "Metric",
    "Scale",
    "get_experiment",
    "run_experiment",
]
