"""Pretrained weights: torchvision's, for every zoo network that is torchvision's network.

The weights are found through torchvision's own weights API (``get_model_weights``, each
entry's ``url``, ``meta`` and ``transforms()``), never a copied table of addresses, and land
in torch.hub's cache (``$TORCH_HOME/hub/checkpoints``) with the hash check torch.hub makes on
download. Only a zoo model registered as torchvision's network (``torchvision_equal``) takes
them: the paper's builds whose keys match but whose networks differ (the v1 ResNet-50, the
2012 AlexNet) are refused by name, never loaded silently.
"""

from __future__ import annotations

import functools
import os
import re
import urllib.error
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cnnzoo.errors import ConfigError
from cnnzoo.models import ModelInfo, list_models, model_info

__all__ = [
    "PretrainedWeights",
    "WeightsError",
    "adapt_state_dict",
    "cache_file",
    "container_problem",
    "fetch_state_dict",
    "find_weights",
    "imagenet_labels",
    "imagenet_synsets",
    "is_weights_file",
    "load_into",
    "load_reason",
    "read_weights",
    "weights_of",
]

IMAGENET = "ImageNet-1K"


class WeightsError(ConfigError):
    """Weights that cannot be had or do not fit: the message says which file and what to do."""


@dataclass(frozen=True)
class PretrainedWeights:
    """One set of published weights of a zoo model, as torchvision describes it."""

    model: str  # the zoo model's name
    name: str  # torchvision's name for it: IMAGENET1K_V1, ...
    enum: str  # torchvision's enum: ResNet18_Weights
    default: bool  # torchvision's DEFAULT
    url: str
    acc1: float | None  # ImageNet-1K validation, single centre crop, as torchvision reports it
    acc5: float | None
    file_mb: float
    num_params: int
    recipe: str
    categories: tuple[str, ...]

    @property
    def file(self) -> str:
        return self.url.rsplit("/", 1)[-1]

    @property
    def title(self) -> str:
        return f"{self.enum}.{self.name}"

    def transforms(self) -> Callable[[Any], torch.Tensor]:
        """The preprocessing the weights were trained with (resize, crop, normalise)."""
        return _enum(model_info(self.model))[self.name].transforms()


def _enum(info: ModelInfo) -> Any:
    from torchvision.models import get_model_weights

    assert info.torchvision is not None
    return get_model_weights(info.torchvision)


def _describe(model: str, entry: Any, default: Any) -> PretrainedWeights:
    meta = entry.meta
    metrics = meta.get("_metrics", {}).get(IMAGENET, {})
    return PretrainedWeights(
        model=model,
        name=entry.name,
        enum=type(entry).__name__,
        default=entry is default,
        url=entry.url,
        acc1=metrics.get("acc@1"),
        acc5=metrics.get("acc@5"),
        file_mb=float(meta.get("_file_size", 0.0)),
        num_params=int(meta.get("num_params", 0)),
        recipe=str(meta.get("recipe", "")),
        categories=tuple(meta.get("categories") or ()),
    )


def weights_of(name: str) -> list[PretrainedWeights]:
    """The published weights of zoo model ``name``: none unless it is torchvision's network."""
    info = model_info(name)
    if info.torchvision is None or not info.torchvision_equal:
        return []
    enum = _enum(info)
    return [_describe(name, entry, enum.DEFAULT) for entry in enum]


def _variant_with_weights(info: ModelInfo) -> str | None:
    """The zoo's build of torchvision's network nearest to ``info``: of the same torchvision
    name, else of its family; a faithful one first, then the one whose name shares the most."""
    names = [n for n in list_models() if n != info.name and model_info(n).torchvision_equal]
    same = [n for n in names if info.torchvision and model_info(n).torchvision == info.torchvision]
    family = [n for n in names if model_info(n).family == info.family]
    candidates = same or family
    if not candidates:
        return None

    def nearness(n: str) -> tuple[bool, int, int]:  # faithful first, then the name
        return (not model_info(n).deviations, _shared_start(n, info.name), -len(n))

    return max(candidates, key=nearness)


def _shared_start(a: str, b: str) -> int:
    return next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )


def find_weights(name: str, weights: str) -> PretrainedWeights:
    """The weights ``weights`` names for zoo model ``name``: ``DEFAULT``, a torchvision name
    (``IMAGENET1K_V1``), or the enum's (``ResNet18_Weights.IMAGENET1K_V1``)."""
    available = weights_of(name)
    if not available:
        raise WeightsError(_none_published(model_info(name)))
    wanted = weights.rsplit(".", 1)[-1].upper()
    for entry in available:
        if wanted == entry.name or (wanted == "DEFAULT" and entry.default):
            return entry
    listed = ", ".join(["DEFAULT", *(w.name for w in available)])
    raise WeightsError(f"{name} has no weights {weights!r}: it has {listed}")


def _none_published(info: ModelInfo) -> str:
    variant = _variant_with_weights(info)
    if variant is None:
        return (
            f"{info.name} has no published weights, and no torchvision network matches it: "
            f"train it (`cnnzoo train {info.name}`), or start from a run's weights with "
            "--init-from"
        )
    other = model_info(variant)
    why = (
        f"{info.name} shares torchvision's keys but not its network, so its weights would "
        "load into a different network"
        if info.torchvision
        else f"{info.name} is not torchvision's network"
    )
    differs = "; ".join((*info.deviations, *other.deviations)[:2]) or other.summary
    return (
        f"{info.name} has no published weights ({why}). {variant} is torchvision's "
        f"{other.torchvision} and has them; they differ: {differs}"
    )


@functools.cache
def imagenet_synsets() -> tuple[str, ...]:
    """The WordNet ids of ImageNet-1K's classes in their index order (sorted): class 0 is
    n01440764, tench. A table of the data set, kept beside this module."""
    text = resources.files("cnnzoo").joinpath("imagenet_synsets.txt").read_text()
    return tuple(text.split())


def imagenet_labels(folders: Sequence[str], weights: PretrainedWeights) -> list[int]:
    """The ImageNet-1K index of each class folder of an evaluation set, named by its WordNet
    id (``n01440764``) or by the weights' category (``tench``; case, ``_`` and ``-`` aside)."""

    def plain(name: str) -> str:
        return " ".join(name.lower().replace("_", " ").replace("-", " ").split())

    by_id = {wnid: i for i, wnid in enumerate(imagenet_synsets())}
    by_name: dict[str, list[int]] = {}
    for i, category in enumerate(weights.categories):
        by_name.setdefault(plain(category), []).append(i)
    labels, unknown, twice = [], [], []
    for folder in folders:
        found = [by_id[folder]] if folder in by_id else by_name.get(plain(folder), [])
        if len(found) > 1:
            twice.append(f"{folder} ({' or '.join(imagenet_synsets()[i] for i in found)})")
        elif not found:
            unknown.append(folder)
        labels.extend(found[:1])
    if twice:
        raise WeightsError(
            f"class folders naming two ImageNet classes: {', '.join(twice)}; rename each by "
            "its WordNet id"
        )
    if unknown:
        raise WeightsError(
            f"{len(unknown)} of the {len(folders)} class folders name no ImageNet-1K class "
            f"({', '.join(unknown[:5])}); name each by its WordNet id (n01440764) or its "
            "category (tench), as `cnnzoo predict` prints them"
        )
    return labels


def cache_file(weights: PretrainedWeights) -> Path:
    """Where torch.hub keeps the file: ``$TORCH_HOME/hub/checkpoints/<the URL's name>``."""
    return Path(torch.hub.get_dir()) / "checkpoints" / weights.file


def load_reason(error: Exception) -> str:
    """``torch.load``'s error in one line: the unpickler's reason, without its paragraphs of
    advice to load the file with ``weights_only=False`` (which would run its code)."""
    text = str(error)
    marker = "WeightsUnpickler error:"
    if marker in text:
        detail = text.split(marker, 1)[1].strip().splitlines()[0].split(". ")[0]
        return f"not a file of plain tensors ({detail}); pickled code is never run"
    return " ".join(text.split()).split(". ")[0]


def container_problem(path: Path) -> str | None:
    """What is wrong with a file that is empty or not the zip archive ``torch.save`` writes
    (torch's own errors say nothing there, or speak of a legacy format); None if it is one."""
    with path.open("rb") as handle:
        head = handle.read(4)
    if not head:
        return "it is empty (0 bytes): a write was cut off, or it is not a checkpoint"
    if head != b"PK\x03\x04":
        kind = "all zero bytes" if head == b"\0" * 4 else f"it starts with {head!r}"
        return f"not a file of plain tensors ({kind}, not the zip archive torch.save writes)"
    return None


def read_weights(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """A ``state_dict`` from a file (torchvision's, a cnnzoo checkpoint's model, safetensors),
    loaded with ``weights_only=True``: pickled code is never run."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise WeightsError(f"{path} does not exist")
    if path.suffix != ".safetensors" and (problem := container_problem(path)):
        raise WeightsError(f"cannot read weights from {path}: {problem}")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise WeightsError(f"cannot read weights from {path}: {load_reason(error)}") from error
    for key in ("state_dict", "model"):  # common wrappers of plain state dicts, and our runs'
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"{path} holds no state_dict (a mapping of names to tensors)")
    return {k.removeprefix("module."): v for k, v in state.items()}


def is_weights_file(weights: str | os.PathLike[str]) -> bool:
    """Whether ``weights`` names a file rather than published weights (``DEFAULT``,
    ``IMAGENET1K_V1``, ``ResNet18_Weights.IMAGENET1K_V1``): a path, a weights file's suffix, or
    a file here whose name is not one published weights could have."""
    if isinstance(weights, os.PathLike):
        return True
    if os.sep in weights or "/" in weights or Path(weights).suffix.lower() in _FILE_SUFFIXES:
        return True
    return Path(weights).is_file() and not _PUBLISHED_NAME.fullmatch(weights)


_FILE_SUFFIXES = (".pth", ".pt", ".safetensors", ".bin", ".ckpt")
_PUBLISHED_NAME = re.compile(r"(\w+_Weights\.)?[A-Z0-9_]+")


def fetch_state_dict(weights: PretrainedWeights, progress: bool = True) -> dict[str, torch.Tensor]:
    """The weights' ``state_dict`` from torch.hub's cache, downloaded there (hash-checked, as
    torch.hub does) when missing; offline, the error says which file to put where."""
    target = cache_file(weights)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        found = torch.hub.HASH_REGEX.search(weights.file)  # as load_state_dict_from_url does
        hash_prefix = found.group(1) if found else None
        try:
            torch.hub.download_url_to_file(weights.url, str(target), hash_prefix, progress)
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            raise WeightsError(
                f"cannot fetch {weights.title} for {weights.model} ({error}): with no network, "
                f"download {weights.url} elsewhere and place it at {target}"
            ) from error
        except RuntimeError as error:  # torch.hub's "invalid hash value": nothing is kept
            raise WeightsError(
                f"the download of {weights.url} is not the published file ({error}); "
                "nothing was kept: try again"
            ) from error
    try:
        return read_weights(target)
    except WeightsError as error:
        raise WeightsError(
            f"{error}; the file is left in place in torch.hub's cache: delete it to fetch it "
            "again, or put a good copy there"
        ) from error


def adapt_state_dict(
    model: nn.Module, state: dict[str, torch.Tensor]
) -> tuple[dict[str, torch.Tensor], list[str]]:
    """Fit pretrained weights to ``model``: first-layer channels, new classifier.

    A 3-channel first convolution becomes a 1-channel one by summing over colours (and back by
    spreading the weight over three), as timm's ``adapt_input_conv`` does; tensors whose shapes
    still differ (the classifier for a new number of classes) are left at their initialisation.
    Returns the adapted weights and notes on what changed.
    """
    own = model.state_dict()
    adapted: dict[str, torch.Tensor] = {}
    notes: list[str] = []
    for key, value in state.items():
        if key not in own:
            notes.append(f"unused: {key}")
            continue
        target = own[key]
        if (
            value.shape != target.shape
            and value.dim() == 4
            and value.shape[0] == target.shape[0]
            and value.shape[2:] == target.shape[2:]
        ):
            if target.shape[1] == 1:
                value = value.sum(1, keepdim=True)
            elif value.shape[1] == 1:
                value = value.repeat(1, target.shape[1], 1, 1) / target.shape[1]
            notes.append(f"{key}: input channels {state[key].shape[1]} -> {target.shape[1]}")
        if value.shape != target.shape:
            notes.append(f"kept new {key}: {tuple(value.shape)} does not fit {tuple(target.shape)}")
            continue
        adapted[key] = value.to(target.dtype)
    missing = [k for k in own if k not in adapted]
    if missing:
        notes.append(f"initialised afresh: {len(missing)} tensors ({', '.join(missing[:4])}...)")
    return adapted, notes


def load_into(
    model: nn.Module,
    state: dict[str, torch.Tensor],
    source: str,
    strict: bool,
    assign: bool = False,
) -> list[str]:
    """Load ``state`` into ``model``: all of it (``strict``; ``assign``: the tensors themselves,
    into a model built on the meta device), or adapted to a model with other classes or
    channels. Weights of another network are refused with the misfits counted."""
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    misshapen = [k for k in own if k in state and state[k].shape != own[k].shape]
    if strict and (missing or unexpected or misshapen):
        example = (missing or unexpected or misshapen)[0]
        raise WeightsError(
            f"{source} does not fit {getattr(model, 'model_name', '') or type(model).__name__}: "
            f"{len(missing)} of its {len(own)} tensors missing, {len(unexpected)} unexpected, "
            f"{len(misshapen)} of another shape (first: {example}); weights of another "
            "network are not loaded"
        )
    if strict:
        model.load_state_dict(state, strict=True, assign=assign)
        return []
    adapted, notes = adapt_state_dict(model, state)
    if len(adapted) < len(own) // 2:
        raise WeightsError(
            f"{source}: only {len(adapted)} of the model's {len(own)} tensors fit; these are "
            "weights of another network and are not loaded"
        )
    model.load_state_dict(adapted, strict=False)
    return notes
