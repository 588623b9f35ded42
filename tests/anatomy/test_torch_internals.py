"""The private PyTorch interfaces the anatomy engine reads, checked against the installed torch.

When one of these fails after a torch upgrade, the message names what moved; fix it in
``cnnzoo/anatomy/_torch.py``, the only module that touches them.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import nn

from cnnzoo.anatomy import _torch


@pytest.mark.parametrize("op", sorted(_torch.ATEN_ARGUMENTS))
def test_aten_arguments_are_where_the_engine_reads_them(op: str) -> None:
    name, _, overload = op.partition(".")
    schema = getattr(getattr(torch.ops.aten, name), overload or "default")._schema
    names = tuple(a.name for a in schema.arguments)
    expected = _torch.ATEN_ARGUMENTS[op]
    assert names[: len(expected)] == expected, (
        f"aten.{op} now takes {names}; the engine reads {expected} by position"
    )


def test_the_private_module_bases_still_cover_the_public_modules() -> None:
    norms = [nn.BatchNorm1d(2), nn.BatchNorm2d(2), nn.InstanceNorm2d(2), nn.SyncBatchNorm(2)]
    pools = [nn.MaxPool2d(2), nn.AvgPool1d(2), nn.AdaptiveAvgPool2d(1), nn.AdaptiveMaxPool3d(1)]
    assert all(isinstance(m, _torch.NORM_MODULES) for m in norms)
    assert all(isinstance(m, _torch.POOL_MODULES) for m in pools)
    assert not isinstance(nn.Conv2d(1, 1, 1), _torch.NORM_MODULES + _torch.POOL_MODULES)


def test_the_dispatch_mode_hook_the_engine_overrides_still_exists() -> None:
    base = _torch.DispatchMode.__mro__[1]
    assert hasattr(base, "_should_skip_dynamo"), (
        "TorchDispatchMode no longer has _should_skip_dynamo: the analysis would pay the "
        "Dynamo wrapper on every op"
    )


def test_a_dispatch_mode_sees_ops_by_name_and_views_as_views() -> None:
    seen: list[tuple[str, bool]] = []

    class Watch(_torch.DispatchMode):
        def __torch_dispatch__(
            self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None
        ) -> Any:
            seen.append((_torch.op_name(func), _torch.is_view(func)))
            return func(*args, **(kwargs or {}))

    x = torch.zeros(1, 3, 8, 8, device="meta")
    with Watch():
        y = nn.functional.conv2d(x, torch.zeros(4, 3, 3, 3, device="meta"))
        y.view(-1)
    assert ("convolution", False) in seen
    assert ("view", True) in seen


def test_storage_keys_match_for_views_and_differ_for_copies() -> None:
    x = torch.zeros(4, 4)
    assert _torch.storage_key(x) == _torch.storage_key(x.view(-1)) == _torch.storage_key(x[1:])
    assert _torch.storage_key(x) != _torch.storage_key(x.clone())
    weak = _torch.WeakTensorKeyDictionary()
    weak[x] = 1
    assert weak[x] == 1 and x.view(-1) not in weak
