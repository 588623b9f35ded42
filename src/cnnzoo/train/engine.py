"""The training loop: one function, :func:`train`, from a config to a finished run folder.

The run folder's files are named by :class:`~cnnzoo.train.folder.RunFolder`; each epoch (and on
Ctrl-C and on a crash) the run's state goes out as a typed
:class:`~cnnzoo.train.checkpoint.Checkpoint`. ``train(config, resume=run)`` continues from the
checkpoint at the exact step it was written; with ``deterministic=True`` on the CPU the resumed
run ends with the same weights, bit for bit, as one never interrupted.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from cnnzoo.errors import (
    ConfigError,
    NonFiniteLossError,
    RunError,
    TrainingInterrupted,
    cannot_write,
    os_error_text,
)
from cnnzoo.models import model_info
from cnnzoo.train.checkpoint import (
    Checkpoint,
    CheckpointError,
    cannot_resume,
    position,
    save_checkpoint,
)
from cnnzoo.train.config import TrainConfig
from cnnzoo.train.distributed import Distributed, setup_distributed
from cnnzoo.train.evaluate import EvalResult, TestViews, evaluate
from cnnzoo.train.files import RunLock, remove_leftovers
from cnnzoo.train.folder import RunFolder
from cnnzoo.train.inference import weights_metadata
from cnnzoo.train.metrics import MetricsLog, Progress, topk_correct
from cnnzoo.train.process import (
    StopSignals,
    global_settings,
    rng_state,
    set_rng_state,
    set_up_process,
)
from cnnzoo.train.schedule import Schedule
from cnnzoo.train.setup import (
    DataMismatchError,
    build_model,
    data_change_note,
    freeze_backbone,
    init_weights,
    pretrained_weights,
    run_data,
    start_of,
)
from cnnzoo.train.step import Stepper
from cnnzoo.train.threads import ThreadGovernor
from cnnzoo.train.weights import export_safetensors

__all__ = [
    "DataMismatchError",
    "NonFiniteLossError",
    "RunResult",
    "TrainingInterrupted",
    "train",
]


_REMEDY = "Train again with a lower --lr, --clip-grad 1.0 or --amp off"


class RunStorageError(RunError, OSError):
    """The disk refused a write of the run (full, read-only): what was kept, and how to go on."""


@dataclass
class RunResult:
    run_dir: Path
    epochs: int  # epochs completed
    test: EvalResult  # of the final (EMA, when on) weights
    wall_time_s: float  # of this invocation
    history: list[dict[str, Any]] = field(default_factory=list)


class _Run:
    """State of one training run; methods are the steps of :func:`train`."""

    def __init__(
        self,
        config: TrainConfig,
        resume: Checkpoint | None,
        dist: Distributed,
        run_dir: Path,
        other_data: bool = False,
    ) -> None:
        self.config = config
        self.dist = dist
        self.device = dist.device
        self.run_dir = run_dir
        self.folder = RunFolder(run_dir)
        self.info = model_info(config.model)
        set_up_process(config.threads, config.deterministic, config.seed, self.device)
        # Threads follow the free cores unless the user chose a count, or the sums' order
        # must stay fixed (a deterministic run), or processes share the cores on purpose.
        adapt = not config.threads and not config.deterministic and dist.world_size == 1
        self.governor = (
            ThreadGovernor(torch.get_num_threads()) if adapt and self.device.type == "cpu" else None
        )

        if config.amp == "fp16" and self.device.type != "cuda":
            raise ConfigError("fp16 mixed precision needs a GPU; on the CPU use --amp bf16")
        self.data = run_data(config, self.info, dist)
        self.notes: list[str] = []
        if config.warmup_epochs > config.epochs / 2:
            self.notes.append(
                f"WARNING: the warm-up takes {config.warmup_epochs:g} of {config.epochs} epochs: "
                "the rate is near its peak when training ends, and the weights are poor; give "
                f"--warmup-epochs {config.epochs / 10:g} or more --epochs"
            )
        if resume is not None and (
            note := data_change_note(resume.data_fingerprint, self.data, config, other_data)
        ):
            self.notes.append(note)
        model = build_model(config, self.data.spec.channels, len(self.data.classes))
        model = model.to(self.device)
        if config.channels_last:
            model = model.to(memory_format=torch.channels_last)
        self.model = model
        if config.init_from and resume is None:
            self.notes += init_weights(model, config)
        if config.weights and resume is None:
            self.notes += pretrained_weights(model, config)
        if config.freeze:
            freeze_backbone(model)
        wraps: list[Callable[[nn.Module], nn.Module]] = []
        if dist.world_size > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            wraps.append(lambda net: DistributedDataParallel(net, device_ids=ids))
        if config.compile:
            wraps.append(torch.compile)  # type: ignore[arg-type]

        def wrap(net: nn.Module) -> nn.Module:
            for outer in wraps:
                net = outer(net)
            return net

        self.stepper = Stepper(model, config, self.device, wrap)
        self.net, self.optimizer = self.stepper.net, self.stepper.optimizer
        self.scaler, self.ema = self.stepper.scaler, self.stepper.ema
        self.schedule = Schedule(config, len(self.data.train))
        self.epoch, self.step, self.global_step = 0, 0, 0
        self.running = {"loss": 0.0, "correct": 0.0, "count": 0.0, "time": 0.0}
        self.history: list[dict[str, Any]] = []
        self.best_top1 = 0.0
        self.improved = False  # the last epoch's test top-1 is the best so far
        self.last_test: EvalResult | None = None  # of the weights as they are now
        self.saved: tuple[int, int] | None = None  # (epoch, step) of the last checkpoint
        # Whether the run folder's checkpoint was written or checked by this process: only
        # such a one is kept as the previous checkpoint when the next replaces it.
        self.known_good = False
        if resume is not None:
            self._restore(resume)

    # --- checkpoints -------------------------------------------------------------------------
    def checkpoint(self) -> Checkpoint:
        return Checkpoint(
            config=self.config,
            model=self.model.state_dict(),
            classes=tuple(self.data.classes),
            input=self.data.spec,
            ema=self.ema.state_dict() if self.ema is not None else None,
            optimizer=self.optimizer.state_dict(),
            schedule=self.schedule.state_dict(),
            scaler=self.scaler.state_dict(),
            rng=rng_state(),
            epoch=self.epoch,
            step=self.step,
            global_step=self.global_step,
            running=dict(self.running),
            history=list(self.history),
            best_top1=self.best_top1,
            data_fingerprint=self.data.fingerprint,
        )

    def save(self, best: bool = False) -> None:
        """The checkpoint; with ``best``, ``best.pt`` first, so that a crash between the two
        writes leaves a run whose resume redoes the epoch and writes ``best.pt`` again."""
        if self.dist.main:
            state = self.checkpoint().to_state()
            if best:
                save_checkpoint(state, self.folder.best)
            save_checkpoint(state, self.folder.checkpoint, keep_previous=self.known_good)
            self.known_good = True
        self.saved = (self.epoch, self.step)
        self.dist.barrier()

    def kept(self) -> str:
        """Which checkpoint survives a divergence, for the error message."""
        if self.saved is None:
            return "there is no checkpoint yet to resume from"
        return f"the last good checkpoint, {position(*self.saved)}, is kept in {self.run_dir}"

    def _restore(self, saved: Checkpoint) -> None:
        """Every piece of the saved state, or a :class:`CheckpointError` naming what does not
        fit (a missing key, a tensor of another shape, a step beyond the epoch)."""
        try:
            self._load_state(saved)
        except (KeyError, TypeError, ValueError, RuntimeError) as error:
            raise cannot_resume(self.run_dir, error) from error
        steps = len(self.data.train)
        # step == steps: stopped after an epoch's last step, before its evaluation
        if self.epoch < 0 or not 0 <= self.step <= steps or self.global_step < 0:
            raise CheckpointError(
                f"{self.run_dir}: the checkpoint's position (epoch {self.epoch}, step "
                f"{self.step}) is not one of this run's ({steps} steps an epoch): damaged"
            )

    def _load_state(self, saved: Checkpoint) -> None:
        self.model.load_state_dict(saved.model)
        if self.ema is not None and saved.ema is not None:
            self.ema.load_state_dict(saved.ema)
        self.optimizer.load_state_dict(saved.optimizer)
        self.schedule.load_state_dict(saved.schedule)
        self.scaler.load_state_dict(saved.scaler)
        set_rng_state(saved.rng)
        self.epoch, self.step, self.global_step = saved.epoch, saved.step, saved.global_step
        self.running = dict(saved.running)
        self.history = list(saved.history)
        self.best_top1 = saved.best_top1
        self.saved = (self.epoch, self.step)

    # --- the loop ----------------------------------------------------------------------------
    def _set_lr(self) -> float:
        lr = self.config.lr * self.schedule.factor(self.global_step)
        for group in self.optimizer.param_groups:
            group["lr"] = lr * group.get("lr_scale", 1.0)  # a fine-tuned backbone's share
        return lr

    def train_step(self, images: torch.Tensor, labels: torch.Tensor) -> float:
        """One optimizer step; returns the batch's loss (one device sync per step)."""
        loss, logits = self.stepper(images, labels)
        batch = labels.shape[0]
        correct = topk_correct(logits, labels, 1)
        loss_value, correct_value = torch.stack([loss, correct.float()]).tolist()
        self.running["loss"] += loss_value * batch
        self.running["correct"] += correct_value
        self.running["count"] += batch
        return float(loss_value)

    def run_epoch(self, progress: Progress, signals: StopSignals) -> None:
        self.model.train()
        loader = self.data.train
        if self.step >= len(loader):  # stopped after its last step: only its evaluation is left
            return
        loader.set_epoch(self.epoch)
        progress.start_epoch(self.epoch, self.step)
        started = time.perf_counter()
        try:
            for images, labels in loader.batches(self.step):
                lr = self._set_lr()
                loss = self.train_step(images, labels)
                self.step += 1
                self.global_step += 1
                # Every rank must agree to stop, or the others would wait in the next all-reduce.
                flags = self.dist.max(
                    torch.tensor([float(signals.stop), float(not math.isfinite(loss))])
                )
                if flags[1]:
                    raise NonFiniteLossError(
                        f"the loss became {loss} at epoch {self.epoch + 1}, "
                        f"step {self.step} (lr {lr:.4g}); {self.kept()}. {_REMEDY}"
                    )
                progress.step(loss, lr)
                if self.governor is not None and (threads := self.governor.tick()):
                    progress.message(
                        f"now {threads} CPU thread{'s' * (threads != 1)}: other programs kept "
                        f"{self.governor.seen:.1f} of the {self.governor.cores} cores busy"
                    )
                every = self.config.checkpoint_every
                if flags[0] or (every and self.global_step % every == 0):
                    self.running["time"] += time.perf_counter() - started
                    started = time.perf_counter()
                    self.save()
                    if flags[0]:
                        raise TrainingInterrupted(
                            f"stopped at epoch {self.epoch + 1}, step {self.step}; "
                            "checkpoint saved. "
                            f"Continue with `cnnzoo train --resume {self.run_dir}`"
                        )
        finally:
            self.running["time"] += time.perf_counter() - started

    def end_epoch(self) -> dict[str, Any]:
        test = self.last_test = self.evaluate()
        if not math.isfinite(test.loss):  # the last updates diverged after finite losses
            raise NonFiniteLossError(
                f"the test loss became {test.loss} after epoch {self.epoch + 1}; "
                f"{self.kept()}. {_REMEDY}"
            )
        count = self.dist.sum(
            torch.tensor(
                [self.running["loss"], self.running["correct"], self.running["count"]],
                dtype=torch.float64,
            )
        )
        seconds = self.running["time"]
        row = {
            "epoch": self.epoch + 1,
            "train_loss": count[0].item() / count[2].item(),
            "train_top1": 100 * count[1].item() / count[2].item(),
            "test_loss": test.loss,
            "test_top1": test.top1,
            "test_top5": test.top5,
            **self._train_eval(),
            "lr": self.optimizer.param_groups[0]["lr"],
            "images_per_s": count[2].item() / max(seconds, 1e-9),
            "epoch_time_s": seconds,
            "time_s": (self.history[-1]["time_s"] if self.history else 0.0) + seconds,
            "threads": torch.get_num_threads(),  # as the epoch ended (fewer on a busy machine)
        }
        # The first epoch is the best so far even at 0% (best_top1 starts at 0).
        self.improved = not self.history or test.top1 > self.best_top1
        self.history.append(row)
        self.best_top1 = max(self.best_top1, test.top1)
        self.schedule.epoch_end(test.loss)
        self.epoch += 1
        self.step = 0
        self.running = {"loss": 0.0, "correct": 0.0, "count": 0.0, "time": 0.0}
        return row

    def _train_eval(self) -> dict[str, float]:
        """The loss and error on the training images as evaluation sees them (``eval_train``):
        the running figures are of changing weights, under augmentation and dropout."""
        if not self.config.eval_train:
            return {}
        with self.stepper.autocast():
            fitted = evaluate(
                self.eval_model(),
                self.data.train_eval,
                len(self.data.classes),
                self.dist,
                channels_last=self.config.channels_last,
            )
        return {"train_eval_loss": fitted.loss, "train_eval_top1": fitted.top1}

    def eval_model(self) -> nn.Module:
        return self.ema.module if self.ema is not None else self.model

    def evaluate(self) -> EvalResult:
        views = TestViews(self.config.test_views, pad=self.config.crop_padding)
        with self.stepper.autocast():
            return evaluate(
                self.eval_model(),
                self.data.test,
                len(self.data.classes),
                self.dist,
                channels_last=self.config.channels_last,
                views=views,
            )

    def metadata(self) -> dict[str, Any]:
        return weights_metadata(self.config, self.data.classes, self.data.spec)


def _starting(config: TrainConfig, run: _Run, steps: int, resumed: bool) -> str:
    """The line a run prints at once: what trains on what, how long, where."""
    threads = torch.get_num_threads()
    where = (
        f"{threads} CPU thread{'s' * (threads != 1)}"
        + (" (fewer while other programs use the cores)" if run.governor is not None else "")
        if run.device.type == "cpu"
        else run.device
    )
    data = run.data
    what = (
        f"{config.model} on {config.data} ({len(data.classes)} classes, "
        f"{'x'.join(map(str, data.spec.size))} inputs)"
    )
    epochs = f"{config.epochs} epoch{'s' * (config.epochs != 1)} of {steps} steps"
    if resumed:
        return f"resuming {what} at epoch {run.epoch + 1}, step {run.step} of {epochs}, {where}"
    return f"training {what}: {epochs} (batch {config.batch_size}), {where}, into {run.run_dir}"


def _best_epoch(history: list[dict[str, Any]]) -> int | None:
    """The first epoch of the best test top-1 (the one ``best.pt`` holds)."""
    if not history:
        return None
    return max(history, key=lambda row: (row["test_top1"], -row["epoch"]))["epoch"]


def train(
    config: TrainConfig | None = None,
    *,
    resume: str | Path | None = None,
    epochs: int | None = None,
    runtime: Mapping[str, Any] | None = None,
    progress: bool = True,
    other_data: bool = False,
) -> RunResult:
    """Train as ``config`` says, or continue the run folder (or checkpoint) ``resume``.

    A resumed run keeps its saved config; ``epochs`` may extend it, and ``runtime`` may move
    it (device, threads, workers, data_dir, checkpoint_every): a run checkpointed on a GPU
    can finish on a CPU. A resumed run refuses data other than it began with
    (:class:`DataMismatchError`) unless ``other_data``, which warns instead. Raises
    :class:`TrainingInterrupted` after Ctrl-C (a checkpoint was saved first) and
    :class:`NonFiniteLossError` when the loss diverges (the last good checkpoint is kept).
    """
    config, saved, resumed_from, run_dir = start_of(config, resume, epochs, runtime)
    dist = setup_distributed(config.device)
    restore_settings = global_settings()
    started = time.perf_counter()
    folder = RunFolder(run_dir)
    lock = RunLock(run_dir)
    created = not run_dir.exists()
    run: _Run | None = None
    try:
        if dist.main:  # one writer a run folder; a killed run's lock is the kernel's, gone
            lock.acquire()
            remove_leftovers(run_dir)  # temporary files of writes a kill interrupted
        run = _Run(config, saved, dist, run_dir, other_data)
        run.known_good = resumed_from == folder.checkpoint
        if dist.main:
            folder.write(folder.CONFIG, json.dumps(config.to_dict(), indent=2) + "\n")
        log = MetricsLog(folder, run.history) if dist.main else None
        steps = len(run.data.train)
        bar = Progress(config.epochs, steps, enabled=progress and dist.main)
        bar.message(_starting(config, run, steps, resumed_from is not None))
        for note in run.notes:
            bar.message(note)
        try:
            with StopSignals().installed() as signals:
                while run.epoch < config.epochs:
                    try:
                        run.run_epoch(bar, signals)
                    except (NonFiniteLossError, TrainingInterrupted):
                        raise
                    except Exception as error:
                        if not cannot_write(error):
                            run.save()  # a crash keeps the steps done so far
                        raise
                    row = run.end_epoch()
                    if log is not None:
                        log.write(row)
                    bar.end_epoch(row)
                    run.save(best=config.keep == "best" and run.improved)
        finally:
            bar.close()
            if log is not None:
                log.close()
        # The last epoch's evaluation, unless this call trained none (a finished run resumed).
        test = run.last_test or run.evaluate()
        if dist.main:
            export_safetensors(run.eval_model(), folder.weights, run.metadata())
            summary = {
                "model": config.model,
                "data": config.data,
                "epochs": run.epoch,
                "test_top1": test.top1,
                "test_top5": test.top5,
                "test_loss": test.loss,
                "test_images": test.count,
                "best_top1": run.best_top1,
                "best_epoch": _best_epoch(run.history),
                "train_time_s": run.history[-1]["time_s"] if run.history else 0.0,
                "world_size": dist.world_size,
                "device": str(dist.device),
            }
            folder.write(folder.SUMMARY, json.dumps(summary, indent=2) + "\n")
        return RunResult(run.run_dir, run.epoch, test, time.perf_counter() - started, run.history)
    except OSError as error:
        if not cannot_write(error):
            raise
        resume_with = f"then continue with `cnnzoo train --resume {run_dir}`"
        if run is not None and run.saved is not None:
            kept = f"{run.kept()}; {resume_with}"
        elif saved is not None:
            kept = f"the checkpoint in {run_dir} is as it was; {resume_with}"
        else:
            kept = "nothing was trained yet"
        raise RunStorageError(f"{os_error_text(error)}. {kept[0].upper()}{kept[1:]}") from error
    finally:
        lock.release()
        if created and dist.main and folder.empty_but_lock():
            (run_dir / folder.LOCK).unlink(missing_ok=True)  # refused before it began
            run_dir.rmdir()
        dist.close()
        restore_settings()
