"""What the benchmarks share: the line that says which machine the figures hold for, the
input the engine feeds from Fashion-MNIST, the engine's training step without its loop, and
the clock for images per second."""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Iterator

import torch

from cnnzoo import create_model, model_info
from cnnzoo.data import DATASETS
from cnnzoo.data.inputs import Fit, choose_fit
from cnnzoo.train import TrainConfig
from cnnzoo.train.step import Stepper

FASHION = DATASETS["fashion-mnist"]
WARMUP = 3  # batches before the clock starts: worker start-up, first-use allocations
Batch = tuple[torch.Tensor, torch.Tensor]  # (B, C, H, W) float inputs, (B,) int64 labels
Step = Callable[[torch.Tensor, torch.Tensor], None]


def machine_line() -> str:
    """torch version, CPU threads, the CPU's model name and the GPU's, if any."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:  # Linux; elsewhere the architecture has to do
            cpu = next(line.split(":", 1)[1].strip() for line in info if "model name" in line)
    except (OSError, StopIteration):
        pass
    gpu = f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""
    return f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, {cpu}{gpu}"


def fashion_fit(config: TrainConfig) -> Fit:
    """The input the engine gives config's model from Fashion-MNIST's images."""
    info = model_info(config.model)
    return choose_fit(info, FASHION.image_shape, config.channels, config.fit, config.image_size)


def engine_step(
    config: TrainConfig, fit: Fit, num_classes: int, device: torch.device | str = "cpu"
) -> Step:
    """The engine's own optimizer step (:class:`cnnzoo.train.step.Stepper`: the model's loss,
    ``config``'s optimizer, precision, clipping and EMA) of ``config.model``, seeded the same
    every call: what the engine does per batch less its loader, schedule, metrics and checks."""
    torch.manual_seed(config.seed)
    model = create_model(config.model, num_classes=num_classes, in_chans=fit.channels)
    model = model.to(device).train()
    if config.channels_last:  # as the engine lays the model out
        model = model.to(memory_format=torch.channels_last)
    stepper = Stepper(model, config, torch.device(device))

    def step(images: torch.Tensor, labels: torch.Tensor) -> None:
        stepper(images, labels)  # images (B, C, H, W) float, labels (B,)

    return step


def images_per_s(batches: Iterator[Batch], steps: int, repeats: int, step: Step | None) -> float:
    """The best of ``repeats`` rates over ``steps`` batches each (the least disturbed), after
    :data:`WARMUP` batches; ``step``, when given, is run on every batch inside the clock."""
    for _ in range(WARMUP):
        images, labels = next(batches)
        if step is not None:
            step(images, labels)
    best = 0.0
    for _ in range(repeats):
        count = 0
        _synchronize()
        start = time.perf_counter()
        for _ in range(steps):
            images, labels = next(batches)
            if step is not None:
                step(images, labels)
            count += len(labels)
        _synchronize()
        best = max(best, count / (time.perf_counter() - start))
    return best


def _synchronize() -> None:
    """Wait for queued GPU work, so the clock reads work done rather than work launched."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()
