"""The zoo as the lab's pages show it: the table of every model, and a model's page (its
paper, its diagram, every layer with its arithmetic), each worked out once and kept."""

from __future__ import annotations

import functools
import threading
import warnings
from typing import Any

from cnnzoo.anatomy.geometry import GeometryWarning, parse_size
from cnnzoo.diagram import draw
from cnnzoo.factory import create_model
from cnnzoo.listing import LISTING
from cnnzoo.models import Reported, ZooModel, model_info
from cnnzoo.pretrained import weights_of

__all__ = ["model_page", "warm", "zoo_table"]


def _reported(figure: Reported | None) -> dict[str, Any] | None:
    if figure is None:
        return None
    return {"value": figure.value, "text": figure.text, "source": figure.source}


@functools.cache
def zoo_table() -> list[dict[str, Any]]:
    """Every model with the figures the zoo page sorts and filters by, and the chart plots:
    parameters, MACs, depth and receptive field as cnnzoo counts them (the listing, counted
    when the zoo changes, not per request), the paper's top-5 error."""
    rows = []
    for name, listed in LISTING.items():
        info = model_info(name)
        rows.append(
            {
                "name": name,
                "family": listed.family,
                "year": listed.year,
                "paper": info.paper.title,
                "input": list(listed.input_size),
                "params": listed.params,
                "training_params": listed.training_params,
                "paper_params": listed.paper_params or None,
                "macs": listed.macs,
                "depth": listed.depth,
                "receptive_field": listed.receptive_field,
                "top5_error": info.top5_error.value if info.top5_error else None,
                "top5_source": info.top5_error.source if info.top5_error else None,
                "cifar10_error": info.cifar10_error.value if info.cifar10_error else None,
                "faithful": info.faithful,
                "weights": bool(weights_of(name)),
                "summary": info.summary,
            }
        )
    return rows


def model_page(name: str, input_size: str | None = None) -> dict[str, Any]:
    """A model's paper and build, its diagram, and every layer of the same trace: shapes,
    parameters, MACs, memory, receptive field and the arithmetic ``cnnzoo summary --explain``
    prints. ``input_size`` as the command line takes it (``3x224x224``, ``224``)."""
    info = model_info(name)  # an unknown name: the error names the nearest ones
    size = parse_size(input_size) if input_size else tuple(info.input_size)
    return _page(info.name, size)


@functools.lru_cache(maxsize=128)
def _network(name: str, channels: int) -> ZooModel:
    """The model built on the meta device (no memory), once: ResNet-1202 takes 0.3 s to build,
    a third of a page's budget. Tracing never changes it."""
    return create_model(name, in_chans=channels, device="meta")


def warm(stop: threading.Event | None = None) -> None:
    """Build every model's network ahead of its first visit (the lab does it as it starts),
    until ``stop`` is set."""
    for name, listed in LISTING.items():
        if stop is not None and stop.is_set():
            return
        _network(name, listed.input_size[0])


@functools.lru_cache(maxsize=32)
def _page(name: str, size: tuple[int, int, int]) -> dict[str, Any]:
    info = model_info(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GeometryWarning)  # the page lists the misfits
        diagram = draw(_network(name, size[0]), size)
    analysis = diagram.analysis
    assert analysis is not None
    return {
        "name": name,
        "family": info.family,
        "paper": {
            "title": info.paper.title,
            "authors": info.paper.authors,
            "year": info.paper.year,
            "url": info.paper.url,
        },
        "summary": info.summary,
        "faithful": info.faithful,
        "deviations": list(info.deviations),
        "assumptions": list(info.assumptions),
        "reported": {
            "params": _reported(info.params),
            "macs": _reported(info.macs),
            "top5_error": _reported(info.top5_error),
            "cifar10_error": _reported(info.cifar10_error),
        },
        "input_size": list(size),
        "paper_input_size": list(info.input_size),
        "min_input_size": list(info.min_input_size),
        "fixed_input_size": info.fixed_input_size,
        "weights": [w.name + (" (DEFAULT)" if w.default else "") for w in weights_of(name)],
        "svg": diagram.svg,
        "analysis": analysis.to_dict(training=False),
    }
