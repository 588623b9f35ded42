"""An experiment's plots and its Markdown report: the measured figures beside the paper's."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from cnnzoo.experiments.spec import FAILED_RUNS, METRICS
from cnnzoo.train.files import write_file
from cnnzoo.viz.charts import plot_measures
from cnnzoo.viz.curves import plot_curves

__all__ = ["format_stat", "write_report"]


def format_stat(stats: dict[str, Any] | None, key: str) -> str:
    """``mean ± std (n)`` in the metric's unit; "not reached" for a target never met."""
    if stats is None:
        return "—"
    mean = stats["mean"]
    if mean is None or not math.isfinite(mean):
        reached = sum(v is not None for v in stats["values"])
        return f"not reached ({reached}/{stats['n']} seeds)"
    if key == "params":
        return f"{mean:,.0f}"
    if key == "macs":
        return f"{mean / 1e6:,.1f}M"
    text = f"{mean:.1f}" if key == "train_time_s" else f"{mean:.2f}"
    if stats["n"] > 1:
        text += f" ± {stats['std']:.2f} (n={stats['n']})"
    return text


def write_report(summary: dict[str, Any], folder: Path, curves: bool = True) -> Path:
    """``curves.png`` (training and test error, loss, learning rate of every trained arm),
    ``measures.png`` (the table's figures per arm and seed) and ``report.md``."""
    arms = summary["arms"]
    trained = {arm["label"]: [run["history"] for run in arm["runs"]] for arm in arms if arm["runs"]}
    scale = f"{summary['scale']} scale, {summary['data']}, {summary['seeds']} seed(s)"
    images = []
    if curves and trained:
        plot_curves(
            trained,
            folder / "curves.png",
            f"{summary['title']} — {scale}",
            target_error=summary.get("target_error"),
        )
        images.append(("Training curves", "curves.png"))
    metrics = [(key, METRICS[key].label) for key in summary["metrics"]]
    plot_measures(arms, metrics, folder / "measures.png", f"{summary['title']} — {scale}")
    images.append(("Measured figures", "measures.png"))

    lines = [
        f"# {summary['title']}",
        "",
        f"**Question.** {summary['question']}",
        "",
        f"**Paper.** {summary['paper']} ({summary['source']})",
        "",
    ]
    config = ", ".join(f"{k}={v}" for k, v in summary["config"].items())
    lines += [
        f"**Setup.** {scale}; recipe `{summary['recipe']}` with {config or 'its own values'}."
        + (
            f" Target training error: {summary['target_error']:g}%."
            if summary["target_error"]
            else ""
        ),
    ]
    if summary["note"]:
        lines += ["", f"**Departs from the paper.** {summary['note']}."]
    lines += [
        "",
        "## Claims",
        "",
        "| claim | paper | measured | verdict | seeds |",
        "|---|---|---|---|---|",
    ]
    for claim in summary["claims"]:
        lines.append(
            f"| {claim['text']} | {claim['paper']} | {claim['measured']} | "
            f"**{claim['verdict']}** | {claim['seeds'] or 'exact'} |"
        )
    if summary["failed_runs"]:
        lines += [
            "",
            f"**{FAILED_RUNS}**, counted in the figures above: "
            f"{'; '.join(summary['failed_runs'])}.",
        ]
    lines += ["", "## Figures per arm (mean ± standard deviation over seeds)", ""]
    header = ["arm", "model", *(METRICS[key].label for key in summary["metrics"])]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for arm in arms:
        model = arm["model"] + (
            "(" + ", ".join(f"{k}={v}" for k, v in arm["model_args"].items()) + ")"
            if arm["model_args"]
            else ""
        )
        cells = [format_stat(arm["stats"].get(key), key) for key in summary["metrics"]]
        lines.append("| " + " | ".join([arm["label"], f"`{model}`", *cells]) + " |")
    lines += [
        "",
        "Verdicts: *held* when the difference points the paper's way and is larger "
        "than the seeds' standard deviation, *did not hold* when it points the other way "
        "by more than that, and *within the spread of the seeds* beside either when the "
        "difference is smaller than that. "
        "Parameters and multiply-accumulates are exact (counted on the meta device).",
        "",
    ]
    for caption, name in images:
        lines += [f"## {caption}", "", f"![{caption}]({name})", ""]
    machine = summary["machine"]
    lines += [
        "## Runs",
        "",
        f"{sum(len(arm['runs']) for arm in arms)} training runs,"
        f" {summary['training_time_s'] / 60:.1f} min of training on {machine['cuda'] or 'CPU'} "
        f"({machine['cpus']} CPUs, {machine['threads']} threads, torch {machine['torch']}); "
        "each run folder holds its config.json, metrics.jsonl/csv, checkpoint and weights:",
        "",
    ]
    for arm in arms:
        for run in arm["runs"]:
            lines.append(f"- {arm['label']}, seed {run['seed']}: `{Path(run['run_dir']).name}`")
    path = folder / "report.md"
    write_file(path, "\n".join(lines) + "\n")
    return path
