"""Each network's figure, parsed as XML and held to the network it draws."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import torch
from torch import nn

import cnnzoo
from cnnzoo.anatomy import analyze
from cnnzoo.diagram import draw, draw_side_by_side
from cnnzoo.layers import PartialConv2d

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


def test_googlenet_is_drawn_as_its_fig_3_graph_and_resnet_as_a_column() -> None:
    """GoogLeNet's input fans out to each module's four paths, drawn bare (no frame, no
    figures of their own) as its Fig. 3 draws them; ``style="column"`` frames them again."""
    root = _tree(draw("googlenet").svg)
    assert len([p for p in root.iter(f"{SVG}polyline") if p.get("class") == "fan-out"]) == 9
    branches = [g for g in root.iter(f"{SVG}g") if g.get("class") == "branch"]
    framed = [b for g in branches for b in g if "bare" not in b.get("class", "")]
    # the 1x1 path is one layer, drawn as a box; the 3x3, 5x5 and pool paths are bare columns
    assert all("leaf" in b.get("class", "") for b in framed) and len(framed) == 9
    column = _tree(draw("googlenet", style="column").svg)
    assert not [g for g in column.iter(f"{SVG}g") if "bare" in g.get("class", "")]
    # framed, with a name cut to fit its frame: the module's own is on the frame around it
    assert draw("googlenet", style="column").svg.count(">branch2: Sequential<") == 9
    assert "bare" not in draw("resnet34").svg
    with pytest.raises(ValueError, match="style 'tree': expected one of auto, column, graph"):
        draw("resnet34", style="tree")


def test_inception_v4_paths_split_as_fig_6_draws_them() -> None:
    """Inception-C's 1x1 paths split into a 1x3 and a 3x1 convolution side by side, each
    drawn; a block's identical layers are drawn one by one (Inception-A's two 3x3s)."""
    root = _tree(draw("inception_v4").svg)
    module = _parts(root, **{"data-name": "features.inception_c1"})[0]
    drawn = {g.get("data-name", "") for g in _parts(module)}
    for path in ("branch3_1x3", "branch3_3x1", "branch4_1x3", "branch4_3x1"):
        assert f"features.inception_c1.{path}" in drawn
    branch4 = _parts(root, **{"data-name": "features.inception_a1.branch4"})[0]
    assert [g.get("data-name") for g in _parts(branch4)][1:] == [
        f"features.inception_a1.branch4.{i}" for i in range(3)
    ]


def _dense(root: ET.Element) -> list[ET.Element]:
    return [p for p in root.iter(f"{SVG}polyline") if p.get("class") == "dense"]


def test_densenet121_blocks_draw_one_layer_of_6_12_24_16_reading_all_before() -> None:
    root = _tree(draw("densenet121").svg)
    layers = _parts(root, **{"data-type": "DenseLayer"})
    assert [_repeat(g) for g in layers] == [6, 12, 24, 16]
    assert all(g.get("data-dense") == "true" for g in layers)
    # per block: the layer's loop back into its own concatenation (each reads all before),
    # and the block's input into the block's last concatenation
    blocks = _parts(root, **{"data-type": "DenseBlock"})
    assert [sorted((p.get("data-from"), p.get("data-to")) for p in _dense(b)) for b in blocks] == [
        [("-1", "1"), ("0", "0")]
    ] * 4
    assert ">each reads all before<" in draw("densenet121").svg


def test_an_expanded_dense_block_draws_every_connection_of_fig_1() -> None:
    """Every input of every concatenation is drawn: the layer above by the column's arrow,
    each other (the block's input, every earlier layer) by a line of its own."""
    root = _tree(draw("densenet121", expand=True).svg)
    block = _parts(root, **{"data-name": "features.denseblock1"})[0]
    rows = analyze("densenet121").layers
    cats = [r for r in rows if r.type == "cat" and r.name.startswith("features.denseblock1")]
    assert len(cats) == 7  # six layers' inputs and the block's output
    assert len(_dense(block)) == sum(len(r.sources) - 1 for r in cats) == 21
    assert not _dense(_tree(draw("resnet34", expand=True).svg))


def test_labels_shapes_and_the_legend_are_written() -> None:
    svg = draw("alexnet").svg
    for text in ("11x11 conv, 96, /4", "LRN", "3x3 max pool, /2", "fc 4096", "55x55x96"):
        assert f">{text}<" in svg, text
    legend = next(g for g in _tree(svg).iter(f"{SVG}g") if g.get("class") == "legend")
    assert [t.text for t in legend.iter(f"{SVG}text")] == ["conv", "pool", "norm", "fc", "other"]
    # only the kinds drawn: ResNet's BN and ReLU are folded into the convolutions
    resnet = _tree(draw("resnet34").svg)
    legend = next(g for g in resnet.iter(f"{SVG}g") if g.get("class") == "legend")
    assert [t.text for t in legend.iter(f"{SVG}text")] == ["conv", "pool", "fc", "merge"]
    assert "params" not in draw("alexnet", stats=False).svg


GALLERY = Path(__file__).parent.parent.parent / "docs" / "zoo"


def _convolutions_drawn(g: ET.Element, times: int = 1) -> int:
    """The convolutions a figure stands for: each box, and each projection beside a skip,
    times the ``x N`` of every block around it."""
    count = 0
    for child in g:
        if child.tag == f"{SVG}g" and "part" in child.get("class", ""):
            inner = times * _repeat(child)
            leaf = "leaf" in child.get("class", "").split()
            count += inner if leaf and child.get("data-kind") == "conv" else 0
            count += _convolutions_drawn(child, inner) if not leaf else 0
        elif child.tag == f"{SVG}path" and "conv" in child.get("data-shortcut", ""):
            count += times
        elif child.tag == f"{SVG}g":
            count += _convolutions_drawn(child, times)
    return count


@pytest.mark.parametrize("name", cnnzoo.list_models())
def test_every_zoo_model_draws_as_the_gallery_shows_it(name: str) -> None:
    """docs/zoo holds every model's figure; a change to a model or to the drawing that the
    gallery does not show fails here until `make gallery` draws it again. No layer is lost
    on the way: the figure stands for every convolution the model has."""
    svg = draw(name).svg
    root = _tree(svg)
    assert float(root.get("width", 0)) > 100 and float(root.get("height", 0)) > 100
    assert _parts(root)
    model = cnnzoo.create_model(name, device="meta")
    convolutions = sum(isinstance(m, nn.Conv2d) for m in model.modules())
    # LeNet-5's C3 is one layer of the paper (Table I), built of a grouped convolution for
    # each fan-in: drawn as the one layer
    convolutions -= sum(len(m.convs) - 1 for m in model.modules() if isinstance(m, PartialConv2d))
    assert _convolutions_drawn(root) == convolutions
    assert convolutions > 0 or cnnzoo.model_info(name).family == "MLP"  # flattened pixels
    assert (GALLERY / f"{name}.svg").read_text() == svg, f"docs/zoo/{name}.svg: run `make gallery`"


def test_the_gallery_holds_the_zoo_and_nothing_else() -> None:
    assert sorted(p.stem for p in GALLERY.glob("*.svg")) == sorted(cnnzoo.list_models())


def test_the_gallerys_fig_3_is_drawn_again_as_the_readme_shows_it() -> None:
    """ResNet's Fig. 3 (VGG-19, plain-34, ResNet-34), as `make gallery` draws it."""
    svg = draw_side_by_side(["vgg19", "plain34", "resnet34"]).svg
    assert (GALLERY / "fig3" / "resnet_fig3.svg").read_text() == svg, "run `make gallery`"


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
    diagram = cnnzoo.draw(_Own(), (1, 12, 12))  # the package's own name for diagram.draw
    assert isinstance(diagram, cnnzoo.Diagram) and cnnzoo.draw is draw
    assert diagram._repr_svg_() == diagram.svg and ">3x3 conv, 4<" in diagram.svg
    assert diagram.save(tmp_path / "own.svg").read_text() == diagram.svg
    with pytest.raises(ValueError, match=r"own.gif: cannot write a .gif figure; give a file "):
        diagram.save(tmp_path / "own.gif")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["own.svg"]
    with pytest.raises(ValueError, match="give input_size"):
        draw(_Own())


def test_lenet5_is_drawn_as_its_fig_2_one_box_a_layer() -> None:
    """C1, S2, C3 (partly connected, Table I: one layer, though built of three grouped
    convolutions), S4, C5, F6 and the RBF output, each once, in order."""
    root = _tree(draw("lenet5").svg)
    boxes = [g for g in _parts(root) if "leaf" in g.get("class", "").split()]
    labels = [t.text for g in boxes for t in g.iter(f"{SVG}text")]
    assert labels == [
        "5x5 conv, 6",
        "2x2 subsampling, /2",
        "5x5 conv, 16 (PartialConv2d)",
        "2x2 subsampling, /2",
        "5x5 conv, 120",
        "fc 84",
        "EuclideanRBF",
    ]
    many = nn.Sequential(nn.Conv2d(32, 64, 3, groups=32), nn.ReLU())
    svg = draw(many, (32, 8, 8)).svg
    assert ">3x3 conv, 64, 32 groups<" in svg and "towers" not in svg  # too many to draw


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
    command = ["draw", "vgg19", "plain34", "resnet34", "--side-by-side", "--no-stats"]
    assert main([*command, "--output", str(output)]) == 0
    root = _tree(output.read_text())
    columns = [g for g in root.iter(f"{SVG}g") if g.get("class") == "network"]
    assert [g.get("data-name") for g in columns] == ["vgg19", "plain34", "resnet34"]
    vgg_28 = _parts(columns[0], **{"data-name": "features.18"})  # the pool into 28x28
    plain_28 = _parts(columns[1], **{"data-name": "layer2.0"})  # plain34's stages are chains
    assert vgg_28 and _top(vgg_28[0]) == _top(plain_28[0])
    assert _top(plain_28[0]) == _top(_parts(columns[2], **{"data-name": "layer2"})[0])
    # the plain net's 34 layers: 33 convolutions in 16 blocks and the stem, one fc; no skip
    blocks = _parts(columns[1], **{"data-type": "BasicBlock"})
    assert sum(_repeat(g) for g in blocks) == 16 and not _skips(columns[1])
    assert sum(n for _, n in _skips(columns[2])) == 16
    bands = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "band"]
    assert bands == ["224x224", "112x112", "56x56", "28x28", "14x14", "7x7", "1x1", "fc"]
    assert main(["draw", "vgg19", "--side-by-side"]) == 2
