"""What the commands share in reading their arguments: sizes, limits, the usage error."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from cnnzoo.errors import ConfigError

__all__ = ["COMMANDS", "MAX_BATCH", "MAX_SIDE", "UsageError", "params_text", "parse_size"]

# Every command in the order `cnnzoo --help` lists them: the module of ``cnnzoo.cli`` that
# implements it (its ``PARSERS`` fill the options), and its one line of help. Only the command
# given is imported.
COMMANDS: dict[str, tuple[str, str]] = {
    "list": ("commands", "the models, with their papers and parameter counts"),
    "info": ("anatomy", "one model: paper, deviations, sizes and its layers"),
    "summary": ("anatomy", "layer by layer: shapes, params, MACs, memory, RF"),
    "conv": ("anatomy", "one convolution worked out: size, params, MACs, fit"),
    "compare": ("anatomy", "networks side by side, with the papers' top-5 error"),
    "design": ("anatomy", "the papers' design arithmetic: stack, bottleneck, head"),
    "draw": ("anatomy", "a network drawn as its paper draws it: SVG, PNG or PDF"),
    "train": ("train", "train a model on real data (default: Fashion-MNIST)"),
    "recipes": ("train", "the training recipes and the papers they come from"),
    "eval": ("train", "test accuracy, per-class accuracy and confusion matrix"),
    "predict": ("train", "classify image files with a trained run"),
    "export": ("train", "write a run's weights as safetensors or ONNX"),
    "experiment": ("lab", "test a paper's claim: `cnnzoo experiment list`"),
    "viz": ("lab", "filters, activation maps, Grad-CAM, curves, confusion"),
    "report": ("lab", "one self-contained HTML page of runs and experiments"),
}

# Beyond this a size is a typo, and tensor sizes (products of these) would overflow int64.
MAX_SIDE = 65_536
MAX_BATCH = 1 << 20


class UsageError(ConfigError):
    """A bad argument: the message says what was wrong and what is accepted."""


def parse_size(text: str) -> tuple[int, int, int]:
    """'3x224x224' (C x H x W) or '224' (a square RGB image)."""
    parts = re.fullmatch(r"\s*(\d+)\s*(?:[xX×]\s*(\d+)\s*[xX×]\s*(\d+))?\s*", text)
    if parts is None:
        raise UsageError(f"--input {text!r} is not a size: write CxHxW like 3x224x224, or 224")
    if parts[2] is None:
        side = int(parts[1])
        size = (3, side, side)
    else:
        size = (int(parts[1]), int(parts[2]), int(parts[3]))
    if min(size) < 1:
        raise UsageError(f"--input {text!r}: channels, height and width must all be >= 1")
    if max(size) > MAX_SIDE:
        raise UsageError(f"--input {text!r}: at most {MAX_SIDE:,} channels, rows or columns")
    return size


def params_text(
    params: int, extra: int, training_only: Sequence[str], style: Callable[[int], str]
) -> str:
    """The network's parameters, and apart from them those of the modules only training runs
    (GoogLeNet's auxiliary heads), so no count mixes the two."""
    if not extra:
        return style(params)
    return f"{style(params)}; +{style(extra)} in training ({', '.join(training_only)})"
