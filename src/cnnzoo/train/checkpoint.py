"""Checkpoints that survive crashes, load without running pickled code, and say their version.

A checkpoint is written to a temporary file in the same folder and renamed over the old one, so a
crash mid-write leaves the previous checkpoint whole; the one before is kept beside it
(``checkpoint.prev.pt``), so a checkpoint damaged later, on the disk or in a copy, is not the end
of the run. It holds plain containers of tensors and
numbers only, so ``torch.load(weights_only=True)`` reads it. Final weights also go out as
safetensors, with the model name, classes and input conversion in the metadata.

:class:`Checkpoint` is what one holds, typed: the engine writes it, resuming, evaluation,
prediction and export read it. The format tag carries a version (``cnnzoo-checkpoint-2``);
checkpoints of older versions are upgraded as they load, newer ones are refused by name.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from cnnzoo.data.inputs import InputSpec
from cnnzoo.errors import RunError
from cnnzoo.pretrained import WeightsError, container_problem, load_reason, read_weights
from cnnzoo.train.config import TrainConfig
from cnnzoo.train.files import keep_copy, replacing
from cnnzoo.train.folder import RunFolder

__all__ = [
    "CHECKPOINT",
    "FORMAT",
    "VERSION",
    "Checkpoint",
    "CheckpointError",
    "cannot_resume",
    "find_checkpoint",
    "load_checkpoint",
    "not_usable",
    "position",
    "previous_of",
    "save_checkpoint",
    "unusable",
]

_TAG = "cnnzoo-checkpoint-"
VERSION = 2  # 1: the model name also stored beside the config (written until cnnzoo 0.x)
FORMAT = f"{_TAG}{VERSION}"
CHECKPOINT = RunFolder.CHECKPOINT


class CheckpointError(RunError, ValueError):
    """A file that is not a usable checkpoint; the message says what it is and what would do."""


def _digest(state: Any) -> str:
    """BLAKE2 of every tensor's bytes and every key on the way to it, in stored order: flipped
    bits in tensor data, which the file format does not check, change it."""
    digest = hashlib.blake2b(digest_size=16)

    def visit(obj: Any) -> None:
        if isinstance(obj, torch.Tensor):
            digest.update(f"{obj.dtype}{tuple(obj.shape)}".encode())
            flat = obj.detach().cpu().contiguous().reshape(-1)
            digest.update(flat.view(torch.uint8).numpy().data)
        elif isinstance(obj, dict):
            for key, value in obj.items():
                digest.update(repr(key).encode())
                visit(value)
        elif isinstance(obj, list | tuple):
            for value in obj:
                visit(value)

    visit({k: v for k, v in state.items() if k not in ("format", "digest")})
    return digest.hexdigest()


def previous_of(path: Path) -> Path:
    """Where the checkpoint before ``path`` is kept: ``checkpoint.pt`` -> ``checkpoint.prev.pt``."""
    return path.with_name(f"{path.stem}.prev{path.suffix}")


def save_checkpoint(
    state: dict[str, Any], path: str | os.PathLike[str], keep_previous: bool = False
) -> Path:
    """Write ``state`` atomically (a temporary file, flushed to disk, then renamed), with a
    digest of its tensors that :func:`load_checkpoint` checks. With ``keep_previous`` the
    checkpoint it replaces stays as :func:`previous_of` names it (give it only when that one is
    known to be good: the caller wrote it or loaded it)."""
    path = Path(path)
    # A state read back from a checkpoint carries its old tag and digest: both are made anew.
    body = {key: value for key, value in state.items() if key not in ("format", "digest")}
    with replacing(path) as handle:
        torch.save({"format": FORMAT, "digest": _digest(body), **body}, handle)
        if keep_previous and path.is_file() and not path.is_symlink():
            keep_copy(path, previous_of(path))
    return path


def unusable(error: Exception) -> str:
    """Why saved state did not fit, in one line: a missing key by name, else the error's
    first sentence (``load_state_dict`` lists every mismatch over several lines)."""
    return f"no {error}" if isinstance(error, KeyError) else load_reason(error)


def cannot_resume(run: str | os.PathLike[str], error: Exception) -> CheckpointError:
    """The error of a checkpoint whose state does not fit the run it would resume."""
    return CheckpointError(
        f"{run}: the checkpoint cannot be resumed ({unusable(error)}); it was written by "
        "another version or damaged: train again"
    )


def not_usable(source: str | os.PathLike[str], error: Exception) -> CheckpointError:
    """The error of a checkpoint that cannot rebuild the model it was written for."""
    return CheckpointError(f"{source}: not a usable cnnzoo run ({unusable(error)})")


def find_checkpoint(run_or_file: str | os.PathLike[str]) -> Path:
    """A run folder means its last checkpoint; a file is taken as it is."""
    path = Path(run_or_file).expanduser()
    if path.is_dir():
        candidate = RunFolder(path).checkpoint
        if not candidate.is_file():
            raise CheckpointError(f"{path} has no {CHECKPOINT}: is it a cnnzoo run folder?")
        return candidate
    if not path.is_file():
        raise CheckpointError(f"{path} does not exist: give a run folder or a checkpoint file")
    return path


def _read(path: Path, map_location: str | torch.device) -> dict[str, Any]:
    if problem := container_problem(path):
        raise CheckpointError(f"cannot read {path} as a checkpoint: {problem}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:
        raise CheckpointError(
            f"cannot read {path} as a checkpoint: {load_reason(error)}"
        ) from error
    version = _version(state)
    if version is None:
        raise CheckpointError(
            f"{path} is not a cnnzoo checkpoint (no format tag {FORMAT!r}); "
            "to start from plain weights use --init-from"
        )
    if version > VERSION:
        raise CheckpointError(
            f"{path} was written by a newer cnnzoo (checkpoint version {version}; this one "
            f"reads versions 1 to {VERSION}): upgrade cnnzoo to use it"
        )
    if state.get("digest") != _digest(state):
        raise CheckpointError(
            f"{path} is damaged: its tensors no longer match the digest written with them "
            "(flipped bits on the disk or in a copy)"
        )
    return _upgrade(state, version)


def _version(state: object) -> int | None:
    """The version in a cnnzoo format tag, or None for anything else."""
    tag = state.get("format") if isinstance(state, dict) else None
    if not isinstance(tag, str) or not tag.startswith(_TAG):
        return None
    number = tag.removeprefix(_TAG)
    return int(number) if number.isdigit() and int(number) >= 1 else None


def _upgrade(state: dict[str, Any], version: int) -> dict[str, Any]:
    """A checkpoint of an older version, as the current version holds it."""
    if version == 1:  # the model name was stored twice: beside the config and in it
        state.pop("model_name", None)
    state["format"] = FORMAT
    return state


def position(epoch: int, step: int) -> str:
    """Where in a run a checkpoint was written, as people say it."""
    return f"after epoch {epoch}" if step == 0 else f"at epoch {epoch + 1}, step {step}"


def load_checkpoint(
    run_or_file: str | os.PathLike[str], map_location: str | torch.device = "cpu"
) -> dict[str, Any]:
    """Read a cnnzoo checkpoint with ``weights_only=True``; a damaged one is refused, and the
    error names the older checkpoint kept beside it when that one is intact."""
    path = find_checkpoint(run_or_file)
    try:
        return _read(path, map_location)
    except CheckpointError as error:
        older = previous_of(path)
        try:  # the run's own older file, never one a link put there
            own = older.is_file() and not older.is_symlink()
            state = _read(older, map_location) if own else None
        except CheckpointError:
            state = None
        if state is None:
            raise CheckpointError(
                f"{error}; no intact older checkpoint is kept, so train again, or copy the run "
                "folder again from where it came"
            ) from error
        when = position(int(state.get("epoch", 0)), int(state.get("step", 0)))
        raise CheckpointError(
            f"{error}. The checkpoint before it, {when}, is intact: continue from it with "
            f"`cnnzoo train --resume {older}` (or `cnnzoo eval {older}`)"
        ) from error


@dataclass
class Checkpoint:
    """One checkpoint of a run: all a resume needs, and all evaluation and prediction need."""

    config: TrainConfig
    model: dict[str, torch.Tensor]  # the trained weights, torchvision-compatible keys
    classes: tuple[str, ...]
    input: InputSpec  # how images became the model's input
    ema: dict[str, Any] | None  # ``AveragedModel``'s state: ``module.``-prefixed weights
    optimizer: dict[str, Any]
    schedule: dict[str, Any]
    scaler: dict[str, Any]
    rng: dict[str, Any]  # torch's, Python's and (on a GPU) CUDA's generator states
    epoch: int  # epochs completed
    step: int  # steps into the next epoch: a checkpoint mid-epoch resumes at that step
    global_step: int
    running: dict[str, float]  # the open epoch's running sums
    history: list[dict[str, Any]]  # one metrics row an epoch
    best_top1: float
    data_fingerprint: str | None  # of the data trained on; None in early version-1 files

    def to_state(self) -> dict[str, Any]:
        """Plain containers of tensors and numbers, for ``torch.load(weights_only=True)``."""
        return {
            "config": self.config.to_dict(),
            "model": self.model,
            "ema": self.ema,
            "optimizer": self.optimizer,
            "schedule": self.schedule,
            "scaler": self.scaler,
            "rng": self.rng,
            "epoch": self.epoch,
            "step": self.step,
            "global_step": self.global_step,
            "running": dict(self.running),
            "history": list(self.history),
            "best_top1": self.best_top1,
            "classes": list(self.classes),
            "input": self.input.to_dict(),
            "data_fingerprint": self.data_fingerprint,
        }

    @classmethod
    def from_state(
        cls, state: dict[str, Any], source: str | os.PathLike[str], resuming: bool = False
    ) -> Checkpoint:
        """The typed checkpoint of a loaded state, or a one-line :class:`CheckpointError`
        naming the first field that is missing or not what the engine writes."""
        try:
            fingerprint = state.get("data_fingerprint")
            return cls(
                config=TrainConfig.from_dict(state["config"]),
                model=_tensors(state["model"], "model"),
                classes=tuple(str(c) for c in state["classes"]),
                input=InputSpec.from_dict(state["input"]),
                ema=None if state["ema"] is None else dict(state["ema"]),
                optimizer=dict(state["optimizer"]),
                schedule=dict(state["schedule"]),
                scaler=dict(state["scaler"]),
                rng=dict(state["rng"]),
                epoch=int(state["epoch"]),
                step=int(state["step"]),
                global_step=int(state["global_step"]),
                running={str(k): float(v) for k, v in state["running"].items()},
                history=[dict(row) for row in state["history"]],
                best_top1=float(state["best_top1"]),
                data_fingerprint=None if fingerprint is None else str(fingerprint),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            if resuming:
                raise cannot_resume(source, error) from error
            raise CheckpointError(
                f"{source}: not a usable cnnzoo run ({unusable(error)})"
            ) from error

    @classmethod
    def read(
        cls,
        run_or_file: str | os.PathLike[str],
        map_location: str | torch.device = "cpu",
        resuming: bool = False,
    ) -> Checkpoint:
        """Load and check a run folder's checkpoint (or a checkpoint file)."""
        path = find_checkpoint(run_or_file)
        state = load_checkpoint(path, map_location)
        return cls.from_state(state, path.parent if resuming else path, resuming)

    def save(self, path: str | os.PathLike[str], keep_previous: bool = False) -> Path:
        return save_checkpoint(self.to_state(), path, keep_previous)

    def weights(self, ema: bool = True) -> dict[str, torch.Tensor]:
        """The weights to use: the EMA's (``AveragedModel``'s, without its ``module.`` prefix
        and step count) when the run kept one and ``ema``, else the trained ones."""
        if not ema or self.ema is None:
            return self.model
        prefix = "module."
        return {k.removeprefix(prefix): v for k, v in self.ema.items() if k.startswith(prefix)}


def _tensors(value: Any, name: str) -> dict[str, torch.Tensor]:
    if not isinstance(value, dict) or not all(isinstance(v, torch.Tensor) for v in value.values()):
        raise TypeError(f"{name!r} is not a mapping of names to tensors")
    return dict(value)


def read_state_dict(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """Weights from a run (its folder or checkpoint), a safetensors file or a torchvision-format
    state_dict."""
    path = Path(path).expanduser()
    if path.is_dir():
        path = find_checkpoint(path)
    try:
        return read_weights(path)
    except WeightsError as error:
        raise CheckpointError(str(error)) from error
