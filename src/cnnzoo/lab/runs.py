"""The runs under the lab's root, as the pages show them: what each trains, how far it is, its
curves; every file read is a run's own, inside the root."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from cnnzoo.errors import CnnzooError
from cnnzoo.lab.guard import NotFound, own_file, picture_in, pictures_in, under_root
from cnnzoo.lab.jobs import EVALUATION
from cnnzoo.train.files import RunLock, read_json
from cnnzoo.train.folder import RunFolder

__all__ = ["find_runs", "run_detail", "run_file", "run_status", "starting"]

_DEPTH = 4  # experiments keep their runs a few folders down: runs/experiments/NAME/ARM-SEED


def run_status(folder: RunFolder) -> str:
    """``running`` (a process on this machine writes it), ``finished``, ``stopped`` (a
    checkpoint to resume from) or ``new`` (nothing saved yet)."""
    if RunLock(folder.path).writer() is not None:
        return "running"
    if folder.finished():
        return "finished"
    return "stopped" if folder.has_checkpoint() else "new"


def _read(root: Path, folder: RunFolder) -> tuple[dict[str, Any], list[dict[str, Any]], str | None]:
    """The config, the metrics rows, and what is wrong where a file is damaged or not one of
    the run's own (the run is still listed: one bad folder never hides the others)."""
    problem = None
    try:
        own_file(root, folder.config)
        config = folder.read_config()
    except (CnnzooError, OSError) as error:
        config, problem = {}, str(error)
    rows: list[dict[str, Any]] = []
    try:
        if own_file(root, folder.metrics).stat().st_size > 0:
            rows = folder.read_metrics()
    except (CnnzooError, OSError) as error:
        problem = problem or str(error)
    return config, rows, problem


def _overview(
    root: Path, folder: RunFolder, config: dict[str, Any], rows: list[dict[str, Any]]
) -> dict[str, Any]:
    last = rows[-1] if rows else {}
    return {
        "id": folder.path.relative_to(root).as_posix(),
        "model": config.get("model"),
        "data": config.get("data"),
        "recipe": config.get("recipe"),
        "epochs": config.get("epochs"),
        "epochs_done": len(rows),
        "test_top1": last.get("test_top1"),
        "best_top1": max((r["test_top1"] for r in rows), default=None),
        "status": run_status(folder),
        "modified": folder.metrics.stat().st_mtime if folder.metrics.exists() else None,
    }


def find_runs(root: Path) -> list[dict[str, Any]]:
    """Every run folder under ``root`` (a ``config.json`` and ``metrics.jsonl``), up to a few
    folders deep; links are not followed, so nothing outside the root is listed."""
    root = root.resolve()
    found = []
    for top, dirs, _ in os.walk(root, followlinks=False):
        depth = len(Path(top).relative_to(root).parts)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and depth < _DEPTH)
        folder = RunFolder(Path(top))
        if top != str(root) and folder.is_run():
            config, rows, problem = _read(root, folder)
            found.append({**_overview(root, folder, config, rows), "problem": problem})
            dirs[:] = []  # a run's own folders (tensorboard) hold no runs
    return sorted(found, key=lambda run: -(run["modified"] or 0))


def _folder(root: Path, run_id: str) -> RunFolder:
    folder = RunFolder(under_root(root, run_id))
    if not folder.path.is_dir() or not folder.is_run():
        raise NotFound(f"{run_id}: not a run folder (no config.json and metrics.jsonl)")
    return folder


def run_detail(root: Path, run_id: str) -> dict[str, Any]:
    """A run's config, every metrics row, its summary and the pictures in its folder."""
    root = root.resolve()
    folder = _folder(root, run_id)
    config, rows, problem = _read(root, folder)
    summary: dict[str, Any] | None = None
    if folder.summary.exists() or folder.summary.is_symlink():
        try:
            summary = read_json(own_file(root, folder.summary))
        except (CnnzooError, OSError) as error:
            problem = problem or str(error)
    pictures = pictures_in(folder.path)
    evaluation: dict[str, Any] | None = None
    if (folder.path / EVALUATION).exists():
        try:
            evaluation = read_json(own_file(root, folder.path / EVALUATION))
        except (CnnzooError, OSError) as error:
            problem = problem or str(error)
    return {
        **_overview(root, folder, config, rows),
        "problem": problem,
        "config": config,
        "metrics": rows,
        "summary": summary,
        "evaluation": evaluation,
        "files": pictures,
    }


def starting(run_id: str) -> dict[str, Any]:
    """What :func:`run_detail` says of a run whose process has not yet written its folder."""
    empty = dict.fromkeys(("model", "data", "recipe", "epochs", "test_top1", "best_top1"))
    return {
        "id": run_id,
        **empty,
        "epochs_done": 0,
        "status": "starting",
        "modified": None,
        "problem": None,
        "config": {},
        "metrics": [],
        "summary": None,
        "evaluation": None,
        "files": [],
    }


def run_file(root: Path, run_id: str, name: str) -> Path:
    """A picture of the run's own folder."""
    return picture_in(_folder(root.resolve(), run_id).path, name)
