"""One optimizer step as the engine takes it, for the engine's loop and the benchmarks alike.

The model's own training loss (:class:`~cnnzoo.models.TrainingStep`: GoogLeNet's auxiliary
heads, LeNet-5's eq. 9), mixed precision with loss scaling, gradient clipping, the optimizer
with its parameter groups, and the weights' moving average.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from cnnzoo.models import TrainingStep, ZooModel
from cnnzoo.train.config import TrainConfig

__all__ = ["Stepper", "optimizer_for"]


def _param_groups(model: nn.Module, config: TrainConfig) -> list[dict[str, Any]]:
    """The trainable parameters in groups: biases and norm scales without weight decay under
    ``no_decay_norm``; a fine-tuned model's pretrained layers at ``backbone_lr`` of the rate
    (``lr_scale``, which the schedule keeps)."""
    head: set[int] = set()
    if config.weights and isinstance(model, ZooModel):
        head = {id(p) for p in model.get_classifier().parameters()}
    groups: dict[tuple[bool, float], list[nn.Parameter]] = {}
    for p in model.parameters():
        if p.requires_grad:
            decay = not (config.no_decay_norm and p.dim() <= 1)  # biases, norm scales: 1-d
            scale = config.backbone_lr if config.weights and id(p) not in head else 1.0
            groups.setdefault((decay, scale), []).append(p)
    return [
        {"params": params, "lr_scale": scale, **({} if decay else {"weight_decay": 0.0})}
        for (decay, scale), params in groups.items()
    ]


def optimizer_for(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """``config``'s optimizer over ``model``'s parameters (biases and norm scales without
    weight decay under ``no_decay_norm``)."""
    groups = _param_groups(model, config)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(
            groups, lr=config.lr, betas=(config.momentum, 0.999), weight_decay=config.weight_decay
        )
    return torch.optim.SGD(
        groups,
        lr=config.lr,
        momentum=config.momentum,
        nesterov=config.nesterov,
        weight_decay=config.weight_decay,
    )


class Stepper:
    """``stepper(images, labels)`` takes one optimizer step of ``model`` as ``config`` says and
    returns the batch's loss and logits (detached). ``wrap`` wraps the loss module (DDP,
    ``torch.compile``) so that every gradient it makes is synchronised."""

    def __init__(
        self,
        model: ZooModel,
        config: TrainConfig,
        device: torch.device,
        wrap: Callable[[nn.Module], nn.Module] | None = None,
    ) -> None:
        self.model = model
        self.config = config
        self.device = device
        self.ema = (
            AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(config.ema), use_buffers=True)
            if config.ema
            else None
        )
        self.optimizer = optimizer_for(model, config)
        use_scaler = config.amp == "fp16" and device.type == "cuda"
        self.scaler = torch.amp.GradScaler(device.type, enabled=use_scaler)
        cross_entropy = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)

        def criterion(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
            return cross_entropy(logits.float(), labels)  # in float32 under autocast too

        # The model's own training loss, run as one module so DDP synchronises every gradient
        # it produces.
        net: nn.Module = TrainingStep(model, criterion)
        self.net = wrap(net) if wrap is not None else net

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self.config.amp == "off":
            return contextlib.nullcontext()
        dtype = torch.bfloat16 if self.config.amp == "bf16" else torch.float16
        return torch.autocast(self.device.type, dtype=dtype)

    def __call__(
        self, images: torch.Tensor, labels: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if self.config.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        with self.autocast():
            loss, logits = self.net(images, labels)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if self.config.clip_grad:
            self.scaler.unscale_(self.optimizer)
            nn.utils.clip_grad_norm_(self.model.parameters(), self.config.clip_grad)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        if self.ema is not None:
            self.ema.update_parameters(self.model)
        return loss.detach(), logits.detach()
