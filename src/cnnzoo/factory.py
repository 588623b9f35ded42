"""``create_model``: build any zoo network by name, for any number of classes and channels."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, overload

import torch

from cnnzoo.errors import ConfigError
from cnnzoo.models import FeatureNet, ZooModel, model_info

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
    **kwargs: Any,
) -> FeatureNet: ...


def create_model(
    name: str,
    num_classes: int | None = None,
    in_chans: int | None = None,
    features_only: bool = False,
    out_indices: Sequence[int] | None = None,
    device: str | torch.device | None = None,
    **kwargs: Any,
) -> ZooModel | FeatureNet:
    """Build a registered network.

    ``num_classes`` replaces the classifier (default: the paper's, 1000 for ImageNet nets and 10
    for CIFAR and MNIST nets); ``in_chans`` changes the first convolution (1 for grey images).
    ``features_only`` returns each stage's feature map instead of logits, with the stages'
    channels and strides in ``feature_info``. ``device="meta"`` builds without memory, for
    counting and shape tracing.
    """
    info = model_info(name)
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
    if device is None:
        model = info.builder(**kwargs)
    else:
        with torch.device(device):
            model = info.builder(**kwargs)
    if features_only:
        return FeatureNet(model, out_indices)
    return model
