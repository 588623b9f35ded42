"""Each network's figure, parsed as XML and held to the network it draws."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import torch
from torch import nn

import cnnzoo
from cnnzoo.anatomy import analyze
from cnnzoo.draw import draw

SVG = "{http://www.w3.org/2000/svg}"


def _tree(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def _parts(root: ET.Element, **attrs: str) -> list[ET.Element]:
    return [
        g
        for g in root.iter(f"{SVG}g")
        if "part" in g.get("class", "").split() and all(g.get(k) == v for k, v in attrs.items())
    ]


def _repeat(g: ET.Element) -> int:
    return int(g.get("data-repeat", "1"))


def _skips(root: ET.Element) -> list[tuple[str, int]]:
    """Each skip arc's kind, and how many blocks the block it belongs to stands for."""
    found = []
    for g in _parts(root):
        for path in g.findall(f"{SVG}path"):
            if "skip" in path.get("class", ""):
                found.append((path.get("class", "").split()[1], _repeat(g)))
    return found


def test_resnet34_is_drawn_with_its_3_4_6_3_blocks_and_16_skips() -> None:
    root = _tree(draw("resnet34").svg)
    for stage, blocks in zip(("layer1", "layer2", "layer3", "layer4"), (3, 4, 6, 3), strict=True):
        drawn = [g for g in _parts(root, **{"data-type": "BasicBlock"})]
        inside = [g for g in drawn if g.get("data-name", "").startswith(f"{stage}.")]
        assert sum(_repeat(g) for g in inside) == blocks, stage
    skips = _skips(root)
    # As many skips as the trace has residual additions: 13 identities, 3 projections (/2).
    adds = [r for r in analyze("resnet34").layers if r.type == "add"]
    assert sum(n for _, n in skips) == len(adds) == 16
    assert sum(n for kind, n in skips if kind == "projection") == 3
    expanded = _skips(_tree(draw("resnet34", expand=True).svg))
    assert len(expanded) == 16 and [k for k, _ in expanded].count("projection") == 3


def test_googlenet_draws_9_inception_modules_of_4_branches_side_by_side() -> None:
    root = _tree(draw("googlenet").svg)
    modules = _parts(root, **{"data-type": "Inception"})
    assert len(modules) == 9
    for module in modules:
        assert "branches" in module.get("class", "")
        branches = [g for g in module if g.tag == f"{SVG}g" and g.get("class") == "branch"]
        assert len(branches) == 4


def test_densenet121_blocks_draw_one_layer_of_6_12_24_16() -> None:
    root = _tree(draw("densenet121").svg)
    layers = _parts(root, **{"data-type": "DenseLayer"})
    assert [_repeat(g) for g in layers] == [6, 12, 24, 16]


def test_labels_shapes_and_the_legend_are_written() -> None:
    svg = draw("alexnet").svg
    for text in ("11x11 conv, 96, /4", "LRN", "3x3 max pool, /2", "fc 4096", "55x55x96"):
        assert f">{text}<" in svg, text
    legend = next(g for g in _tree(svg).iter(f"{SVG}g") if g.get("class") == "legend")
    assert {"conv", "pool", "norm", "fc"} <= {t.text for t in legend.iter(f"{SVG}text")}
    assert "params" not in draw("alexnet", stats=False).svg


GALLERY = Path(__file__).parent.parent.parent / "docs" / "zoo"


@pytest.mark.parametrize("name", cnnzoo.list_models())
def test_every_zoo_model_draws_as_the_gallery_shows_it(name: str) -> None:
    """docs/zoo holds every model's figure; a change to a model or to the drawing that the
    gallery does not show fails here until `make gallery` draws it again."""
    svg = draw(name).svg
    root = _tree(svg)
    assert float(root.get("width", 0)) > 100 and float(root.get("height", 0)) > 100
    assert _parts(root)
    assert (GALLERY / f"{name}.svg").read_text() == svg, f"docs/zoo/{name}.svg: run `make gallery`"


def test_the_gallery_holds_the_zoo_and_nothing_else() -> None:
    assert sorted(p.stem for p in GALLERY.glob("*.svg")) == sorted(cnnzoo.list_models())


class _Own(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(1, 4, 3, padding=1)
        self.b = nn.Conv2d(4, 4, 3, padding=1)
        self.fc = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.a(x)
        return self.fc((y + self.b(y)).mean((2, 3)))


def test_a_users_own_module_draws_and_saves_only_as_what_it_can(tmp_path: Path) -> None:
    diagram = draw(_Own(), (1, 12, 12))
    assert diagram._repr_svg_() == diagram.svg and ">3x3 conv, 4<" in diagram.svg
    assert diagram.save(tmp_path / "own.svg").read_text() == diagram.svg
    with pytest.raises(ValueError, match=r"own.gif: cannot write a .gif figure; give a file "):
        diagram.save(tmp_path / "own.gif")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["own.svg"]
    with pytest.raises(ValueError, match="give input_size"):
        draw(_Own())


def test_alexnets_grouped_layers_are_drawn_as_two_towers() -> None:
    """conv2, conv4 and conv5 see only their own GPU's half of the maps (§3.2, Fig. 2): two
    towers, each with half the filters; conv3 and the FC layers read both."""
    root = _tree(draw("alexnet").svg)
    towers = [g for g in root.iter(f"{SVG}g") if g.get("class") == "towers"]
    assert [g.get("data-towers") for g in towers] == ["2", "2", "2"]
    labels = [[t.text for t in g.iter(f"{SVG}text")] for g in towers]
    assert labels == [["5x5 conv, 128"] * 2, ["3x3 conv, 192"] * 2, ["3x3 conv, 128"] * 2]
    assert ">3x3 conv, 384<" in draw("alexnet").svg


def test_googlenets_auxiliary_classifiers_branch_off_4a_and_4d() -> None:
    """§5, Fig. 3: the two auxiliary classifiers on top of inception (4a) and (4d), drawn
    beside the column; the loss the training trace ends with is not drawn."""
    svg = draw("googlenet").svg
    root = _tree(svg)
    sides = [g for g in root.iter(f"{SVG}g") if g.get("class") == "side"]
    assert [g.get("data-from") for g in sides] == ["inception4a", "inception4d"]
    assert [p.get("data-name") for g in sides for p in g if p.tag == f"{SVG}g"] == ["aux1", "aux2"]
    assert "nll_loss" not in svg and "log_softmax" not in svg
    assert len(_parts(root, **{"data-type": "Inception"})) == 9
    assert ">aux1: InceptionAux<" in svg and ">inception4a: Inception<" in svg
    assert "376.18K params, 73.61M MACs" in svg  # per image, though traced on a batch of two


def _top(g: ET.Element) -> float:
    return float(next(g.iter(f"{SVG}rect")).get("y", "nan"))


def test_networks_side_by_side_line_up_by_stage(tmp_path: Path) -> None:
    """ResNet's Fig. 3 sets VGG-19 beside the 34-layer nets with each stage at one height:
    here VGG-19's first layer at 28x28 and ResNet-34's stage of 28x28 begin on one line."""
    from cnnzoo.cli import main

    output = tmp_path / "fig3.svg"
    assert main(["draw", "vgg19", "resnet34", "--side-by-side", "--output", str(output)]) == 0
    root = _tree(output.read_text())
    columns = [g for g in root.iter(f"{SVG}g") if g.get("class") == "network"]
    assert [g.get("data-name") for g in columns] == ["vgg19", "resnet34"]
    vgg_28 = _parts(columns[0], **{"data-name": "features.18"})  # the pool into 28x28
    assert vgg_28 and _top(vgg_28[0]) == _top(_parts(columns[1], **{"data-name": "layer2"})[0])
    bands = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "band"]
    assert bands == ["224x224", "112x112", "56x56", "28x28", "14x14", "7x7", "1x1", "fc"]
    assert main(["draw", "vgg19", "--side-by-side"]) == 2
