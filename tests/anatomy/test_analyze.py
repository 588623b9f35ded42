"""The anatomy engine against torch's FLOP counter, torchinfo, the lecture tables and the papers."""

import json
import warnings

import pytest
import torch
import torchinfo
import torchvision
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cnnzoo.anatomy import GeometryError, GeometryWarning, analyze
from cnnzoo.anatomy.report import render

TORCHVISION = ["alexnet", "vgg16", "resnet50", "googlenet", "densenet121"]


def tv_model(name: str) -> nn.Module:
    kwargs = {"init_weights": False, "aux_logits": False} if name == "googlenet" else {}
    return getattr(torchvision.models, name)(**kwargs).eval()


@pytest.mark.parametrize("name", TORCHVISION)
def test_counts_agree_with_flop_counter_and_torchinfo(name: str) -> None:
    model = tv_model(name)
    analysis = analyze(model, (3, 224, 224))
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(1, 3, 224, 224))
    # torch's counter counts 2 FLOPs per multiply-accumulate of convolutions and matmuls.
    assert analysis.totals.flops == counter.get_total_flops()
    info = torchinfo.summary(model, input_size=(1, 3, 224, 224), verbose=0, device="cpu")
    assert analysis.totals.params == info.trainable_params
    # torchinfo's Mult-Adds add each bias once per output element, and 2·C per batch norm.
    bias = bn = 0
    modules = dict(model.named_modules())
    for layer in analysis.layers:
        module = modules.get(layer.name)  # None for a functional op's row
        if isinstance(module, (nn.Conv2d, nn.Linear)) and module.bias is not None:
            bias += _prod(layer.chw)
        if isinstance(module, nn.BatchNorm2d):
            bn += 2 * module.num_features
    assert info.total_mult_adds == analysis.totals.macs + bias + bn


def _prod(shape: tuple[int, ...]) -> int:
    out = 1
    for n in shape:
        out *= n
    return out


def test_torchvision_gflops_figures() -> None:
    """torchvision's model cards print these 'GFLOPS' (MACs), to two decimals."""
    cards = {
        "alexnet": 0.71,
        "vgg16": 15.47,
        "resnet50": 4.09,
        "googlenet": 1.50,
        "densenet121": 2.83,
    }
    for name, gmacs in cards.items():
        assert round(analyze(tv_model(name), (3, 224, 224)).totals.macs / 1e9, 2) == gmacs


# CS231n lecture 5's VGG16 rows: values per image (C·H·W), input first.
LECTURE_VGG16_MEMORY = [
    224 * 224 * 3,
    *[224 * 224 * 64] * 2,
    112 * 112 * 64,
    *[112 * 112 * 128] * 2,
    56 * 56 * 128,
    *[56 * 56 * 256] * 3,
    28 * 28 * 256,
    *[28 * 28 * 512] * 3,
    14 * 14 * 512,
    *[14 * 14 * 512] * 3,
    7 * 7 * 512,
    4096,
    4096,
    1000,
]


def test_vgg16_forward_memory_is_the_lectures_rows_not_its_total() -> None:
    """The lecture prints 'TOTAL memory: 24M * 4 bytes ~= 93MB / image', but its own rows sum
    to 15.2M values (61 MB). The rows are right: we get the same figure from the network."""
    rows = sum(LECTURE_VGG16_MEMORY)
    assert rows == 15_237_608
    analysis = analyze("vgg16")
    t = analysis.totals
    # Ours counts every tensor the forward pass writes (ReLUs are in place), input apart, and
    # the 7x7x512 copy of the adaptive pool torchvision's VGG (and so ours) has before the FCs.
    assert t.input_bytes == 4 * LECTURE_VGG16_MEMORY[0]
    assert t.input_bytes + t.forward_bytes == 4 * (rows + 7 * 7 * 512)
    assert abs(4 * rows / 1e6 - 61) < 0.5 and 24e6 * 4 / 2**20 > 90


def test_vgg16_lecture_parameters_per_layer() -> None:
    convs = [r for r in analyze("vgg16").layers if r.type == "Conv2d"]
    # 3·3·3·64 = 1,728 weights + 64 biases; the lecture lists weights only
    assert [r.params for r in convs][:3] == [1_792, 36_928, 73_856]
    assert convs[0].explain[1] == "params  3·3·3·64 + 64 = 1,792"
    fcs = [r for r in analyze("vgg16").layers if r.type == "Linear"]
    assert [r.params - r.chw[0] for r in fcs] == [7 * 7 * 512 * 4096, 4096 * 4096, 4096 * 1000]


def test_alexnet_lecture_rows() -> None:
    layers = {r.name: r for r in analyze("alexnet").layers}
    conv1 = layers["features.conv1"]
    assert conv1.chw == (96, 55, 55) and conv1.params == 34_944
    assert conv1.explain[0] == "output  (227 - 11 + 2·0)/4 + 1 = 55"
    assert layers["features.pool1"].chw == (96, 27, 27)
    assert layers["features.pool1"].explain == [
        "output  (55 - 3 + 2·0)/2 + 1 = 27",
        "params  none: pooling has no parameters",
    ]
    assert layers["features.pool5"].chw == (256, 6, 6)


@pytest.mark.parametrize(
    ("name", "size", "jump", "padding"),
    [
        # google-research/receptive_field's table (TF-Slim models): alexnet_v2 195/32/64,
        # vgg_16 212/32/90, resnet_v1_50 483/32/239, resnet_v1_101 1027, resnet_v1_152 1507.
        ("alexnet", 195, 32, 64),
        ("vgg16", 212, 32, 90),
        # TF-Slim pads its stem max pool (0, 1) where PyTorch pads (1, 1): 2 pixels more here.
        ("resnet50", 483, 32, 241),
        ("resnet101", 1027, 32, 513),
        ("resnet152", 1507, 32, 753),
    ],
)
def test_receptive_fields_match_published_values(
    name: str, size: int, jump: int, padding: int
) -> None:
    rf_h, rf_w = analyze(name).totals.receptive_field
    assert rf_h == rf_w
    assert (rf_h.size, rf_h.jump, rf_h.padding) == (size, jump, padding)


def test_receptive_field_through_branches() -> None:
    """A residual sum takes the wider operand; an inception concat its widest branch (5x5)."""
    layers = {r.name: r for r in analyze("resnet18").layers}
    block = layers["layer1.0"]
    assert block.rf[0].size == layers["layer1.0.conv2"].rf[0].size  # not the identity's 11
    inception = {r.name: r for r in analyze("googlenet").layers}
    # 3a on a 27-pixel field with jump 8: its 5x5 branch adds 4·8 = 32 (the 1x1 adds none).
    before = inception["maxpool2"].rf[0]
    assert inception["inception3a"].rf[0].size == before.size + 4 * before.jump


def test_dilation_widens_the_field() -> None:
    net = nn.Sequential(nn.Conv2d(1, 1, 3, padding=2, dilation=2), nn.Conv2d(1, 1, 3))
    rf = analyze(net, (1, 32, 32)).totals.receptive_field[0]
    assert rf.size == 7  # 5 from the dilated 3x3, then +2


def test_functional_operations_get_their_own_rows() -> None:
    resnet = analyze("resnet50_tv")
    adds = [r for r in resnet.layers if r.type == "add"]
    assert len(adds) == 16 and adds[0].name == "layer1.0.add"
    assert resnet.totals.ops["add"] == sum(r.elementwise for r in adds)
    cats = [r for r in analyze("googlenet").layers if r.type == "cat"]
    assert len(cats) == 9 and cats[0].chw == (256, 28, 28)


def test_depth_counts_weight_layers_on_the_longest_path() -> None:
    expect = {
        "alexnet": 8,
        "vgg16": 16,
        "vgg19": 19,
        "googlenet": 22,
        "resnet50": 50,
        "resnet152": 152,
        "densenet121": 121,
        "resnet110": 110,
    }
    for name, depth in expect.items():
        assert analyze(name).totals.depth == depth, name


def test_memory_scales_with_batch_and_dtype() -> None:
    one = analyze("resnet18")
    four = analyze("resnet18", batch_size=4, dtype=torch.bfloat16)
    assert four.totals.forward_bytes * 2 == one.totals.forward_bytes  # per image, half width
    assert four.totals.trainable_bytes * 2 == one.totals.trainable_bytes
    leaf = next(r for r in four.layers if r.name == "conv1")
    assert leaf.output_bytes == 4 * 64 * 112 * 112 * 2


def test_training_memory_of_a_small_net_by_hand() -> None:
    net = nn.Sequential(nn.Conv2d(1, 2, 3, bias=False), nn.Flatten(), nn.Linear(2 * 6 * 6, 3))
    analysis = analyze(net, (1, 8, 8), batch_size=5)
    params = 2 * 9 + 72 * 3 + 3
    memory = analysis.training_memory(optimizer="adam")
    assert memory.params == memory.grads == 4 * params
    assert memory.optimizer_state == 2 * 4 * params
    # Saved for backward: the conv's input (5·64) and the linear's input (5·72).
    assert memory.activations == 4 * 5 * (64 + 72)
    assert analysis.training_memory(1, "sgd").optimizer_state == 0
    with pytest.raises(ValueError, match="choose one of"):
        analysis.training_memory(optimizer="lion")


def test_big_networks_cost_no_memory() -> None:
    analysis = analyze("preact_resnet1001", (3, 224, 224))
    assert analysis.totals.params == 10_327_706  # weights and batch norms
    assert analysis.totals.depth == 1001


def test_misfits_warn_or_fail_with_the_numbers() -> None:
    net = nn.Sequential(nn.Conv2d(3, 8, 3, stride=3))
    with pytest.warns(GeometryWarning, match=r"\(7 - 3 \+ 2·0\)/3 \+ 1 = 2.33 → 2"):
        analysis = analyze(net, (3, 7, 7))
    assert analysis.layers[0].misfit is not None and "padding 1" in analysis.misfits[0]
    with pytest.raises(GeometryError, match="fits with padding 1"):
        analyze(net, (3, 7, 7), strict=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the zoo at its paper sizes drops no pixel
        for name in ("alexnet", "vgg16", "resnet50", "googlenet", "densenet121", "zfnet"):
            assert analyze(name).misfits == []


def test_any_module_needs_an_input_size_and_lazy_layers_are_refused() -> None:
    with pytest.raises(ValueError, match="give input_size"):
        analyze(nn.Conv2d(3, 3, 3))
    with pytest.raises(ValueError, match="lazy parameter"):
        analyze(nn.LazyConv2d(3, 3), (3, 8, 8))


def test_a_real_model_is_left_as_it_was() -> None:
    model = torchvision.models.resnet18()
    before = model.conv1.weight.clone()
    analyze(model, (3, 64, 64))
    assert model.conv1.weight.device.type == "cpu" and torch.equal(model.conv1.weight, before)
    assert not model.training or model.training  # mode restored below
    model.train()
    analyze(model, (3, 64, 64))
    assert model.training


def test_depth_collapse_and_formats() -> None:
    analysis = analyze("resnet50")
    top = analysis.at_depth(1)
    assert [r.name for r in top][:4] == ["conv1", "bn1", "relu", "maxpool"]
    assert sum(r.macs for r in top) == analysis.totals.macs
    data = json.loads(render(analysis, "json"))
    assert data["totals"]["macs"] == analysis.totals.macs and "convention" in data
    csv_text = render(analysis, "csv", depth=1)
    assert csv_text.splitlines()[0].startswith("layer,type,depth,output_shape,params")
    assert len(csv_text.splitlines()) == 1 + len(top)
    md = render(analysis, "md", depth=1, explain=True)
    assert "| layer4 | Sequential | 2048x7x7 |" in md
    assert "(224 - 7 + 2·3)/2 + 1 = 112.5 → 112 (floored)" in md
    assert "MACs = multiply-accumulates" in render(analysis, "table", depth=1)
    with pytest.raises(ValueError, match="choose one of"):
        render(analysis, "xml")


def test_each_row_names_the_rows_it_reads_so_the_graph_can_be_drawn() -> None:
    """``LayerStats.sources``: ResNet-34 has 16 residual additions, 3 of them over a projection
    (§3.3, option B at the three stage changes); GoogLeNet's 9 inception modules concatenate 4
    branches each; in a dense block layer k reads the block's input and the k - 1 layers before
    it, so DenseNet-121's first block concatenates 1, 2, ..., 6 inputs."""
    rows = analyze("resnet34").layers
    adds = [r for r in rows if r.type == "add"]
    assert len(adds) == 16 and all(len(r.sources) == 2 for r in adds)
    projected = [r for r in adds if any(".downsample." in rows[i].name for i in r.sources)]
    assert [r.name for r in projected] == ["layer2.0.add", "layer3.0.add", "layer4.0.add"]
    first = next(r for r in rows if r.name == "layer1.0.add")
    assert [rows[i].name for i in first.sources] == ["layer1.0.bn2", "maxpool"]  # the identity

    rows = analyze("googlenet").layers
    cats = [r for r in rows if r.type == "cat"]
    assert len(cats) == 9 and all(len(r.sources) == 4 for r in cats)
    assert [rows[i].name for i in cats[0].sources] == [
        "inception3a.branch1.relu",
        "inception3a.branch2.1.relu",
        "inception3a.branch3.1.relu",
        "inception3a.branch4.1.relu",
    ]

    rows = analyze("densenet121").layers
    block1 = [r for r in rows if r.type == "cat" and r.name.startswith("features.denseblock1.")]
    assert [len(r.sources) for r in block1] == [1, 2, 3, 4, 5, 6, 7]  # 6 layers, then the block


def test_a_training_trace_includes_the_modules_only_training_runs() -> None:
    """``training=True``: GoogLeNet's auxiliary classifiers run (and are counted); batch norm
    in training mode needs two images."""
    names = {r.name for r in analyze("googlenet", batch_size=2, training=True).layers}
    assert {"aux1", "aux1.fc2", "aux2.conv"} <= names
    assert not {"aux1", "aux2"} & {r.name for r in analyze("googlenet").layers}
    with pytest.raises(ValueError, match="needs batch_size >= 2"):
        analyze("resnet18", training=True)


class _Gate(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        return y if y.mean() > 0 else -y  # reads a value: the meta device has none


class _Gated(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 3, 1)
        self.gate = _Gate()
        self.fc = nn.Linear(5, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.gate(self.stem(x))


def test_a_network_that_cannot_be_traced_is_one_line_naming_the_layer() -> None:
    from cnnzoo.anatomy import TraceError
    from cnnzoo.diagram import draw

    with pytest.raises(TraceError, match=r"_Gated: tracing stopped in gate \(_Gate\): Tensor.item"):
        analyze(_Gated(), (3, 16, 16))
    with pytest.raises(TraceError, match="tracing stopped in gate"):
        draw(_Gated(), (3, 16, 16))
    wrong = nn.Sequential(nn.Flatten(), nn.Linear(10, 2))
    with pytest.raises(TraceError, match=r"tracing stopped in 1 \(Linear\): .*\[1, 48\]"):
        analyze(wrong, (3, 4, 4))


def test_an_analysis_shows_itself_in_jupyter_as_a_table_with_the_arithmetic_when_asked() -> None:
    from html.parser import HTMLParser

    class Rows(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.rows = 0

        def handle_starttag(self, tag: str, attrs: object) -> None:
            self.rows += tag == "tr"

    a = analyze("alexnet")
    page = a._repr_html_()
    parser = Rows()
    parser.feed(page)
    assert parser.rows == 1 + len(a.at_depth(3))  # the header and one row a layer
    assert "60,965,224 parameters" in page and "<th>RF / jump</th>" in page
    assert "(227 - 11 + 2·0)/4 + 1 = 55" in a.to_html(explain=True)
    assert render(a, "html", explain=True) == a.to_html(explain=True)
