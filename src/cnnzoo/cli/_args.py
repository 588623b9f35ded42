"""What the commands share in reading their arguments: sizes, limits, the usage error."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from cnnzoo.anatomy.geometry import MAX_SIDE, parse_size
from cnnzoo.errors import ConfigError

__all__ = [
    "APPLICATIONS",
    "COMMANDS",
    "MAX_BATCH",
    "MAX_SIDE",
    "UsageError",
    "params_text",
    "parse_size",
]

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
    "experiment": ("viz", "test a paper's claim: `cnnzoo experiment list`"),
    "viz": ("viz", "filters, activation maps, Grad-CAM, curves, confusion"),
    "report": ("viz", "one self-contained HTML page of runs and experiments"),
    "lab": ("lab", "the zoo, runs and experiments in the browser (a local web app)"),
}

# Commands that run an application beside the command line, which reads its own options.
APPLICATIONS = frozenset({"lab"})
MAX_BATCH = 1 << 20  # images: beyond this a batch size is a typo


class UsageError(ConfigError):
    """A bad argument: the message says what was wrong and what is accepted."""


def params_text(
    params: int, extra: int, training_only: Sequence[str], style: Callable[[int], str]
) -> str:
    """The network's parameters, and apart from them those of the modules only training runs
    (GoogLeNet's auxiliary heads), so no count mixes the two."""
    if not extra:
        return style(params)
    return f"{style(params)}; +{style(extra)} in training ({', '.join(training_only)})"
