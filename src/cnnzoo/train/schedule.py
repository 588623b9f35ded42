"""Learning-rate schedules as a factor of the peak rate per optimizer step.

Computed from the step count rather than stepped incrementally, so a resumed run lands on the same
rate; only the plateau schedule carries state (it reacts to the test loss).
"""

from __future__ import annotations

import math

from cnnzoo.train.config import TrainConfig

__all__ = ["Schedule"]


class Schedule:
    """``factor(step)`` multiplies the peak learning rate at optimizer step ``step`` (from 0)."""

    def __init__(self, config: TrainConfig, steps_per_epoch: int) -> None:
        self.kind = config.schedule
        self.gamma = config.gamma
        self.milestones = config.milestones
        self.step_epochs = config.step_epochs
        self.patience = config.patience
        self.steps_per_epoch = steps_per_epoch
        self.total = config.epochs * steps_per_epoch
        self.warmup = round(config.warmup_epochs * steps_per_epoch)
        self.plateau_scale = 1.0
        self.best = math.inf
        self.bad_epochs = 0

    def factor(self, step: int) -> float:
        progress = min(step / max(self.total, 1), 1.0)
        if self.kind == "step":
            value = self.gamma ** (step // (self.step_epochs * self.steps_per_epoch))
        elif self.kind == "multistep":
            value = self.gamma ** sum(progress >= m for m in self.milestones)
        elif self.kind == "cosine":
            value = 0.5 * (1 + math.cos(math.pi * progress))
        elif self.kind == "onecycle":  # linear rise over the warm-up, linear fall to 0 at the end
            fall = max(self.total - self.warmup, 1)
            value = 1.0 if step < self.warmup else max(0.0, (self.total - step) / fall)
        elif self.kind == "plateau":
            value = self.plateau_scale
        else:
            value = 1.0
        if step < self.warmup:
            value *= 0.01 + 0.99 * step / self.warmup
        return value

    def epoch_end(self, test_loss: float) -> bool:
        """Plateau: divide the rate after ``patience`` epochs without a better loss. Returns
        whether it decayed."""
        if self.kind != "plateau":
            return False
        if test_loss < self.best * (1 - 1e-4):
            self.best, self.bad_epochs = test_loss, 0
            return False
        self.bad_epochs += 1
        if self.bad_epochs <= self.patience:
            return False
        self.plateau_scale *= self.gamma
        self.bad_epochs = 0
        return True

    def state_dict(self) -> dict[str, float]:
        return {
            "plateau_scale": self.plateau_scale,
            "best": self.best,
            "bad_epochs": self.bad_epochs,
        }

    def load_state_dict(self, state: dict[str, float]) -> None:
        self.plateau_scale = float(state["plateau_scale"])
        self.best = float(state["best"])
        self.bad_epochs = int(state["bad_epochs"])
