"""Runs the lab starts: ``cnnzoo train`` in a process of its own, with options checked one by
one (never a shell, never a word the page wrote), stopped as Ctrl-C stops it.

Each run trains into a folder of the runs root named by the lab; what the process prints goes
to ``ROOT/.lab/NAME.log`` (a hidden folder, so it is never listed as a run), which the run's page
shows as its progress. Only processes this lab started can be stopped from the page: a lock file
in a run folder names a process, but someone else may have written it.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from cnnzoo.data.catalogue import DATASETS
from cnnzoo.errors import ConfigError
from cnnzoo.lab.guard import Forbidden, NotFound, under_root
from cnnzoo.models import list_models
from cnnzoo.train.config import RECIPES
from cnnzoo.train.folder import RunFolder

__all__ = ["EVALUATION", "MAX_EPOCHS", "Job", "Jobs", "NewRun"]

MAX_EPOCHS = 1000
LOGS = ".lab"
EVALUATION = "eval.json"  # what an evaluation from the lab writes into the run's folder
_LOG_TAIL = 16_384  # bytes of a log a page gets: the last epochs and the last word


@dataclass(frozen=True)
class NewRun:
    """What the page may choose for a new run; each value checked against what exists."""

    model: str
    recipe: str | None = None
    data: str = "fashion-mnist"
    epochs: int | None = None
    train_subset: int = 0
    test_subset: int = 0
    threads: int = 0  # CPU threads (0: the free cores, as `cnnzoo train` counts them)

    def __post_init__(self) -> None:
        if self.model not in list_models():
            raise ConfigError(f"model {self.model!r}: not a zoo model (`cnnzoo list`)")
        if self.recipe is not None and self.recipe not in RECIPES:
            raise ConfigError(f"recipe {self.recipe!r}: expected one of {', '.join(RECIPES)}")
        if self.data not in DATASETS:
            raise ConfigError(f"data {self.data!r}: expected one of {', '.join(DATASETS)}")
        if self.epochs is not None and not 1 <= self.epochs <= MAX_EPOCHS:
            raise ConfigError(f"epochs {self.epochs}: expected 1 to {MAX_EPOCHS}")
        for key in ("train_subset", "test_subset", "threads"):
            if getattr(self, key) < 0:
                raise ConfigError(f"{key} {getattr(self, key)}: expected 0 (all) or more")

    def arguments(self) -> list[str]:
        """``cnnzoo train``'s words for these values: each an option and a checked value."""
        words = [self.model, "--data", self.data]
        words += ["--recipe", self.recipe] if self.recipe else []
        words += ["--epochs", str(self.epochs)] if self.epochs else []
        words += ["--train-subset", str(self.train_subset)] if self.train_subset else []
        words += ["--test-subset", str(self.test_subset)] if self.test_subset else []
        words += ["--threads", str(self.threads)] if self.threads else []
        return words


@dataclass
class Job:
    """One ``cnnzoo train`` process this lab started."""

    run_id: str
    kind: str  # "train" or "eval": what the process does to the run
    process: subprocess.Popen[bytes]
    log: Path
    started: float

    @property
    def running(self) -> bool:
        return self.process.poll() is None


class Jobs:
    """The training processes of one lab, by run id."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def _logs(self) -> Path:
        """``ROOT/.lab``: a folder of the root's own, made if missing, never a link."""
        folder = self.root / LOGS
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise Forbidden(
                f"{LOGS} in the runs root is not a folder: the lab keeps its logs there"
            ) from None
        if folder.is_symlink() or not folder.resolve().is_relative_to(self.root.resolve()):
            raise Forbidden(
                f"{LOGS} in the runs root is a link: the lab writes inside the root only"
            )
        return folder

    def _log_path(self, run_id: str) -> Path:
        return self._logs() / f"{urllib.parse.quote(run_id, safe='')}.log"  # one name a run

    def _launch(self, run_id: str, words: list[str], kind: str = "train") -> Job:
        log = self._log_path(run_id)
        # Appended to (a resumed run's log goes on), never through a link someone left there.
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(log, flags, 0o644)
        except OSError as error:
            raise Forbidden(
                f"{LOGS}/{log.name}: cannot be written ({error.strerror}); refused"
            ) from None
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "cnnzoo", kind, *words],
                stdout=fd,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                start_new_session=True,  # a Ctrl-C at the lab's terminal is the lab's
            )
        finally:
            os.close(fd)
        job = Job(run_id, kind, process, log, time.time())
        self._jobs[run_id] = job
        return job

    def start(self, new: NewRun) -> Job:
        """Train ``new`` into a new folder of the root, named by the model, data and time."""
        with self._lock:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            base = f"{new.model}-{new.data}-{stamp}"
            name, number = base, 1
            while (self.root / name).exists() or name in self._jobs:
                number += 1
                name = f"{base}-{number}"
            words = [*new.arguments(), "--out", str(self.root), "--name", name]
            return self._launch(name, words)

    def resume(self, run_id: str, epochs: int | None = None) -> Job:
        """Continue a stopped run (or extend a finished one to ``epochs``)."""
        if epochs is not None and not 1 <= epochs <= MAX_EPOCHS:
            raise ConfigError(f"epochs {epochs}: expected 1 to {MAX_EPOCHS}")
        folder = RunFolder(under_root(self.root, run_id))
        if not folder.has_checkpoint():
            raise NotFound(f"{run_id}: no checkpoint to resume from")
        with self._lock:
            self._idle(run_id)
            words = ["--resume", str(folder.path)]
            words += ["--epochs", str(epochs)] if epochs else []
            return self._launch(run_id, words)

    def evaluate(self, run_id: str) -> Job:
        """``cnnzoo eval`` of the run: its figures into ``eval.json`` and its confusion
        matrix into ``confusion.png``, both in the run's folder."""
        folder = RunFolder(under_root(self.root, run_id))
        if not folder.has_checkpoint():
            raise NotFound(f"{run_id}: no checkpoint to evaluate")
        with self._lock:
            self._idle(run_id)
            words = [str(folder.path), "--json", str(folder.path / EVALUATION)]
            return self._launch(run_id, words, kind="eval")

    def _idle(self, run_id: str) -> None:
        """Refuses a second process for a run one of this lab's processes is busy with."""
        job = self._jobs.get(run_id)
        if job is not None and job.running:
            doing = "training" if job.kind == "train" else "being evaluated"
            raise ConfigError(f"{run_id} is {doing} already")

    def stop(self, run_id: str) -> Job:
        """Ctrl-C for the run: it finishes its step, saves a checkpoint and exits."""
        job = self._jobs.get(run_id)
        if job is None or not job.running or job.kind != "train":
            raise NotFound(
                f"{run_id}: no run of this lab trains it (runs started elsewhere stop where "
                "they were started)"
            )
        job.process.send_signal(signal.SIGINT)
        return job

    def get(self, run_id: str) -> Job | None:
        return self._jobs.get(run_id)

    def log(self, run_id: str) -> str:
        """The end of what the run's process printed."""
        job = self._jobs.get(run_id)
        if job is None:
            raise NotFound(f"{run_id}: no log (the lab shows the logs of runs it started)")
        try:  # through no link: the file, or the folder, may have been swapped since
            self._logs()
            fd = os.open(job.log, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
        except OSError as error:
            raise Forbidden(f"the log of {run_id} cannot be read ({error.strerror})") from None
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise Forbidden(f"the log of {run_id} is not a regular file; refused")
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - _LOG_TAIL))
            return f.read().decode("utf-8", errors="replace")

    def stop_all(self, wait: float = 30.0) -> None:
        """Stop every run still training and wait for their checkpoints (the lab shuts down)."""
        with self._lock:
            running = [job for job in self._jobs.values() if job.running]
        for job in running:
            job.process.send_signal(signal.SIGINT)
        deadline = time.monotonic() + wait
        for job in running:
            try:
                job.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                job.process.kill()
