"""Measurements a run's weights answer after training: what a training curve cannot show.

A probe takes a finished run (its config and folder) and returns figures (keys of
``METRICS``) and per-run series (keys of ``PROFILES``, drawn one line per run). Two exist:

- ``gradients``: the gradient the loss sends back to every activation's output, on one
  fixed batch of training images, for the network the run's seed initialises and for its
  trained weights. The notes' argument for ReLU (sigmoid's slope is at most 1/4, so the
  gradient shrinks at every layer it passes back through) and for ResNets (``x_L = x_l +
  Σ F(x_i)``: every layer has a path of gradient 1 to the loss) is about these norms.
- ``shift``: the test error with every test image moved 1 to 4 pixels up, down, left and
  right (uncovered pixels black): how much of what a network learned is tied to where.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from cnnzoo.data.loader import InMemoryLoader
from cnnzoo.data.pipeline import DataBundle
from cnnzoo.errors import ConfigError
from cnnzoo.experiments.spec import SHIFTS
from cnnzoo.layers import ACTIVATIONS, ScaledTanh
from cnnzoo.models import ZooModel, model_info
from cnnzoo.train.config import TrainConfig
from cnnzoo.train.distributed import Distributed, pick_device
from cnnzoo.train.evaluate import evaluate
from cnnzoo.train.inference import load_trained
from cnnzoo.train.setup import build_model, run_data

__all__ = ["PROBES", "Probed", "activation_gradients", "decades", "shift_images"]

_DIRECTIONS = ((0, 1), (0, -1), (1, 0), (-1, 0))  # (down, right) steps: right, left, down, up
_ACTIVATION_TYPES = (*ACTIVATIONS.values(), ScaledTanh)


@dataclass(frozen=True)
class Probed:
    figures: dict[str, float] = field(default_factory=dict)
    series: dict[str, list[float]] = field(default_factory=dict)


def activation_gradients(
    model: ZooModel, images: torch.Tensor, labels: torch.Tensor
) -> list[float]:
    """The L2 norm of the loss's gradient at every activation's output, in the order the
    forward pass computes them (a module used twice, as a ResNet block's ReLU is, counts
    twice). The model is in training mode, as a training step sees it; no weight changes."""
    outputs: list[torch.Tensor] = []

    def keep(_module: nn.Module, _inputs: object, output: torch.Tensor) -> None:
        output.retain_grad()
        outputs.append(output)

    handles = [
        m.register_forward_hook(keep) for m in model.modules() if isinstance(m, _ACTIVATION_TYPES)
    ]
    if not handles:
        raise ConfigError(f"{model.model_name}: no activation modules to measure gradients at")
    was_training = model.training
    model.train()
    try:
        loss, _ = model.training_loss(images, labels, F.cross_entropy)
        loss.backward()
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
        model.zero_grad(set_to_none=True)
    return [float(o.grad.norm()) if o.grad is not None else 0.0 for o in outputs]


def decades(norms: list[float]) -> float:
    """How many powers of ten lie between the first activation's gradient and the last's: 0
    when the gradient reaches the input as strong as it leaves the output. A gradient of
    exactly 0 counts as the smallest positive float (it vanished entirely)."""
    tiny = torch.finfo(torch.float32).tiny
    first, last = max(norms[0], tiny), max(norms[-1], tiny)
    return abs(math.log10(first / last))


def _data(config: TrainConfig) -> DataBundle:
    device = pick_device(config.device)
    return run_data(config, model_info(config.model), Distributed(0, 1, device))


def gradient_flow(config: TrainConfig, run_dir: Path) -> Probed:
    data = _data(config)
    images, labels = next(iter(data.train_eval))  # the first training images, unaugmented
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)  # as the engine seeds before it builds the network
        initial = build_model(config, data.spec.channels, len(data.classes)).to(images.device)
    trained = load_trained(run_dir).model.to(images.device)
    if not isinstance(trained, ZooModel):  # load_trained builds through the zoo
        raise ConfigError(f"{run_dir}: the run's network is not a zoo model")
    at_init = activation_gradients(initial, images, labels)
    after = activation_gradients(trained, images, labels)
    return Probed(
        {"grad_decades_init": decades(at_init), "grad_decades_trained": decades(after)},
        {"grad_init": at_init, "grad_trained": after},
    )


def shift_images(images: torch.Tensor, down: int, right: int) -> torch.Tensor:
    """``images`` (N, C, H, W) moved ``down`` and ``right`` pixels (negative: up, left); what
    moves out is lost and what is uncovered is 0 (black, the background of the digit sets)."""
    h, w = images.shape[-2:]
    if abs(down) >= h or abs(right) >= w:
        raise ConfigError(f"a shift of ({down}, {right}) moves a {h}x{w} image out of view")
    out = torch.zeros_like(images)
    out[..., max(down, 0) : h + min(down, 0), max(right, 0) : w + min(right, 0)] = images[
        ..., max(-down, 0) : h + min(-down, 0), max(-right, 0) : w + min(-right, 0)
    ]
    return out


def shifted_test(config: TrainConfig, run_dir: Path) -> Probed:
    """Test error (%) at each shift of :data:`SHIFTS`, averaged over the four directions."""
    test = _data(config).test
    if not isinstance(test, InMemoryLoader):
        raise ConfigError("the shifted test needs a data set held in memory, not a folder")
    trained = load_trained(run_dir)
    model = trained.model.to(test.device)

    def error(down: int, right: int) -> float:
        loader = InMemoryLoader(
            shift_images(test.images, down, right),
            test.labels,
            test.transform,
            test.batch_size,
            train=False,
            device=test.device,
        )
        return 100 - evaluate(model, loader, len(trained.classes)).top1

    errors = [error(0, 0)]
    for pixels in SHIFTS:
        errors.append(sum(error(dy * pixels, dx * pixels) for dy, dx in _DIRECTIONS) / 4)
    shifted = sum(errors[1:]) / len(SHIFTS)
    return Probed(
        {"shift_error": shifted, "shift_rise": shifted - errors[0]}, {"shift_error": errors}
    )


PROBES: dict[str, Callable[[TrainConfig, Path], Probed]] = {
    "gradients": gradient_flow,
    "shift": shifted_test,
}
