"""Where a run starts from: its folder and config (new, or resumed and perhaps moved or
extended), its data, and its first weights."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from torch import nn

from cnnzoo.data.augment import Augment
from cnnzoo.data.inputs import choose_fit, stored_shape
from cnnzoo.data.pipeline import DataBundle, build_data, is_folder
from cnnzoo.errors import ConfigError, DataError
from cnnzoo.factory import create_model
from cnnzoo.models import ModelInfo, ZooModel
from cnnzoo.pretrained import adapt_state_dict, fetch_state_dict, find_weights, load_into
from cnnzoo.train.checkpoint import Checkpoint, CheckpointError, find_checkpoint, read_state_dict
from cnnzoo.train.config import MOVABLE_FIELDS, TrainConfig
from cnnzoo.train.distributed import Distributed
from cnnzoo.train.folder import RunFolder

__all__ = [
    "DataMismatchError",
    "build_model",
    "data_change_note",
    "init_weights",
    "run_data",
    "start_of",
]


class DataMismatchError(DataError, ValueError):
    """A resumed run was given other data than it was trained on."""


def build_model(config: TrainConfig, in_chans: int, num_classes: int) -> ZooModel:
    """The network a run's config names, untrained: one place for the engine, the trained
    weights' loader and the probes that rebuild a run's initialisation."""
    return create_model(
        config.model, num_classes=num_classes, in_chans=in_chans, **config.model_args
    )


def start_of(
    config: TrainConfig | None,
    resume: str | Path | None,
    epochs: int | None,
    runtime: Mapping[str, Any] | None,
) -> tuple[TrainConfig, Checkpoint | None, Path | None, Path]:
    """The config a run trains with, the checkpoint it resumes (and its path), and its folder."""
    saved: Checkpoint | None = None
    resumed_from: Path | None = None
    if resume is not None:
        resumed_from = find_checkpoint(resume)
        saved = Checkpoint.read(resumed_from, resuming=True)
        config = saved.config
        run_dir = resumed_from.parent
    elif config is None:
        raise ConfigError("train() needs a config, or a run to resume")
    else:
        run_dir = _new_run_dir(config)
        if config.weights:  # DEFAULT as the weights it names today: torchvision moves it
            named = find_weights(config.model, config.weights).name
            config = TrainConfig.from_dict({**config.to_dict(), "weights": named})
    if runtime:
        if resume is None:
            raise ConfigError("runtime= moves a resumed run; give a new run's values in config")
        unknown = sorted(set(runtime) - MOVABLE_FIELDS)
        if unknown:
            raise ConfigError(
                f"runtime {unknown}: a resumed run may change only "
                f"{', '.join(sorted(MOVABLE_FIELDS))}"
            )
        config = TrainConfig.from_dict({**config.to_dict(), **runtime})
    if epochs is not None:
        done = saved.epoch if saved is not None else 0
        if epochs < done:
            raise ConfigError(
                f"--epochs {epochs}: the run has trained {done} epochs already; a resumed run "
                f"can only be extended (give {done} or more)"
            )
        config = TrainConfig.from_dict({**config.to_dict(), "epochs": epochs})
    return config, saved, resumed_from, run_dir


def _new_run_dir(config: TrainConfig) -> Path:
    """``out/model-data-recipe`` (or ``out/name``); a folder that already holds a run gets a
    numbered sibling (``-2``, ``-3``...) rather than being overwritten."""
    data = Path(config.data).name if is_folder(config.data) else config.data
    base = Path(config.out) / (config.name or f"{config.model}-{data}-{config.recipe}")
    path, number = base, 1
    while RunFolder(path).has_checkpoint():
        number += 1
        path = base.with_name(f"{base.name}-{number}")
    return path


def run_data(config: TrainConfig, info: ModelInfo, dist: Distributed) -> DataBundle:
    """The run's data, fitted to its model, this process's shard of it."""
    stored = stored_shape(config.data, info, config.image_size)
    fit = choose_fit(info, stored, config.channels, config.fit, config.image_size)
    if config.weights:  # the normalisation the weights were trained with
        transform: Any = find_weights(config.model, config.weights).transforms()
        fit = dataclasses.replace(fit, mean=tuple(transform.mean), std=tuple(transform.std))
    augment = Augment(config.crop_padding, config.flip, config.lighting, config.erasing)
    return build_data(
        config.data,
        fit,
        augment,
        config.batch_size,
        data_dir=config.data_dir or None,
        seed=config.seed,
        shard=dist.shard,
        device=dist.device,
        train_subset=config.train_subset,
        test_subset=config.test_subset,
        val_fraction=config.val_fraction,
        workers=config.workers,
    )


def data_change_note(
    saved: str | None, data: DataBundle, config: TrainConfig, other_data: bool
) -> str | None:
    """A resumed run on other data than it began with trains on a mix without a word:
    refused, or with ``other_data`` noted loudly."""
    if saved is None or saved == data.fingerprint:
        return None
    where = config.data_dir or config.data
    if not other_data:
        raise DataMismatchError(
            f"the run was trained on other data than {where} gives now (fingerprint "
            f"{saved}, now {data.fingerprint}): resume it on the data it began with, "
            "or pass --other-data to go on with this data knowingly"
        )
    return (
        f"WARNING: resuming on other data than the run began with ({saved} -> "
        f"{data.fingerprint}); its results mix both"
    )


def pretrained_weights(model: ZooModel, config: TrainConfig) -> list[str]:
    """A fine-tuning run's first weights: the model's published ones, the classifier afresh
    for the data's classes (and, under ``freeze``, everything else left as it is)."""
    published = find_weights(config.model, config.weights)
    notes = load_into(model, fetch_state_dict(published), published.title, strict=False)
    return [f"weights {published.title}: {note}" for note in notes if "unused" not in note]


def freeze_backbone(model: ZooModel) -> None:
    """Every parameter but the classifier's stops learning (``--freeze``)."""
    head = {id(p) for p in model.get_classifier().parameters()}
    for parameter in model.parameters():
        parameter.requires_grad_(id(parameter) in head)


def init_weights(model: nn.Module, config: TrainConfig) -> list[str]:
    """Load ``--init-from`` weights into a new run's model, adapted to it; notes on what changed.

    Unlike published weights (:func:`~cnnzoo.pretrained.load_into`, which refuses a file of
    which under half fits), a partial start is allowed: a warm start from the tensors of a
    related network that share its names and shapes. Only a file of which nothing fits is
    refused, and the notes count the tensors that start afresh."""
    given = read_state_dict(config.init_from)
    weights, notes = adapt_state_dict(model, given)
    if not weights:
        raise CheckpointError(
            f"--init-from {config.init_from}: none of its {len(given)} tensors "
            f"({', '.join(list(given)[:3])}, ...) fits {config.model}; give weights of "
            f"a {config.model}, from a cnnzoo run or torchvision"
        )
    model.load_state_dict(weights, strict=False)
    return [f"init-from: {note}" for note in notes]
