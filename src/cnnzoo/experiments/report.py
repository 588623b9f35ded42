"""An experiment's plots and its Markdown report: the measured figures beside the paper's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cnnzoo.errors import CnnzooError
from cnnzoo.experiments.significance import LEVEL
from cnnzoo.experiments.spec import FAILED_RUNS, METRICS, PROFILES
from cnnzoo.experiments.summary import ArmSummary, ExperimentSummary
from cnnzoo.train.files import write_file
from cnnzoo.train.folder import RunFolder
from cnnzoo.viz.charts import Panel, plot_measures, plot_profiles
from cnnzoo.viz.curves import plot_curves

__all__ = ["write_report"]


def _config(arm: ArmSummary) -> dict[str, Any]:
    """The config the arm's runs trained with (its learning-rate schedule), from their own
    folders."""
    for run in arm.runs:
        try:
            return RunFolder.at(run.run_dir).read_config()
        except (CnnzooError, OSError):  # a run folder moved or damaged since: try the next
            continue
    return {}


def _series(arms: list[ArmSummary], key: str) -> dict[str, list[list[float]]]:
    """Each arm's runs' series ``key``, for the arms whose runs have it."""
    return {
        arm.label: runs
        for arm in arms
        if (runs := [run.series[key] for run in arm.runs if key in run.series])
    }


def write_report(summary: ExperimentSummary, folder: Path, curves: bool = True) -> Path:
    """``curves.png`` (training and test error, loss, learning rate of every trained arm),
    ``profiles.png`` (the probes' series, when there are any), ``measures.png`` (the table's
    figures per arm and seed) and ``report.md``."""
    arms = summary.arms
    trained = {arm.label: [run.history for run in arm.runs] for arm in arms if arm.runs}
    title = f"{summary.title} — {summary.setup}"
    images = []
    if curves and trained:
        configs = {arm.label: _config(arm) for arm in arms if arm.runs}
        plot_curves(
            trained,
            folder / "curves.png",
            title,
            target_error=summary.target_error,
            configs=configs,
        )
        images.append(("Training curves", "curves.png"))
    panels = [
        Panel(
            profile.title,
            profile.x_label,
            profile.y_label,
            drawn,
            profile.log,
            profile.x,
        )
        for profile in PROFILES.values()
        if (drawn := _series(arms, profile.key))
    ]
    if panels:
        plot_profiles(panels, folder / "profiles.png", title)
        images.append(("Measured per layer or per shift", "profiles.png"))
    metrics = [(key, METRICS[key].label, METRICS[key].title) for key in summary.metrics]
    measured = [(arm.label, arm.stats) for arm in arms]
    plot_measures(measured, metrics, folder / "measures.png", title)
    images.append(("Measured figures", "measures.png"))

    lines = [
        f"# {summary.title}",
        "",
        f"**Question.** {summary.question}",
        "",
        f"**Paper.** {summary.paper} ({summary.source})",
        "",
    ]
    config = ", ".join(f"{k}={v}" for k, v in summary.config.items())
    target = summary.target_error
    lines += [
        f"**Setup.** {summary.setup}; recipe `{summary.recipe}` with {config or 'its own values'}."
        + (f" Target training error: {target:g}%." if target else ""),
    ]
    if summary.note:
        lines += ["", f"**Departs from the paper.** {summary.note}."]
    lines += [
        "",
        "## Claims",
        "",
        "| claim | paper | measured | verdict | seeds |",
        "|---|---|---|---|---|",
    ]
    for claim in summary.claims:
        lines.append(
            f"| {claim.text} | {claim.paper} | {claim.measured} | "
            f"**{claim.verdict}** | {claim.measured_over} |"
        )
    if failed := summary.failed_runs:
        lines += ["", f"**{FAILED_RUNS}**, counted in the figures above: {'; '.join(failed)}."]
    lines += ["", "## Figures per arm (mean ± standard deviation over seeds)", ""]
    header = ["arm", "model", *(METRICS[key].label for key in summary.metrics)]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for arm in arms:
        cells = [arm.format(key) for key in summary.metrics]
        lines.append("| " + " | ".join([arm.label, f"`{arm.call}`", *cells]) + " |")
    lines += [
        "",
        f"Verdicts, by Welch's one-sided t-test over the seeds at level {LEVEL}: *held* when "
        "the difference is significant the paper's way, *did not hold* when it is "
        "significant the other way, *not shown* when it is neither (the seeds' noise could "
        "make it); each names its p-value. One seed allows no test, and says so. "
        "Parameters and multiply-accumulates are exact (counted on the meta device).",
        "",
    ]
    for caption, name in images:
        lines += [f"## {caption}", "", f"![{caption}]({name})", ""]
    lines += [
        "## Runs",
        "",
        f"{sum(len(arm.runs) for arm in arms)} training runs,"
        f" {summary.training_time_s / 60:.1f} min of training on {summary.machine.describe()}; "
        "each run folder holds its config.json, metrics.jsonl/csv, checkpoint and weights:",
        "",
    ]
    for arm in arms:
        for run in arm.runs:
            lines.append(f"- {arm.label}, seed {run.seed}: `{Path(run.run_dir).name}`")
    path = folder / "report.md"
    write_file(path, "\n".join(lines) + "\n")
    return path
