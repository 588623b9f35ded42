"""What a run changes in its process, and puts back: signal handlers, torch's global settings,
and the random generators a checkpoint saves and a resume restores."""

from __future__ import annotations

import contextlib
import random
import signal
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

import torch

__all__ = [
    "StopSignals",
    "global_settings",
    "rng_state",
    "set_rng_state",
    "set_up_process",
]


class StopSignals:
    """Turns SIGINT/SIGTERM into a flag checked between steps; a second Ctrl-C stops at once."""

    def __init__(self) -> None:
        self.stop = False
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.stop:
            raise KeyboardInterrupt
        self.stop = True

    @contextlib.contextmanager
    def installed(self) -> Iterator[StopSignals]:
        try:
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        except ValueError:  # not the main thread: signals stay with the caller
            pass
        try:
            yield self
        finally:
            for number, handler in self._previous.items():
                signal.signal(number, handler)


def global_settings() -> Callable[[], None]:
    """Remember torch's process-wide settings that a run changes; the returned function puts
    them back, so ``train()`` leaves a notebook or a test session as it found it."""
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    benchmark = torch.backends.cudnn.benchmark

    def restore() -> None:
        torch.set_num_threads(threads)
        changed = (
            torch.are_deterministic_algorithms_enabled() != deterministic
            or torch.is_deterministic_algorithms_warn_only_enabled() != warn_only
        )
        if changed:  # the call imports torch's compiler, which takes seconds
            torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)
        torch.backends.cudnn.benchmark = benchmark

    return restore


def set_up_process(threads: int, deterministic: bool, seed: int, device: torch.device) -> None:
    """Torch's global settings for a run (:func:`global_settings` puts them back after)."""
    if threads:
        torch.set_num_threads(threads)
    # Tanh and RBF nets (LeNet-5) drift into denormal floats, which are 10-100x slower on CPUs.
    torch.set_flush_denormal(True)
    if deterministic:
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = False
    elif device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    torch.manual_seed(seed)
    random.seed(seed)


def rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {"torch": torch.get_rng_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
