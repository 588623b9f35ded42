"""A run folder: the names of a run's files, said once, and writes that stay inside it."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnnzoo.errors import ConfigError
from cnnzoo.train.config import TrainConfig
from cnnzoo.train.files import LOCK, RunFileError, read_json, write_file

__all__ = ["History", "RunFolder", "load_history", "saved_config"]

History = list[dict[str, Any]]

# The fields every metrics row has, as numbers (what the curves and reports read).
_ROW_NUMBERS = ("epoch", "lr", "train_loss", "test_loss", "train_top1", "test_top1")


def _finite_number(row: object, key: str) -> bool:
    value = row.get(key) if isinstance(row, dict) else None
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class RunFolder:
    """One training run on disk.

    ``config.json`` (the resolved config), ``metrics.jsonl`` and ``metrics.csv`` (one row an
    epoch), ``checkpoint.pt`` (rewritten atomically; the one before kept as
    ``checkpoint.prev.pt``), ``best.pt`` (with ``--keep best``: the epoch of the best test
    top-1), and at the end ``model.safetensors`` and ``summary.json``.
    """

    path: Path

    CONFIG = "config.json"
    METRICS = "metrics.jsonl"
    METRICS_CSV = "metrics.csv"
    CHECKPOINT = "checkpoint.pt"
    BEST = "best.pt"
    WEIGHTS = "model.safetensors"
    SUMMARY = "summary.json"
    TENSORBOARD = "tensorboard"
    LOCK = LOCK

    @classmethod
    def at(cls, path: str | os.PathLike[str]) -> RunFolder:
        return cls(Path(path).expanduser())

    @property
    def config(self) -> Path:
        return self.path / self.CONFIG

    @property
    def metrics(self) -> Path:
        return self.path / self.METRICS

    @property
    def checkpoint(self) -> Path:
        return self.path / self.CHECKPOINT

    @property
    def best(self) -> Path:
        return self.path / self.BEST

    @property
    def weights(self) -> Path:
        return self.path / self.WEIGHTS

    @property
    def summary(self) -> Path:
        return self.path / self.SUMMARY

    def has_checkpoint(self) -> bool:
        """A run began here: a checkpoint was written."""
        return self.checkpoint.exists()

    def is_run(self) -> bool:
        """The folder looks like one ``cnnzoo train`` writes: a config and metrics."""
        return self.config.exists() and self.metrics.exists()

    def finished(self) -> bool:
        return self.summary.exists()

    def write(self, name: str, data: bytes | str) -> Path:
        """Replace the file ``name`` atomically; a link is replaced, a name outside refused."""
        return write_file(self.path / name, data, inside=self.path)

    def read_config(self) -> dict[str, Any]:
        return read_json(self.config)

    def read_summary(self) -> dict[str, Any]:
        return read_json(self.summary)

    def read_metrics(self) -> History:
        """The per-epoch rows, each checked to be one ``cnnzoo train`` writes."""
        path = self.metrics
        if not path.exists():
            raise RunFileError(
                f"{self.path} has no {self.METRICS}: give a run folder that `cnnzoo train` wrote"
            )
        rows = []
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise RunFileError(f"{path}, line {number}: not JSON ({error.msg})") from None
            missing = sorted(k for k in _ROW_NUMBERS if not _finite_number(row, k))
            if missing:
                raise RunFileError(
                    f"{path}, line {number}: no number for {', '.join(missing)}: not a row that "
                    "`cnnzoo train` writes (edited or damaged)"
                )
            rows.append(row)
        if not rows:
            raise RunFileError(f"{path} is empty: the run has not finished an epoch yet")
        return rows

    def empty_but_lock(self) -> bool:
        """Nothing here but the lock: a run refused before it wrote anything."""
        return self.path.is_dir() and {p.name for p in self.path.iterdir()} <= {self.LOCK}


def load_history(run: str | os.PathLike[str]) -> History:
    """A run folder's per-epoch rows (``metrics.jsonl``)."""
    return RunFolder.at(run).read_metrics()


def saved_config(run_or_file: str | os.PathLike[str], **overrides: Any) -> TrainConfig:
    """The config a run was trained with (a run folder or its ``config.json``), with
    ``overrides``: ``cnnzoo train --config RUN`` trains the same run again, in a new folder."""
    path = Path(run_or_file).expanduser()
    if path.is_dir():
        path = RunFolder(path).config
    if not path.is_file():
        raise ConfigError(
            f"{run_or_file}: no such file; give a run folder or the config.json a run wrote"
        )
    try:
        return TrainConfig.from_dict({**read_json(path), **overrides})
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None
