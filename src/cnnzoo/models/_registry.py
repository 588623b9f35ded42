"""The registry: every network by name, with its paper and the figures the paper reports.

Builders register themselves with ``@register_model(...)``; the metadata beside them is what the
tests hold the code against (parameter counts, FLOPs, layer shapes, input sizes).
"""

from __future__ import annotations

import difflib
import fnmatch
import functools
import inspect
import re
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from cnnzoo.errors import ConfigError
from cnnzoo.models._base import ZooModel

__all__ = [
    "ModelInfo",
    "Paper",
    "Reported",
    "UnknownModelError",
    "list_models",
    "model_info",
    "register_model",
    "reported",
]


@dataclass(frozen=True)
class Paper:
    """The publication a network comes from."""

    title: str
    authors: str
    year: int
    url: str  # arXiv abstract or DOI link

    def cite(self) -> str:
        return f"{self.authors} ({self.year}). {self.title}. {self.url}"


@dataclass(frozen=True)
class Reported:
    """A figure as its source prints it. ``tolerance`` is the rounding the printed digits imply
    (half a unit of the last digit) unless the source says "about"."""

    value: float  # in plain units: parameters, multiply-accumulates, percent
    text: str  # as printed, e.g. "133M", "3.8G", "7.46%"
    tolerance: float
    source: str  # where it is printed: "Table 2", "§4.2", or a library's model card
    excludes_norm: bool = False  # a parameter count that leaves out normalisation's scale/shift

    def holds(self, measured: float) -> bool:
        return abs(measured - self.value) <= self.tolerance + 1e-9 * abs(self.value)


_SUFFIX = {"": 1.0, "K": 1e3, "M": 1e6, "G": 1e9}
_FIGURE = re.compile(r"^(?P<num>[0-9][0-9,]*(?:\.(?P<dec>[0-9]+))?)(?P<suffix>[KMG]?)%?$")


def reported(
    text: str, source: str, tolerance: float | None = None, excludes_norm: bool = False
) -> Reported:
    """Parse a printed figure (``"133M"``, ``"0.27M"``, ``"60,000"``, ``"7.46%"``)."""
    match = _FIGURE.match(text)
    if match is None:
        raise ConfigError(
            f"cannot read the figure {text!r}: expected e.g. '133M', '0.27M', '7.46%'"
        )
    scale = _SUFFIX[match["suffix"]]
    value = float(match["num"].replace(",", "")) * scale
    if tolerance is None:
        decimals = len(match["dec"] or "")
        tolerance = 0.5 * scale * 10.0**-decimals
    return Reported(value, text, tolerance, source, excludes_norm)


@dataclass(frozen=True)
class ModelInfo:
    """What a paper says about a network, and how our build of it relates to the paper."""

    name: str
    family: str
    paper: Paper
    input_size: tuple[int, int, int]  # (C, H, W) the paper trains on
    min_input_size: tuple[int, int]  # smallest (H, W) that every layer accepts
    fixed_input_size: bool  # the head is sized for ``input_size`` only (LeNet-5)
    params: Reported | None  # trainable parameters at 1000 (or the paper's) classes
    macs: Reported | None  # multiply-accumulates per image at ``input_size``
    top5_error: Reported | None  # ILSVRC top-5 error, percent
    cifar10_error: Reported | None  # CIFAR-10 test error, percent
    deviations: tuple[str, ...]  # empty for a faithful build
    assumptions: tuple[str, ...]  # what the paper leaves open, and where our choice comes from
    torchvision: str | None  # torchvision builder whose state_dict keys equal ours
    torchvision_equal: bool  # also the same network: same outputs for the same weights
    # What torchvision's builder sets when it loads its weights (googlenet: transform_input)
    weights_args: dict[str, Any]
    num_classes: int  # the paper's number of classes
    summary: str
    builder: Callable[..., ZooModel]
    # Every keyword the builder passes to its class, sorted: a name outside it is refused
    # before the build (a few may be ones the builder itself fixes, e.g. a ResNet's depths).
    options: tuple[str, ...]

    @property
    def faithful(self) -> bool:
        return not self.deviations


_REGISTRY: dict[str, ModelInfo] = {}

_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def _options(fn: Callable[..., ZooModel]) -> tuple[str, ...]:
    """The keyword arguments a builder takes: its own and, where it passes ``**kwargs`` on,
    those of the class it returns (its return annotation), so a wrong one is named before the
    builder runs instead of recognised in the text of a ``TypeError``."""
    params = list(inspect.signature(fn).parameters.values())
    names = {p.name for p in params if p.kind in _NAMED}
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        cls = typing.get_type_hints(fn).get("return")
        init = list(inspect.signature(cls.__init__).parameters.values())[1:] if cls else []
        if not isinstance(cls, type) or any(p.kind is p.VAR_KEYWORD for p in init):
            raise TypeError(
                f"{fn.__name__}: its **kwargs must go to the class it returns, "
                "annotated, whose __init__ names every option"
            )
        names |= {p.name for p in init if p.kind in _NAMED}
    return tuple(sorted(names))


F = TypeVar("F", bound=Callable[..., ZooModel])


def register_model(
    *,
    family: str,
    paper: Paper,
    input_size: tuple[int, int, int],
    min_input_size: int | tuple[int, int],
    params: Reported | None = None,
    macs: Reported | None = None,
    top5_error: Reported | None = None,
    cifar10_error: Reported | None = None,
    deviations: Iterable[str] = (),
    assumptions: Iterable[str] = (),
    torchvision: str | None = None,
    torchvision_equal: bool = False,
    weights_args: dict[str, Any] | None = None,
    fixed_input_size: bool = False,
    num_classes: int = 1000,
) -> Callable[[F], F]:
    """Register a builder under its function name; registering a name twice is an error.

    ``deviations`` are where the build departs from the paper (it is then a variant);
    ``assumptions`` are what the paper leaves unsaid and the build had to choose, each with
    its source: a faithful build may have them, and ``cnnzoo info`` lists both."""

    def wrap(fn: F) -> F:
        name = fn.__name__
        if name in _REGISTRY:
            raise ConfigError(f"model {name!r} is registered twice")
        size = (
            (min_input_size, min_input_size) if isinstance(min_input_size, int) else min_input_size
        )

        @functools.wraps(fn)
        def build(**kwargs: Any) -> ZooModel:
            kwargs.setdefault("num_classes", num_classes)
            model = fn(**kwargs)
            model.model_name = name
            model.min_input_size = size
            model.fixed_input_size = fixed_input_size
            model.default_input_size = input_size[1:]
            return model

        _REGISTRY[name] = ModelInfo(
            name=name,
            family=family,
            paper=paper,
            input_size=input_size,
            min_input_size=size,
            fixed_input_size=fixed_input_size,
            params=params,
            macs=macs,
            top5_error=top5_error,
            cifar10_error=cifar10_error,
            deviations=tuple(deviations),
            assumptions=tuple(assumptions),
            torchvision=torchvision,
            torchvision_equal=torchvision_equal,
            weights_args=dict(weights_args or {}),
            num_classes=num_classes,
            summary=(fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else "",
            builder=build,
            options=_options(fn),
        )
        return build  # type: ignore[return-value]

    return wrap


class UnknownModelError(ConfigError):
    """Raised for a name the registry does not hold; the message lists the nearest names."""


def model_info(name: str) -> ModelInfo:
    """The registry entry for ``name``, or an error naming the closest registered models."""
    try:
        return _REGISTRY[name]
    except KeyError:
        pass
    close = difflib.get_close_matches(name.lower(), _REGISTRY, n=5, cutoff=0.5)
    prefix = [n for n in _REGISTRY if n.startswith(name.lower()[:4])] if len(name) >= 4 else []
    suggestions = list(dict.fromkeys(close + prefix))[:6]
    hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
    raise UnknownModelError(
        f"unknown model {name!r}.{hint} `cnnzoo list` shows all {len(_REGISTRY)} models."
    )


def list_models(
    include: str | Iterable[str] = "*",
    exclude: str | Iterable[str] = (),
    family: str | None = None,
) -> list[str]:
    """Registered names matching any ``include`` pattern and no ``exclude`` pattern (shell
    wildcards, case-insensitive), in historical order: by the year a family first appeared,
    then as each family lists its variants."""
    includes = [include] if isinstance(include, str) else list(include)
    excludes = [exclude] if isinstance(exclude, str) else list(exclude)
    first_year: dict[str, int] = {}
    for info in _REGISTRY.values():
        first_year[info.family] = min(first_year.get(info.family, 9999), info.paper.year)
    names = []
    for name, info in _REGISTRY.items():
        if family is not None and info.family.lower() != family.lower():
            continue
        if not any(fnmatch.fnmatch(name, p.lower()) for p in includes):
            continue
        if any(fnmatch.fnmatch(name, p.lower()) for p in excludes):
            continue
        names.append(name)
    order = {name: i for i, name in enumerate(_REGISTRY)}
    family_order = {
        f: min(order[n] for n, i in _REGISTRY.items() if i.family == f) for f in first_year
    }

    def key(name: str) -> tuple[int, int, int]:
        family = _REGISTRY[name].family
        return first_year[family], family_order[family], order[name]

    return sorted(names, key=key)
