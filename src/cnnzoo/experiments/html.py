"""One self-contained HTML page for runs and experiments: tables and figures, images embedded
as data URIs, so the file can be mailed or archived and opens in any browser offline."""

from __future__ import annotations

import base64
import html
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cnnzoo.errors import ConfigError
from cnnzoo.experiments.spec import FAILED_RUNS, METRICS
from cnnzoo.experiments.summary import ExperimentSummary
from cnnzoo.train.files import RunFileError, safe_member, write_file
from cnnzoo.train.folder import History, RunFolder
from cnnzoo.train.inference import load_trained
from cnnzoo.viz.curves import plot_curves
from cnnzoo.viz.filters import plot_filters

__all__ = ["write_html_report"]

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222;
       padding: 0 1rem; line-height: 1.45; }
h1 { border-bottom: 2px solid #ddd; padding-bottom: .3rem; }
h2 { margin-top: 2.5rem; border-bottom: 1px solid #eee; }
table { border-collapse: collapse; margin: 1rem 0; font-size: .9rem; }
th, td { border: 1px solid #ccc; padding: .3rem .6rem; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
figure { margin: 1rem 0; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: .9rem; }
.held { color: #1a7f37; font-weight: bold; }
.not { color: #b42318; font-weight: bold; }
.open { color: #6e6e6e; font-weight: bold; }
.meta { color: #666; font-size: .85rem; }
"""

# Set when every image has decoded: lets a headless browser (and the tests) confirm the page
# rendered with all its figures.
_SCRIPT = """
window.addEventListener("load", () => {
  const images = Array.from(document.images);
  const ok = images.filter((i) => i.complete && i.naturalWidth > 0).length;
  document.body.dataset.images = images.length;
  document.body.dataset.imagesLoaded = ok;
});
"""


def _image(path: Path, caption: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (
        f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


class _Markup(str):
    """HTML this module wrote itself around escaped values; every other value is escaped."""


def _cell(value: Any) -> str:
    return value if isinstance(value, _Markup) else html.escape(str(value))


def _number(value: Any, spec: str) -> str:
    """A figure from a file someone else may have written: formatted if it is a number."""
    return format(value, spec) if isinstance(value, int | float) else str(value)


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{_cell(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _experiment(folder: Path, summary: ExperimentSummary) -> str:
    e = html.escape
    config = ", ".join(f"{k}={v}" for k, v in summary.config.items())
    parts = [
        f"<h2>Experiment: {e(summary.title)}</h2>",
        f"<p><b>Question.</b> {e(summary.question)}</p>",
        f"<p><b>Paper.</b> {e(summary.paper)} ({e(summary.source)})</p>",
        f"<p><b>Setup.</b> {e(summary.setup)}, recipe {e(summary.recipe)}: {e(config)}</p>",
    ]
    if summary.note:
        parts.append(f"<p><b>Departs from the paper.</b> {e(summary.note)}.</p>")
    claims = []
    for claim in summary.claims:
        css = "held" if claim.held else "not" if claim.verdict.startswith("did not") else "open"
        claims.append(
            [
                claim.text,
                claim.paper,
                claim.measured,
                _Markup(f'<span class="{css}">{e(claim.verdict)}</span>'),
                claim.measured_over,
            ]
        )
    parts.append(_table(["claim", "paper", "measured", "verdict", "seeds"], claims))
    if failed := summary.failed_runs:
        parts.append(f"<p class='not'>{e(FAILED_RUNS)}: {e('; '.join(failed))}</p>")
    header = ["arm", "model", *(METRICS[k].label for k in summary.metrics)]
    rows = []
    for arm in summary.arms:
        cells = [arm.format(k) for k in summary.metrics]
        rows.append([arm.label, _Markup(f"<code>{e(arm.call)}</code>"), *cells])
    parts.append(_table(header, rows))
    figures = (
        ("curves.png", "training curves"),
        ("profiles.png", "measured per layer or per shift"),
        ("measures.png", "measured figures"),
    )
    for name, caption in figures:
        if safe_member(folder / name, folder):
            parts.append(_image(folder / name, f"{summary.title}: {caption}"))
    return "\n".join(parts)


def _run(folder: Path, scratch: Path) -> tuple[str, History, dict[str, Any]]:
    """A run's section of the page, its per-epoch rows and its config."""
    e = html.escape
    run = RunFolder(folder)
    config = run.read_config()
    parts = [f"<h2>Run: {e(folder.name)}</h2>"]
    if run.finished():
        summary = run.read_summary()
        rows = [[k, f"{v:.2f}" if isinstance(v, float) else v] for k, v in summary.items()]
        parts.append(_table(["result", "value"], rows))
    else:
        parts.append(f"<p class='meta'>not finished: no {run.SUMMARY} yet</p>")
    history = run.read_metrics()
    curves = plot_curves(
        {folder.name: [history]},
        scratch / f"{folder.name}-curves.png",
        f"{config['model']} on {config['data']}: training curves",
        configs={folder.name: config},
    )
    parts.append(_image(curves, "training curves: error, loss and learning rate per epoch"))
    columns = (
        ("epoch", ""),
        ("train_loss", ".4f"),
        ("train_top1", ".2f"),
        ("test_loss", ".4f"),
        ("test_top1", ".2f"),
        ("lr", ".4g"),
        ("epoch_time_s", ".1f"),
    )
    epochs = [[_number(row.get(key, ""), spec) for key, spec in columns] for row in history]
    parts.append(
        _table(
            [
                "epoch",
                "train loss",
                "train top-1 (%)",
                "test loss",
                "test top-1 (%)",
                "lr",
                "time (s)",
            ],
            epochs,
        )
    )
    if run.has_checkpoint():
        trained = load_trained(folder)
        path = plot_filters(
            trained.model,
            scratch / f"{folder.name}-filters.png",
            f"{config['model']} after {trained.epoch} epochs",
        )
        parts.append(_image(path, "first-layer filters of the trained weights"))
    for png in sorted(set(folder.glob("*.png")) - {folder / "curves.png", folder / "filters.png"}):
        if safe_member(png, folder):  # a link to a file elsewhere is never copied in
            parts.append(_image(png, png.stem.replace("_", " ").replace("-", " ")))
    rows = [[k, v] for k, v in config.items()]
    parts.append(
        f"<details><summary>{run.CONFIG}</summary>"
        + _table(["field", "value"], rows)
        + "</details>"
    )
    return "\n".join(parts), history, config


def write_html_report(
    paths: Sequence[str | os.PathLike[str]], output: str | os.PathLike[str]
) -> Path:
    """Gather run folders (``cnnzoo train``'s) and experiment folders (``cnnzoo experiment``'s)
    into one page; several runs also get one plot of all their curves."""
    folders = [Path(p) for p in paths]
    if not folders:
        raise ConfigError("name at least one run or experiment folder")
    sections, runs, configs = [], {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        for folder in folders:
            try:
                if ExperimentSummary.is_experiment(folder):
                    sections.append(_experiment(folder, ExperimentSummary.read(folder)))
                    continue
                if RunFolder(folder).is_run():
                    section, history, configs[folder.name] = _run(folder, scratch)
                    sections.append(section)
                    runs[folder.name] = [history]
                    continue
            except (KeyError, TypeError, AttributeError) as error:  # a field missing or odd
                raise RunFileError(
                    f"{folder}: its summary or config is not what cnnzoo writes "
                    f"({type(error).__name__}: {error})"
                ) from error
            raise ConfigError(
                f"{folder} is neither a run folder (config.json, metrics.jsonl) nor an "
                "experiment folder (summary.json of `cnnzoo experiment`)"
            )
        if len(runs) > 1:
            both = plot_curves(
                runs, scratch / "all-curves.png", "All runs: training curves", configs=configs
            )
            sections.insert(0, "<h2>All runs</h2>" + _image(both, "the runs' curves together"))
        names = ", ".join(f.name for f in folders)
        page = (
            "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<title>cnnzoo report: {html.escape(names)}</title><style>{_STYLE}</style>"
            f"<script>{_SCRIPT}</script></head><body>"
            f"<h1>cnnzoo report</h1><p class='meta'>{html.escape(names)}</p>"
            + "\n".join(sections)
            + "</body></html>\n"
        )
    return write_file(output, page)
