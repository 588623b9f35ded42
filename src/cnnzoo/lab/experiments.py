"""The experiments under the lab's root as their pages show them: each claim with the paper's
figure, the measured one and the verdict, the plots, and the runs behind them. A
``summary.json`` is read through :class:`ExperimentSummary`, which refuses a field of the
wrong type by name: a folder someone else made is shown as what is wrong with it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from cnnzoo.errors import CnnzooError
from cnnzoo.experiments import EXPERIMENTS
from cnnzoo.experiments.summary import SUMMARY, ExperimentSummary
from cnnzoo.lab.guard import NotFound, own_file, picture_in, pictures_in, under_root
from cnnzoo.train.files import read_json

__all__ = ["experiment_detail", "experiment_file", "find_experiments", "known_experiments"]

_DEPTH = 3


def _summary(root: Path, folder: Path) -> ExperimentSummary:
    path = own_file(root, folder / SUMMARY)
    return ExperimentSummary.from_dict(read_json(path), folder.relative_to(root).as_posix())


def _is_experiment(root: Path, folder: Path) -> bool:
    """A ``summary.json`` of its own that names an experiment (a run's names none)."""
    path = folder / SUMMARY
    if not path.is_file() or path.is_symlink():
        return False
    try:
        return "experiment" in read_json(own_file(root, path))
    except CnnzooError:
        return True  # damaged: listed, with what is wrong


def find_experiments(root: Path) -> list[dict[str, Any]]:
    """Every experiment folder under ``root``, links not followed."""
    root = root.resolve()
    found = []
    for top, dirs, _ in os.walk(root, followlinks=False):
        depth = len(Path(top).relative_to(root).parts)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and depth < _DEPTH)
        folder = Path(top)
        if folder == root or not _is_experiment(root, folder):
            continue
        dirs[:] = []  # its runs are runs, not experiments
        entry: dict[str, Any] = {"id": folder.relative_to(root).as_posix(), "problem": None}
        try:
            summary = _summary(root, folder)
        except CnnzooError as error:
            found.append({**entry, "problem": str(error)})
            continue
        held = sum(claim.held for claim in summary.claims)
        entry |= {
            "experiment": summary.experiment,
            "title": summary.title,
            "scale": summary.scale,
            "setup": summary.setup,
            "claims": len(summary.claims),
            "held": held,
        }
        found.append(entry)
    return found


def _folder(root: Path, experiment_id: str) -> Path:
    folder = under_root(root.resolve(), experiment_id)
    if not folder.is_dir() or not _is_experiment(root.resolve(), folder):
        raise NotFound(f"{experiment_id}: not an experiment folder (no summary.json of one)")
    return folder


def experiment_detail(root: Path, experiment_id: str) -> dict[str, Any]:
    """The summary, the pictures in the folder, and each run as an id of the runs root (None
    for a run outside it, which the lab does not open) with its figures, not its curves."""
    root = root.resolve()
    folder = _folder(root, experiment_id)
    summary = _summary(root, folder)
    detail = summary.to_dict()
    for arm in detail["arms"]:
        for run in arm["runs"]:
            place = (root / run["run_dir"]).resolve()  # a relative one: of the root
            run["id"] = place.relative_to(root).as_posix() if place.is_relative_to(root) else None
            # the run's own page has its curves; the per-layer series are drawn in the plots
            # (a 110-layer profile per seed and arm: most of the summary's bytes)
            del run["history"], run["series"]
    return {"id": experiment_id, **detail, "pictures": pictures_in(folder), "setup": summary.setup}


def experiment_file(root: Path, experiment_id: str, name: str) -> Path:
    """A picture of the experiment's own folder."""
    return picture_in(_folder(root, experiment_id), name)


def known_experiments() -> list[dict[str, Any]]:
    """The experiments cnnzoo knows, with the command that runs each."""
    return [
        {
            "name": e.name,
            "title": e.title,
            "paper": f"{e.paper.authors} {e.paper.year}",
            "source": e.source,
            "command": f"cnnzoo experiment {e.name} --out RUNS",
        }
        for e in EXPERIMENTS.values()
    ]
