"""Every experiment at one scale, one after another, and one table of all their claims.

``cnnzoo experiment all`` runs each experiment that has the scale into its own folder (reusing
finished runs, as one experiment does), times each, and writes ``claims-SCALE.md``: the README's
table of every claim, measured and judged, with each experiment's training and wall-clock
minutes and the count of verdicts. The README's quick table is this file, so it is one
command away from being measured again.
"""

from __future__ import annotations

import dataclasses
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnnzoo.errors import ConfigError, TrainingInterrupted
from cnnzoo.experiments.runner import ExperimentResult, run_experiment
from cnnzoo.experiments.significance import LEVEL
from cnnzoo.experiments.spec import check_scale
from cnnzoo.experiments.specs import EXPERIMENTS
from cnnzoo.experiments.summary import ClaimVerdict
from cnnzoo.train.files import write_file

__all__ = ["SuiteEntry", "claims_table", "run_suite"]

VERDICTS = ("held", "did not hold", "not shown", "not measured")  # how a verdict begins
# The test as a verdict quotes it (significance.Welch.text): the line above the table names the
# test and its level once, and the seeds have a column, so a row keeps the p-value alone.
_TEST = re.compile(r" \(Welch's t-test, one-sided (p [<=] [0-9.]+) at level [0-9.]+, [^)]*\)")


@dataclass(frozen=True)
class SuiteEntry:
    """One experiment of the suite, and the wall-clock seconds this invocation spent on it."""

    result: ExperimentResult
    wall_s: float


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _short(verdict: str) -> str:
    """``held (Welch's t-test, one-sided p = 0.004 at level 0.05, 3 seeds each)``: ``held, p =
    0.004``; other verdicts as they are."""
    return _TEST.sub(r", \1", verdict)


def _tally(claims: Sequence[ClaimVerdict]) -> str:
    """``35 claims: 24 held (19 by test, 5 exact), 6 not shown, ...``."""
    kinds = Counter(
        next((kind for kind in VERDICTS if claim.verdict.startswith(kind)), claim.verdict)
        for claim in claims
    )
    exact = sum(1 for c in claims if c.held and not c.seeds)
    parts = []
    for kind, count in kinds.most_common():
        detail = f" ({count - exact} by test, {exact} exact)" if kind == "held" and exact else ""
        parts.append(f"{count} {kind}{detail}")
    return f"{len(claims)} claims: " + ", ".join(parts)


def claims_table(entries: Sequence[SuiteEntry], scale: str) -> str:
    """The markdown table of every claim (one experiment's command and minutes on its first
    row; a verdict by Welch's one-sided test shortened to its p-value), the total minutes and
    the tally of verdicts."""
    lines = [
        f"Verdicts by Welch's one-sided t-test over the seeds at level {LEVEL}; minutes: "
        "training / wall-clock.",
        "",
        f"| command | claim | paper | measured ({scale}) | verdict | seeds | minutes |",
        "|---|---|---|---|---|---|---|",
    ]
    training = wall = 0.0
    claims: list[ClaimVerdict] = []
    for entry in entries:
        summary = entry.result.summary
        command = f"cnnzoo experiment {summary.experiment}"
        if scale != "quick":
            command += f" --scale {scale}"
        minutes = f"{summary.training_time_s / 60:.1f} / {entry.wall_s / 60:.1f}"
        training += summary.training_time_s
        wall += entry.wall_s
        for i, claim in enumerate(summary.claims):
            cells = [
                f"`{command}`" if i == 0 else "",
                claim.text,
                claim.paper,
                claim.measured,
                _short(claim.verdict),
                claim.measured_over,
                minutes if i == 0 else "",
            ]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        claims += summary.claims
    machines = [entry.result.summary.machine for entry in entries]  # one process: one machine
    where = (
        dataclasses.replace(machines[0], threads=max(m.threads for m in machines)).describe()
        if machines
        else "no experiment"
    )
    lines += [
        "",
        f"{len(entries)} experiment{'' if len(entries) == 1 else 's'} at {scale} scale "
        f"on {where}: {wall / 60:.0f} minutes of "
        f"wall-clock time in this run, {training / 60:.0f} of training. {_tally(claims)}.",
    ]
    return "\n".join(lines) + "\n"


def run_suite(
    scale: str = "quick",
    out: str | os.PathLike[str] = "runs",
    seeds: int | None = None,
    overrides: dict[str, Any] | None = None,
    progress: bool = False,
    log: Callable[[str], None] | None = None,
    done: Callable[[ExperimentResult], None] | None = None,
) -> tuple[list[SuiteEntry], Path]:
    """Run every experiment that has ``scale``, in the catalogue's order, into ``out``; write
    ``out/claims-SCALE.md`` and return the experiments and its path. Experiments without
    the scale are named in the log and left out; ``done`` is given each one as it ends."""
    check_scale(scale)
    say = log or (lambda _text: None)
    names = [name for name, e in EXPERIMENTS.items() if scale in e.scales]
    if skipped := [name for name in EXPERIMENTS if name not in names]:
        say(f"no {scale} scale, left out: {', '.join(skipped)}")
    if not names:
        raise ConfigError(f"no experiment has a {scale} scale")
    again = "cnnzoo experiment all" + ("" if scale == "quick" else f" --scale {scale}")
    entries = []
    for number, name in enumerate(names, 1):
        say(f"experiment {number} of {len(names)}: {name}")
        start = time.perf_counter()
        try:
            result = run_experiment(name, scale, out, seeds, overrides, progress, log)
        except TrainingInterrupted as stop:  # the finished experiments are reused next time
            raise TrainingInterrupted(
                f"{stop}; or `{again}` with them to continue the suite"
            ) from None
        entries.append(SuiteEntry(result, time.perf_counter() - start))
        say(f"{name}: {entries[-1].wall_s / 60:.1f} minutes of wall-clock time")
        if done is not None:
            done(result)
    path = Path(out) / f"claims-{scale}.md"
    write_file(path, claims_table(entries, scale), inside=Path(out))
    return entries, path
