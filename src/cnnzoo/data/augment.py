"""Batched augmentation with tensor operations, on whatever device the batch lives.

Small data sets stay in memory as uint8; each batch is turned into the model's input here, in one
pass of tensor operations instead of one Python call per image (the approach of airbench). Every
random choice comes from a ``torch.Generator`` seeded per batch, so a batch is the same whether it
is drawn in one process or split across ranks, and a resumed run sees the batches it would have.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from cnnzoo.errors import ConfigError

__all__ = ["Augment", "Fit", "InputTransform", "Part", "channel_stats", "pca_lighting_basis"]


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

    def __post_init__(self) -> None:
        if self.mode not in ("resize", "pad"):
            raise ConfigError(f"fit mode {self.mode!r}: expected 'resize' or 'pad'")
        if self.channels not in (1, 3):
            raise ConfigError(f"{self.channels} input channels: expected 1 or 3")


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
