"""``create_model``: build any zoo network by name, for any number of classes and channels,
untrained or with torchvision's published weights."""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from typing import Any, Literal, overload

import torch

from cnnzoo.errors import ConfigError
from cnnzoo.models import FeatureNet, ModelInfo, ZooModel, model_info
from cnnzoo.pretrained import (
    PretrainedWeights,
    WeightsError,
    cache_file,
    fetch_state_dict,
    find_weights,
    is_weights_file,
    load_into,
    read_weights,
)

__all__ = ["ModelArgumentError", "create_model"]


class ModelArgumentError(ConfigError, TypeError):
    """An option a model's builder does not take: a TypeError, as Python's own, and a
    ValueError, as the command line's other refused values."""


@overload
def create_model(
    name: str,
    num_classes: int | None = None,
    in_chans: int | None = None,
    features_only: Literal[False] = False,
    out_indices: Sequence[int] | None = None,
    device: str | torch.device | None = None,
    weights: str | os.PathLike[str] | None = None,
    pretrained: bool = False,
    **kwargs: Any,
) -> ZooModel: ...


@overload
def create_model(
    name: str,
    num_classes: int | None = None,
    in_chans: int | None = None,
    *,
    features_only: Literal[True],
    out_indices: Sequence[int] | None = None,
    device: str | torch.device | None = None,
    weights: str | os.PathLike[str] | None = None,
    pretrained: bool = False,
    **kwargs: Any,
) -> FeatureNet: ...


def create_model(
    name: str,
    num_classes: int | None = None,
    in_chans: int | None = None,
    features_only: bool = False,
    out_indices: Sequence[int] | None = None,
    device: str | torch.device | None = None,
    weights: str | os.PathLike[str] | None = None,
    pretrained: bool = False,
    **kwargs: Any,
) -> ZooModel | FeatureNet:
    """Build a registered network.

    ``num_classes`` replaces the classifier (default: the paper's, 1000 for ImageNet nets and 10
    for CIFAR and MNIST nets); ``in_chans`` changes the first convolution (1 for grey images).
    ``features_only`` returns each stage's feature map instead of logits, with the stages'
    channels and strides in ``feature_info``. ``device="meta"`` builds without memory, for
    counting and shape tracing.

    ``weights`` loads torchvision's published weights (``"DEFAULT"``, ``"IMAGENET1K_V1"``, ...;
    ``pretrained=True`` is timm's name for ``"DEFAULT"``) from torch.hub's cache, downloading
    them there first, or a ``state_dict`` file by its path. With other classes or channels
    than the weights', the classifier starts afresh and the first convolution is adapted. The
    model keeps the published weights it loaded in ``model.pretrained`` (their categories
    and preprocessing).
    """
    info = model_info(name)
    if pretrained and weights is None:
        weights = "DEFAULT"
    if weights is not None and device is not None and torch.device(device).type == "meta":
        raise WeightsError("weights cannot be loaded into a model on the meta device")
    published = None
    if weights is not None and not is_weights_file(weights):
        published = find_weights(name, str(weights))
        for key, value in info.weights_args.items():
            kwargs.setdefault(key, value)
    if num_classes is not None:
        kwargs["num_classes"] = num_classes
    if in_chans is not None:
        kwargs["in_chans"] = in_chans
    unknown = sorted(set(kwargs) - set(info.options))
    if unknown:
        raise ModelArgumentError(
            f"{name}() got an unexpected keyword argument "
            + ", ".join(map(repr, unknown))
            + f". Every model takes num_classes= and in_chans=; see `cnnzoo info {name}` for "
            "its own options."
        )
    if weights is None:
        model = _build(info, device, kwargs)
    else:
        model = _with_weights(info, weights, published, num_classes, in_chans, kwargs)
        model = model if device is None else model.to(device)
    if features_only:
        return FeatureNet(model, out_indices)
    return model


def _build(info: ModelInfo, device: str | torch.device | None, kwargs: dict[str, Any]) -> ZooModel:
    if device is None:
        return info.builder(**kwargs)
    with torch.device(device):
        return info.builder(**kwargs)


def _with_weights(
    info: ModelInfo,
    weights: str | os.PathLike[str],
    published: PretrainedWeights | None,
    num_classes: int | None,
    in_chans: int | None,
    kwargs: dict[str, Any],
) -> ZooModel:
    """The model with the weights in it: read first (a missing file fails before any build),
    then, where they fill the whole model, built on the meta device and given the file's
    tensors (no initialisation to pay for 138M parameters that are replaced at once)."""
    state = fetch_state_dict(published) if published else read_weights(weights)
    source = f"{published.title} ({cache_file(published)})" if published else str(weights)
    fits = in_chans in (None, info.input_size[0]) and num_classes in (None, info.num_classes)
    with torch.no_grad():
        model = _build(info, "meta", kwargs) if fits else None
        if model is not None:
            load_into(model, state, source, strict=True, assign=True)
            tensors = itertools.chain(model.parameters(), model.buffers())
            if any(t.is_meta for t in tensors):  # a buffer the file does not hold: build it
                model = None
        if model is None:
            model = _build(info, None, kwargs)
            load_into(model, state, source, strict=fits)
    model.pretrained = published
    return model
