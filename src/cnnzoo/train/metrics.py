"""Where a run's numbers go: JSONL and CSV per epoch, TensorBoard when installed, and a live
progress display (a rich bar with ETA on a terminal, one plain line per epoch elsewhere)."""

from __future__ import annotations

import csv
import io
import json
import sys
import time
from typing import Any

import torch

from cnnzoo.train.folder import RunFolder

__all__ = ["MetricsLog", "Progress", "first_reaching", "topk_correct"]


def topk_correct(logits: torch.Tensor, labels: torch.Tensor, k: int) -> torch.Tensor:
    """How many of ``labels`` are among the ``k`` largest logits (k is capped by the classes)."""
    k = min(k, logits.shape[1])
    top = logits.topk(k, dim=1).indices  # (B, k)
    return (top == labels[:, None]).any(1).sum()


def first_reaching(history: list[dict[str, Any]], top1: float) -> dict[str, Any] | None:
    """The first epoch's row whose test top-1 reached ``top1`` percent: its ``time_s`` is the
    training time to that accuracy (the speed route's measure), or None when none did."""
    return next((row for row in history if row["test_top1"] >= top1), None)


class MetricsLog:
    """One row per epoch in ``metrics.jsonl`` and ``metrics.csv`` in the run folder, both
    rewritten whole each epoch by replacing the files (a link planted there is not followed)."""

    def __init__(self, folder: RunFolder, history: list[dict[str, Any]] | None = None) -> None:
        self.folder = folder
        self.history: list[dict[str, Any]] = list(history or [])
        # A resumed run rewrites the files from the checkpoint's history: no duplicate epochs.
        self._rewrite()
        self.tensorboard: Any = None
        try:
            from torch.utils.tensorboard import SummaryWriter

            logs = folder.path / folder.TENSORBOARD
            if logs.is_symlink():  # ours to make: a planted link is removed, not written through
                logs.unlink()
            self.tensorboard = SummaryWriter(str(logs))
        except ImportError:
            pass

    def write(self, row: dict[str, Any]) -> None:
        self.history.append(row)
        self._rewrite()
        if self.tensorboard is not None:
            for key, value in row.items():
                if isinstance(value, float | int) and key != "epoch":
                    self.tensorboard.add_scalar(key, value, row["epoch"])
            self.tensorboard.flush()

    def _rewrite(self) -> None:
        jsonl = "".join(json.dumps(row) + "\n" for row in self.history)
        self.folder.write(self.folder.METRICS, jsonl)
        table = io.StringIO()
        if self.history:
            # Every row's fields: a run resumed from an older version adds fields its first
            # rows lack (``threads``), left empty there.
            fields = list(dict.fromkeys(key for row in self.history for key in row))
            writer = csv.DictWriter(table, fieldnames=fields, restval="")
            writer.writeheader()
            writer.writerows(self.history)
        self.folder.write(self.folder.METRICS_CSV, table.getvalue())

    def close(self) -> None:
        if self.tensorboard is not None:
            self.tensorboard.close()


class Progress:
    """A rich progress bar on a terminal; plain lines when output is a file or a pipe: one an
    epoch, and within an epoch one at least every ``every_s`` seconds, so a long run piped to
    a log always shows it is alive."""

    def __init__(
        self,
        total_epochs: int,
        steps_per_epoch: int,
        enabled: bool = True,
        every_s: float = 30.0,
    ) -> None:
        self.enabled = enabled
        self.steps = steps_per_epoch
        self.total_epochs = total_epochs
        self.every_s = every_s
        self.epoch, self.done = 0, 0
        self.last_line = time.monotonic()
        self.bar: Any = None
        if enabled and sys.stdout.isatty():
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as RichProgress

            self.bar = RichProgress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[status]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
            )
            self.bar.start()
            self.task = self.bar.add_task("", total=steps_per_epoch, status="")

    def start_epoch(self, epoch: int, done: int = 0) -> None:
        self.epoch, self.done = epoch, done
        if self.bar is not None:
            self.bar.reset(
                self.task,
                total=self.steps,
                completed=done,
                description=f"epoch {epoch + 1}/{self.total_epochs}",
                status="",
            )

    def step(self, loss: float, lr: float) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.update(self.task, advance=1, status=f"loss {loss:.4f}  lr {lr:.4g}")
        elif self.enabled and time.monotonic() - self.last_line >= self.every_s:
            self.message(
                f"epoch {self.epoch + 1}/{self.total_epochs}  step {self.done}/{self.steps}  "
                f"loss {loss:.4f}  lr {lr:.4g}"
            )

    def end_epoch(self, row: dict[str, Any]) -> None:
        if not self.enabled:
            return
        line = (
            f"epoch {row['epoch']}/{self.total_epochs}  loss {row['train_loss']:.4f}  "
            f"train {row['train_top1']:.2f}%  test {row['test_top1']:.2f}% "
            f"(top-5 {row['test_top5']:.2f}%)  lr {row['lr']:.4g}  "
            f"{row['images_per_s']:.0f} img/s  {row['epoch_time_s']:.1f} s"
        )
        self.message(line)

    def message(self, text: str) -> None:
        if not self.enabled:
            return
        self.last_line = time.monotonic()
        if self.bar is not None:
            self.bar.console.print(text)
        else:
            print(text, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
