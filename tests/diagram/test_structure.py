"""A network's parts as its paper draws them: labels, blocks, and repeated blocks collapsed."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import cnnzoo
from cnnzoo.anatomy import analyze
from cnnzoo.diagram.structure import Part, structure


def _parts(name: str, expand: bool = False) -> list[Part]:
    model = cnnzoo.create_model(name, device="meta")
    return structure(model, analyze(model, tuple(cnnzoo.model_info(name).input_size)), expand)


def _find(parts: list[Part], name: str) -> Part:
    return next(p for root in parts for p in root.walk() if p.name == name)


def test_resnet34_stages_collapse_to_3_4_6_3_blocks_each_change_of_size_drawn_apart() -> None:
    parts = _parts("resnet34")
    stages = [_find(parts, f"layer{i}") for i in (1, 2, 3, 4)]
    assert [sum(b.repeat for b in s.children) for s in stages] == [3, 4, 6, 3]  # Table 1
    assert [[b.repeat for b in s.children] for s in stages] == [[3], [1, 3], [1, 5], [1, 2]]
    assert any(p.name == "layer2.0.downsample" for p in stages[1].children[0].walk())
    expanded = _parts("resnet34", expand=True)
    assert [b.repeat for b in _find(expanded, "layer3").children] == [1] * 6


def test_densenet121_blocks_hold_6_12_24_16_layers() -> None:
    parts = _parts("densenet121")
    blocks = [_find(parts, f"features.denseblock{i}") for i in (1, 2, 3, 4)]
    layers = [[p.repeat for p in b.children if p.row.type == "DenseLayer"] for b in blocks]
    assert layers == [[6], [12], [24], [16]]  # Table 1: each block one drawn layer x N


def test_layers_are_labelled_as_the_papers_label_them() -> None:
    parts = _parts("alexnet")
    labels = [p.label for root in parts for p in root.walk() if p.leaf]
    # conv2, conv4 and conv5 see only their own GPU's half (§3.2): two groups, the two towers
    first = ["11x11 conv, 96, /4", "ReLU", "LRN", "3x3 max pool, /2", "5x5 conv, 256, 2 groups"]
    assert labels[:5] == first
    assert labels.count("fc 4096") == 2 and labels[-1] == "fc 1000"
    vgg = [p.label for root in _parts("vgg16") for p in root.walk() if p.kind == "conv"]
    assert vgg[0] == "3x3 conv, 64" and vgg.count("3x3 conv, 512") == 6 and len(vgg) == 13
    stem = _parts("resnet34")[0]
    assert stem.label == "7x7 conv, 64, /2"
    assert all("Identity" not in p.label for root in _parts("googlenet") for p in root.walk())


class _Tiny(nn.Module):
    """A user's own network: a stem, two identical residual blocks written with a plain ``+``."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.blocks = nn.Sequential(*(_Residual() for _ in range(2)))
        self.head = nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.stem(x)).mean((2, 3)))


class _Residual(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(8, 8, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + torch.relu(self.conv(x))


@pytest.mark.parametrize("expand", [False, True])
def test_a_users_own_module_has_a_structure(expand: bool) -> None:
    model = _Tiny()
    parts = structure(model, analyze(model, (3, 16, 16)), expand)
    names = [p.name for p in parts]
    assert names == ["stem", "blocks", "mean", "head"]
    blocks = parts[1].children
    assert [b.repeat for b in blocks] == ([1, 1] if expand else [2])
    assert [c.label for c in blocks[0].children] == ["3x3 conv, 8", "relu", "+"]
