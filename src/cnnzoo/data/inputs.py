"""How an image becomes a model's input, in one place: the fit (size, channels, resize or pad),
the stored shape, normalisation with optional augmentation, and back for display.

:class:`InputSpec` records it; it is saved with every checkpoint, so evaluation, prediction,
experiments and pictures convert an image exactly as training did.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from cnnzoo.data.augment import Augment, Draws, Part, random_crop, random_erasing
from cnnzoo.data.catalogue import DATASETS
from cnnzoo.data.folders import read_image
from cnnzoo.errors import ConfigError
from cnnzoo.models import ModelInfo

__all__ = [
    "MAX_PIXELS",
    "Fit",
    "InputSpec",
    "InputTransform",
    "choose_fit",
    "for_display",
    "read_inputs",
    "stored_shape",
]

# The most pixels a model input or stored image may have (8192 x 8192): far beyond any zoo
# model's input, and a bound on what a prediction allocates per image.
MAX_PIXELS = 8192 * 8192


@dataclass(frozen=True)
class Fit:
    """How stored images become the model's input size and channels.

    ``mode="pad"`` centres the image on a zero field (LeNet-5 read 28x28 MNIST digits on a 32x32
    field, §III.A); ``"resize"`` scales it bilinearly (28x28 grey to AlexNet's 227x227).
    ``channels`` is what the model takes: grey repeats to three channels, colour averages to one.
    """

    size: tuple[int, int]  # (H, W) the model reads
    channels: int  # 1 or 3
    mode: str = "resize"  # "resize" | "pad"
    # The normalisation of RGB images in [0, 1], where published weights fix it; None: the
    # training images' own statistics
    mean: tuple[float, float, float] | None = None
    std: tuple[float, float, float] | None = None

    def __post_init__(self) -> None:
        if self.mode not in ("resize", "pad"):
            raise ConfigError(f"fit mode {self.mode!r}: expected 'resize' or 'pad'")
        if self.channels not in (1, 3):
            raise ConfigError(f"{self.channels} input channels: expected 1 or 3")


class InputTransform:
    """uint8 batch → normalised float model input, with optional training augmentation.

    ``mean``/``std`` are per channel of the stored images (in [0, 1]), measured on the training
    split; ``lighting_basis`` comes from :func:`pca_lighting_basis`.
    """

    def __init__(
        self,
        fit: Fit,
        mean: torch.Tensor,
        std: torch.Tensor,
        augment: Augment | None = None,
        lighting_basis: torch.Tensor | None = None,
    ) -> None:
        self.fit = fit
        self.augment = augment or Augment()
        self.mean = mean.float().view(1, -1, 1, 1)
        self.std = std.float().view(1, -1, 1, 1)
        if self.augment.lighting and lighting_basis is None:
            raise ConfigError("PCA lighting needs the data's lighting basis (pca_lighting_basis)")
        self.lighting_basis = lighting_basis

    def __call__(
        self,
        images: torch.Tensor,
        generator: torch.Generator | None = None,
        train: bool = False,
        part: Part | None = None,
    ) -> torch.Tensor:
        """``images``: (B, C, H, W) uint8; ``generator`` lives on their device.

        ``part`` says which rows of a larger batch these are: random draws are made for the
        whole batch and sliced, so a rank's share is augmented as in a single process.
        """
        device = images.device
        draw = Draws(generator, device, part or Part(0, images.shape[0], images.shape[0]))
        x = images.float().div_(255)  # (B, C, H, W) in [0, 1]
        aug = self.augment if train else Augment()
        if aug.lighting:
            assert self.lighting_basis is not None
            basis = self.lighting_basis.to(device)  # (C, C), columns λ_i·p_i
            alpha = draw.normal(basis.shape[1])
            x = x + ((alpha * aug.lighting) @ basis.T)[:, :, None, None]  # one shift per image
        x = self._fit(x)  # (B, channels, H, W), still in [0, 1]: padding is black
        mean, std = self.mean.to(device), self.std.to(device)
        if mean.shape[1] != x.shape[1]:
            mean, std = mean.mean(1, keepdim=True), std.mean(1, keepdim=True)
        x = x.sub_(mean).div_(std) if x.is_contiguous() else (x - mean) / std
        # Crops pad and erasing fills with 0 after normalising: the data's mean, as in the papers.
        if aug.crop_padding:
            x = random_crop(x, aug.crop_padding, draw)
        if aug.flip:
            flip = draw.uniform(1)[:, 0] < 0.5
            x[flip] = x[flip].flip(3)  # only the chosen half is copied
        if aug.erasing:
            x = random_erasing(x, aug.erasing, draw)
        return x.contiguous()

    def _fit(self, x: torch.Tensor) -> torch.Tensor:
        channels, (height, width) = self.fit.channels, self.fit.size
        if x.shape[1] == 3 and channels == 1:
            x = x.mean(1, keepdim=True)
        x = self._resize(x, height, width)  # grey is resized once, then repeated
        return x.expand(-1, 3, -1, -1).contiguous() if x.shape[1] < channels else x

    def _resize(self, x: torch.Tensor, height: int, width: int) -> torch.Tensor:
        if x.shape[-2:] == (height, width):
            return x
        if self.fit.mode == "pad":
            dh, dw = height - x.shape[-2], width - x.shape[-1]
            if dh < 0 or dw < 0:
                raise ConfigError(
                    f"cannot pad {x.shape[-2]}x{x.shape[-1]} images to {height}x{width}: they "
                    "are larger; use fit mode 'resize'"
                )
            return F.pad(x, (dw // 2, dw - dw // 2, dh // 2, dh - dh // 2))
        antialias = x.shape[-1] > width  # only shrinking needs a low-pass filter
        return F.interpolate(
            x, size=(height, width), mode="bilinear", align_corners=False, antialias=antialias
        )


@dataclass(frozen=True)
class InputSpec:
    """How a stored image becomes the model's input; enough to repeat it at prediction time."""

    size: tuple[int, int]  # (H, W) the model reads
    channels: int  # channels the model reads
    mode: str  # "resize" | "pad"
    mean: tuple[float, ...]  # per stored channel, images in [0, 1]
    std: tuple[float, ...]
    stored_size: tuple[int, int]  # (H, W) of the images as loaded (folders: after decoding)
    stored_channels: int

    def __post_init__(self) -> None:
        # A spec is read back from checkpoints someone else may have made: every value is
        # checked, so a crafted one cannot ask for 40 GB per image or divide by zero.
        for name in ("size", "stored_size"):
            h, w = getattr(self, name)
            if not (isinstance(h, int) and isinstance(w, int) and min(h, w) >= 1):
                raise ConfigError(f"input {name} {(h, w)}: expected two whole numbers of pixels")
            if h * w > MAX_PIXELS:
                raise ConfigError(
                    f"input {name} {h}x{w}: more than the {MAX_PIXELS:,} pixels an image may have"
                )
        if self.channels not in (1, 3) or self.stored_channels not in (1, 3):
            raise ConfigError(
                f"input channels {self.channels} (stored {self.stored_channels}): expected 1 or 3"
            )
        if self.mode not in ("resize", "pad"):
            raise ConfigError(f"input mode {self.mode!r}: expected 'resize' or 'pad'")
        for name in ("mean", "std"):
            values = getattr(self, name)
            if len(values) != self.stored_channels or not all(
                isinstance(v, float | int) and math.isfinite(v) for v in values
            ):
                raise ConfigError(
                    f"input {name} {values}: expected {self.stored_channels} finite numbers"
                )
        if min(self.std) <= 0:
            raise ConfigError(f"input std {self.std}: expected positive numbers")

    def transform(
        self, augment: Augment | None = None, lighting_basis: torch.Tensor | None = None
    ) -> InputTransform:
        return InputTransform(
            Fit(self.size, self.channels, self.mode),
            torch.tensor(self.mean),
            torch.tensor(self.std),
            augment,
            lighting_basis,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> InputSpec:
        names = {f.name for f in fields(cls)}
        if not isinstance(values, dict) or set(values) != names:
            given = sorted(values) if isinstance(values, dict) else type(values).__name__
            raise ConfigError(f"input spec {given}: expected the keys {sorted(names)}")
        values = dict(values)
        for key in ("size", "mean", "std", "stored_size"):
            values[key] = tuple(values[key])
        return cls(**values)


def choose_fit(
    info: ModelInfo,
    stored: tuple[int, int, int],
    channels: str = "data",
    fit: str = "auto",
    image_size: int = 0,
) -> Fit:
    """Input size, channels and conversion for ``info``'s model reading images of ``stored``
    (C, H, W): the data's own size when the model accepts it, else the paper's input size.
    ``channels``, ``fit`` and ``image_size`` are the run's options of those names."""
    channels_in = stored[0] if channels == "data" else info.input_size[0]
    height, width = stored[1:]
    mode = "resize" if fit == "auto" else fit
    if image_size:
        size = (image_size, image_size)
    elif info.fixed_input_size or height < info.min_input_size[0] or width < info.min_input_size[1]:
        size = (info.input_size[1], info.input_size[2])
        # A small image on the larger field the paper used (LeNet-5: 28x28 on 32x32, §III.A).
        small_gap = size[0] - height <= 8 and size[1] - width <= 8
        if fit == "auto" and info.fixed_input_size and small_gap:
            mode = "pad"
    else:
        size = (height, width)
    return Fit(size, channels_in, mode)


def stored_shape(data: str, info: ModelInfo, image_size: int = 0) -> tuple[int, int, int]:
    """(C, H, W) of the images as loaded: a catalogued data set's own; an image folder decoded
    at the paper's size (and channels) unless ``image_size`` says otherwise."""
    if data in DATASETS:
        return DATASETS[data].image_shape
    side = image_size or info.input_size[1]
    return (info.input_size[0], side, side)


def for_display(spec: InputSpec, x: torch.Tensor) -> np.ndarray:
    """A model input (1, C, H, W) back as the picture it was, (H, W) or (H, W, 3) in [0, 1]."""
    mean = torch.tensor(spec.mean).view(1, -1, 1, 1)
    std = torch.tensor(spec.std).view(1, -1, 1, 1)
    if mean.shape[1] != x.shape[1]:  # grey repeated to RGB, or RGB averaged to grey
        mean, std = mean.mean(1, keepdim=True), std.mean(1, keepdim=True)
    shown = (x * std + mean).clamp(0, 1)[0]
    return shown.permute(1, 2, 0).numpy() if shown.shape[0] == 3 else shown[0].numpy()


def read_inputs(spec: InputSpec, paths: Sequence[str | os.PathLike[str]]) -> torch.Tensor:
    """Image files as a batch of model inputs, converted exactly as the training images were:
    decoded at the stored size and channels, then fitted and normalised."""
    side = spec.stored_size[0]
    stored = torch.stack([read_image(p, side, spec.stored_channels) for p in paths])
    return spec.transform()(stored)
