"""Batched augmentation with tensor operations, on whatever device the batch lives.

Small data sets stay in memory as uint8; each batch is augmented in one pass of tensor
operations instead of one Python call per image (the approach of airbench), by the input
transform of :mod:`cnnzoo.data.inputs`. Every
random choice comes from a ``torch.Generator`` seeded per batch, so a batch is the same whether it
is drawn in one process or split across ranks, and a resumed run sees the batches it would have.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

__all__ = [
    "Augment",
    "Draws",
    "Part",
    "channel_stats",
    "pca_lighting_basis",
    "random_crop",
    "random_erasing",
]


@dataclass(frozen=True)
class Augment:
    """Training-time augmentation; all off by default (evaluation)."""

    crop_padding: int = 0  # random crop of the input size after zero padding, pixels per side
    flip: bool = False  # horizontal flip with probability 1/2
    lighting: float = 0.0  # std of AlexNet's PCA colour noise α (the paper: 0.1, §4.1)
    erasing: float = 0.0  # probability of random erasing (Zhong et al. 2017), per image

    @property
    def active(self) -> bool:
        return bool(self.crop_padding or self.flip or self.lighting or self.erasing)


def channel_stats(
    images: torch.Tensor, max_images: int = 10_000
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std of uint8 images scaled to [0, 1] (the normalisation constants).

    A channel with no spread (all-constant images, or a single pixel) gets std 1: it is centred
    and not divided by zero, which would feed the network NaN."""
    sample = images[:max_images].float().div_(255)
    std = sample.std((0, 2, 3), correction=int(sample[:, 0].numel() > 1))
    return sample.mean((0, 2, 3)), torch.where(std > 0, std, torch.ones_like(std))


def pca_lighting_basis(images: torch.Tensor, max_images: int = 10_000) -> torch.Tensor:
    """Eigenvectors times eigenvalues of the pixel covariance over channels (AlexNet §4.1).

    Returns a (C, C) matrix whose columns are ``λ_i p_i``: with ``α_i ~ N(0, 0.1²)`` the paper adds
    ``[p_1 p_2 p_3][α_1 λ_1, α_2 λ_2, α_3 λ_3]ᵀ`` to every pixel of an image, which is
    ``basis @ α``. Computed on the data set itself, pixels scaled to [0, 1].
    """
    sample = images[:max_images].float().div_(255)  # (N, C, H, W)
    pixels = sample.transpose(0, 1).reshape(sample.shape[1], -1)  # (C, N·H·W)
    covariance = torch.atleast_2d(torch.cov(pixels))
    eigenvalues, eigenvectors = torch.linalg.eigh(covariance)
    return eigenvectors * eigenvalues.clamp_min(0)  # column i is λ_i p_i


@dataclass(frozen=True)
class Part:
    """Rows ``start:stop`` of a batch of ``total`` images."""

    start: int
    stop: int
    total: int


@dataclass(frozen=True)
class Draws:
    """Random numbers for a whole batch, sliced to this process's part of it."""

    generator: torch.Generator | None
    device: torch.device
    part: Part

    def uniform(self, columns: int) -> torch.Tensor:
        u = torch.rand(self.part.total, columns, generator=self.generator, device=self.device)
        return u[self.part.start : self.part.stop]  # (B_part, columns) in [0, 1)

    def normal(self, columns: int) -> torch.Tensor:
        z = torch.randn(self.part.total, columns, generator=self.generator, device=self.device)
        return z[self.part.start : self.part.stop]

    def integers(self, high: int, columns: int) -> torch.Tensor:
        return (self.uniform(columns) * high).long().clamp_max(high - 1)  # uniform in [0, high)


def random_crop(x: torch.Tensor, padding: int, draw: Draws) -> torch.Tensor:
    """Crop each image at a random offset from its zero-padded copy (AlexNet/ResNet's crops)."""
    height, width = x.shape[-2:]
    padded = F.pad(x, (padding,) * 4)
    offsets = draw.integers(2 * padding + 1, 2).tolist()  # (B, 2): dy, dx
    # One slice per image: contiguous copies beat a gather with four broadcast index tensors.
    return torch.stack(
        [padded[i, :, dy : dy + height, dx : dx + width] for i, (dy, dx) in enumerate(offsets)]
    )


def random_erasing(
    x: torch.Tensor,
    probability: float,
    draw: Draws,
    area: tuple[float, float] = (0.02, 0.33),
    log_ratio: tuple[float, float] = (-1.2040, 1.2040),  # aspect ratio 0.3 .. 3.3, log-uniform
) -> torch.Tensor:
    """Zero (the mean, after normalisation) a random rectangle in a random share of the images."""
    height, width = x.shape[-2:]
    device = x.device
    u = draw.uniform(5)
    target = height * width * (area[0] + (area[1] - area[0]) * u[:, 0])
    ratio = torch.exp(log_ratio[0] + (log_ratio[1] - log_ratio[0]) * u[:, 1])
    h = (target * ratio).sqrt().round().clamp(1, height)
    w = (target / ratio).sqrt().round().clamp(1, width)
    top = ((height - h + 1) * u[:, 2]).floor()
    left = ((width - w + 1) * u[:, 3]).floor()
    rows = torch.arange(height, device=device)[None, :, None]
    cols = torch.arange(width, device=device)[None, None, :]
    inside = (
        (rows >= top[:, None, None])
        & (rows < (top + h)[:, None, None])
        & (cols >= left[:, None, None])
        & (cols < (left + w)[:, None, None])
        & (u[:, 4] < probability)[:, None, None]
    )  # (B, H, W)
    return x.masked_fill(inside[:, None], 0.0)
