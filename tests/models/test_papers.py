"""Layer by layer, the figures the papers (and the CS231n lecture tables) print."""

import math

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import cnnzoo
from cnnzoo.anatomy import LayerStats, analyze


def by_name(name: str, input_size: tuple[int, int, int] | None = None) -> dict[str, LayerStats]:
    return {r.name: r for r in analyze(name, input_size).layers}


def weights_only(model: torch.nn.Module, module: str) -> int:
    """Weights without biases, as the lecture tables and GoogLeNet's Table 1 count."""
    sub = model.get_submodule(module)
    return sum(p.numel() for n, p in sub.named_parameters() if n.endswith("weight"))


def test_lenet5_layers_and_trainable_parameters() -> None:
    layers = by_name("lenet5")
    expected = {  # §II.B: output maps and trainable parameters per layer
        "features.c1": ((6, 28, 28), 156),
        "features.s2": ((6, 14, 14), 12),
        "features.c3": ((16, 10, 10), 1516),
        "features.s4": ((16, 5, 5), 32),
        "features.c5": ((120, 1, 1), 48120),
        "f6": ((84,), 10164),
        "output": ((10,), 0),  # the RBF centres are fixed
    }
    for name, (shape, params) in expected.items():
        assert (layers[name].chw, layers[name].params) == (shape, params), name
    model = cnnzoo.create_model("lenet5")
    assert model.num_params() == 60_000
    assert sum(b.numel() for b in model.buffers()) >= 840  # 10 fixed 84-dimensional codes


def test_lenet5_modern_counts() -> None:
    model = cnnzoo.create_model("lenet5_modern", device="meta")
    # 156 + 2,416 (full C3) + 48,120 + 10,164 + 850 (linear output)
    assert model.num_params() == 61_706


def test_alexnet_layers_as_the_lecture_computes_them() -> None:
    layers = by_name("alexnet")
    expected = {
        "features.conv1": ((96, 55, 55), 34_944),  # (227 - 11)/4 + 1 = 55; 11·11·3·96 + 96
        "features.pool1": ((96, 27, 27), 0),  # (55 - 3)/2 + 1 = 27, overlapping
        "features.conv2": ((256, 27, 27), 307_456),  # 5·5·48·256 + 256: within each GPU
        "features.pool2": ((256, 13, 13), 0),
        "features.conv3": ((384, 13, 13), 885_120),  # 3·3·256·384 + 384: across GPUs
        "features.conv4": ((384, 13, 13), 663_936),  # 3·3·192·384 + 384
        "features.conv5": ((256, 13, 13), 442_624),  # 3·3·192·256 + 256
        "features.pool5": ((256, 6, 6), 0),
        "classifier.fc6": ((4096,), 37_752_832),
        "classifier.fc7": ((4096,), 16_781_312),
        "classifier.fc8": ((1000,), 4_097_000),
    }
    for name, (shape, params) in expected.items():
        assert (layers[name].chw, layers[name].params) == (shape, params), name
    assert cnnzoo.create_model("alexnet", device="meta").num_params() == 60_965_224


def test_alexnet_initialisation_follows_section_5() -> None:
    model = cnnzoo.create_model("alexnet")
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Conv2d | torch.nn.Linear):
            assert module.weight.std().item() == pytest.approx(0.01, rel=0.05), name
            expected = (
                1.0 if name.split(".")[-1] in {"conv2", "conv4", "conv5", "fc6", "fc7"} else 0.0
            )
            assert torch.all(module.bias == expected), name


def test_zfnet_feature_map_sizes_of_figure_3() -> None:
    layers = by_name("zfnet")
    sizes = [
        layers[f"features.{n}"].chw
        for n in ("conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5")
    ]
    assert sizes == [
        (96, 110, 110),
        (96, 55, 55),
        (256, 26, 26),
        (256, 13, 13),
        (384, 13, 13),
        (384, 13, 13),
        (256, 13, 13),
        (256, 6, 6),
    ]
    assert cnnzoo.create_model("zfnet", device="meta").num_params() == 62_357_608


def test_vgg16_as_the_lecture_tables_it() -> None:
    """CS231n's VGG16 rows: each CONV3 layer's output and weights (3·3·C_in·C_out)."""
    model = cnnzoo.create_model("vgg16", device="meta")
    convs = [r for r in analyze("vgg16").layers if r.type == "Conv2d"]
    rows = [
        (224, 3, 64),
        (224, 64, 64),
        (112, 64, 128),
        (112, 128, 128),
        (56, 128, 256),
        (56, 256, 256),
        (56, 256, 256),
        (28, 256, 512),
        (28, 512, 512),
        (28, 512, 512),
        (14, 512, 512),
        (14, 512, 512),
        (14, 512, 512),
    ]
    assert len(convs) == len(rows)
    for record, (side, c_in, c_out) in zip(convs, rows, strict=True):
        assert record.chw == (c_out, side, side)
        assert weights_only(model, record.name) == 3 * 3 * c_in * c_out
    fcs = [weights_only(model, f"classifier.{i}") for i in (0, 3, 6)]
    assert fcs == [7 * 7 * 512 * 4096, 4096 * 4096, 4096 * 1000]  # 102,760,448 / 16,777,216 / ...
    total_weights = sum(weights_only(model, r.name) for r in convs) + sum(fcs)
    assert round(total_weights / 1e6) == 138  # the lecture's "TOTAL params: 138M"


# GoogLeNet Table 1: output size, params (weights, K = 1024), ops (MACs, M = 10^6)
GOOGLENET_TABLE_1 = {
    "conv1": ((64, 112, 112), 2.7, 34),
    "maxpool1": ((64, 56, 56), None, None),
    "conv3": ((192, 56, 56), 112, 360),  # with its 1x1 "reduce" conv2
    "maxpool2": ((192, 28, 28), None, None),
    "inception3a": ((256, 28, 28), 159, 128),
    "inception3b": ((480, 28, 28), 380, 304),
    "maxpool3": ((480, 14, 14), None, None),
    "inception4a": ((512, 14, 14), 364, 73),
    "inception4b": ((512, 14, 14), 437, 88),
    "inception4c": ((512, 14, 14), 463, 100),
    "inception4d": ((528, 14, 14), 580, 119),
    "inception4e": ((832, 14, 14), 840, 170),
    "maxpool4": ((832, 7, 7), None, None),
    "inception5a": ((832, 7, 7), 1072, 54),
    "inception5b": ((1024, 7, 7), 1388, 71),
    "avgpool": ((1024, 1, 1), None, None),
    "fc": ((1000,), 1000, 1),
}
# Rows where Table 1 disagrees with its own column widths: conv1's 2.7K/34M are not 7·7·3·64
# (9.2K, 118M); 4c's widths give 497.5K, not 463K; 5a's give 1018K and 51M, not 1072K and 54M.
TABLE_1_ERRATA = {
    "conv1": ("params", "ops"),
    "inception4c": ("params",),
    "inception5a": ("params", "ops"),
}


def test_googlenet_table_1() -> None:
    model = cnnzoo.create_model("googlenet", device="meta")
    layers = by_name("googlenet")
    for name, (shape, params_k, ops_m) in GOOGLENET_TABLE_1.items():
        assert layers[name].chw == shape, name
        if params_k is None:
            continue
        modules = ["conv2", "conv3"] if name == "conv3" else [name]
        weights = sum(weights_only(model, m) for m in modules)
        positions = shape[1] * shape[2] if len(shape) == 3 else 1
        params_ok = abs(weights / 1024 - params_k) <= 0.02 * params_k
        ops_ok = abs(weights * positions / 1e6 - ops_m) <= 1
        errata = TABLE_1_ERRATA.get(name, ())
        assert params_ok != ("params" in errata), (name, weights / 1024, params_k)
        assert ops_ok != ("ops" in errata), (name, weights * positions / 1e6, ops_m)


def test_googlenet_auxiliary_heads_train_only() -> None:
    model = cnnzoo.create_model("googlenet")
    x = torch.randn(2, 3, 224, 224)
    outputs = model.train().forward_aux(x)
    assert [o.shape for o in outputs] == [(2, 1000)] * 3
    assert model(x).shape == model.eval()(x).shape == (2, 1000)
    layers = by_name("googlenet")
    assert not any(n.startswith("aux") for n in layers)  # not run at inference
    assert layers["inception3a.branch3.1"].type == "BasicConv2d"
    assert model.inception3a.branch3[1].conv.kernel_size == (5, 5)


def test_inception_v4_grid_sizes() -> None:
    layers = by_name("inception_v4")
    stem = {
        "conv1": (32, 149, 149),
        "conv2": (32, 147, 147),
        "conv3": (64, 147, 147),
        "mixed1": (160, 73, 73),
        "mixed2": (192, 71, 71),
        "mixed3": (384, 35, 35),
    }
    for name, shape in stem.items():
        assert layers[f"features.stem.{name}"].chw == shape, name
    assert layers["features.inception_a4"].chw == (384, 35, 35)
    assert layers["features.reduction_a"].chw == (1024, 17, 17)
    assert layers["features.inception_b7"].chw == (1024, 17, 17)
    assert layers["features.reduction_b"].chw == (1536, 8, 8)
    assert layers["features.inception_c3"].chw == (1536, 8, 8)


def test_inception_v4_counts_like_timm() -> None:
    timm = pytest.importorskip("timm")
    reference = timm.create_model("inception_v4", pretrained=False)
    ours = cnnzoo.create_model("inception_v4", device="meta")
    assert ours.num_params() == sum(p.numel() for p in reference.parameters())


def test_resnet50_stages_of_table_1() -> None:
    layers = by_name("resnet50")
    assert layers["relu"].chw == (64, 112, 112)
    assert layers["maxpool"].chw == (64, 56, 56)
    assert [layers[f"layer{i}"].chw for i in range(1, 5)] == [
        (256, 56, 56),
        (512, 28, 28),
        (1024, 14, 14),
        (2048, 7, 7),
    ]


def test_resnet_v1_strides_the_1x1_and_v15_the_3x3() -> None:
    v1 = cnnzoo.create_model("resnet50", device="meta")
    v15 = cnnzoo.create_model("resnet50_tv", device="meta")
    assert (v1.layer2[0].conv1.stride, v1.layer2[0].conv2.stride) == ((2, 2), (1, 1))
    assert (v15.layer2[0].conv1.stride, v15.layer2[0].conv2.stride) == ((1, 1), (2, 2))


MACS = [n for n in cnnzoo.list_models() if cnnzoo.model_info(n).macs is not None]


@pytest.mark.parametrize("name", MACS)
def test_multiply_accumulates_match_the_reported_figure(name: str) -> None:
    """Table 1's FLOPs are multiply-adds: PyTorch's flop counter (2 per MAC) halved."""
    info = cnnzoo.model_info(name)
    assert info.macs is not None
    model = cnnzoo.create_model(name, device="meta").eval()
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(torch.empty(1, *info.input_size, device="meta"))
    macs = counter.get_total_flops() / 2
    assert info.macs.holds(macs), f"{name}: {macs / 1e9:.3f} GMACs, reported {info.macs.text}"


def test_cifar_resnet_stages() -> None:
    layers = by_name("resnet56")
    assert [layers[f"layer{i}"].chw for i in (1, 2, 3)] == [(16, 32, 32), (32, 16, 16), (64, 8, 8)]
    blocks = [r for r in analyze("resnet56").layers if r.type == "BasicBlock"]
    assert len(blocks) == 27  # 6n + 2 = 56 with n = 9: 27 blocks of 2 layers, plus conv1 and fc
    plain = cnnzoo.create_model("plain56", device="meta")
    assert plain.num_params() == cnnzoo.create_model("resnet56", device="meta").num_params()


def test_preact_resnet_stages() -> None:
    layers = by_name("preact_resnet164")
    assert [layers[f"layer{i}"].chw for i in (1, 2, 3)] == [
        (64, 32, 32),
        (128, 16, 16),
        (256, 8, 8),
    ]


def test_preact_bottleneck_strides_in_its_first_1x1_as_the_authors_code_does() -> None:
    """resnet-pre-act.lua: Convolution(nInput, nBottleneck, 1, 1, stride, stride) first, then the
    3x3 at stride 1. The 3x3 then runs on 16x16 and 8x8 maps only: 244.5M MACs at 32x32 for
    ResNet-164 (247.6M with the stride in the 3x3, torchvision's ImageNet habit)."""
    model = cnnzoo.create_model("preact_resnet164", device="meta")
    first = model.layer2[0]
    assert (first.conv1.stride, first.conv2.stride) == ((2, 2), (1, 1))
    assert first.shortcut is not None and first.shortcut.stride == (2, 2)
    assert analyze("preact_resnet164").totals.macs == 244_500_992
    layers = by_name("preact_resnet164")
    assert layers["layer2.0.conv1"].chw == (32, 16, 16)


def test_densenet121_blocks_grow_by_k_per_layer() -> None:
    layers = by_name("densenet121")
    # 64 + 6·32 = 256, halved to 128; 128 + 12·32 = 512 -> 256; 256 + 24·32 = 1024 -> 512;
    # 512 + 16·32 = 1024
    expected = {
        "features.denseblock1": (256, 56, 56),
        "features.transition1": (128, 28, 28),
        "features.denseblock2": (512, 28, 28),
        "features.transition2": (256, 14, 14),
        "features.denseblock3": (1024, 14, 14),
        "features.transition3": (512, 7, 7),
        "features.denseblock4": (1024, 7, 7),
    }
    for name, shape in expected.items():
        assert layers[name].chw == shape, name


def test_cifar_densenets() -> None:
    dense = by_name("densenet40_k12")
    # 16 + 12·12 = 160, no compression; 160 + 144 = 304; 304 + 144 = 448
    assert [dense[f"features.denseblock{i}"].chw[0] for i in (1, 2, 3)] == [160, 304, 448]
    bc = by_name("densenet_bc100_k12")
    # 24 + 16·12 = 216 -> 108; 108 + 192 = 300 -> 150; 150 + 192 = 342
    assert [bc[f"features.denseblock{i}"].chw[0] for i in (1, 2, 3)] == [216, 300, 342]


def test_nin_has_no_fully_connected_layer() -> None:
    model = cnnzoo.create_model("nin", device="meta")
    assert not any(isinstance(m, torch.nn.Linear) for m in model.modules())
    layers = by_name("nin")
    assert layers["features.block1"].chw == (96, 32, 32)
    assert layers["features.block3"].chw == (192, 8, 8)
    assert layers["classifier"].chw == (10, 8, 8)  # one map per class, averaged into scores


@pytest.mark.parametrize(
    ("name", "expected"), [("densenet40_k12", 36 + 2), ("densenet_bc100_k12", 48 * 2 + 2)]
)
def test_densenet_dropout_follows_every_convolution_but_the_first(
    name: str, expected: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """§4.2 and the authors' Lua: after each layer's 1x1 bottleneck and 3x3, and after each
    transition's 1x1; never after the first convolution. 40-layer: 36 3x3s and 2 transitions;
    BC-100: 48 layers of a 1x1 and a 3x3, and 2 transitions."""
    calls: list[tuple[int, ...]] = []
    dropout = torch.nn.functional.dropout

    def counting(
        x: torch.Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
    ) -> torch.Tensor:
        calls.append(tuple(x.shape[1:]))
        return dropout(x, p, training, inplace)

    monkeypatch.setattr(torch.nn.functional, "dropout", counting)
    model = cnnzoo.create_model(name, drop_rate=0.2).train()
    model(torch.randn(2, 3, 32, 32))
    assert len(calls) == expected
    stem = model.features.conv0.out_channels
    assert calls[0] != (stem, 32, 32)  # not after conv0
    transitions = [c for c in calls if c[1:] == (32, 32) and c[0] > 48]
    assert len(transitions) == 1  # the first transition's 1x1 output, before its pooling
    calls.clear()
    cnnzoo.create_model(name).train()(torch.randn(2, 3, 32, 32))
    assert not calls  # no dropout at the default rate of 0


def test_lenet5_codes_are_the_digits_on_7x12_bitmaps() -> None:
    """§II.B / Fig. 3: class k's fixed code is digit k drawn on 7x12, +1 ink, -1 paper."""
    from cnnzoo.models.lenet import DIGIT_BITMAPS, rbf_codes

    assert len(DIGIT_BITMAPS) == 10
    assert all(len(b) == 12 and all(len(row) == 7 for row in b) for b in DIGIT_BITMAPS)
    codes = cnnzoo.create_model("lenet5").output.centers
    assert codes.shape == (10, 84) and set(codes.unique().tolist()) == {-1.0, 1.0}
    one = codes[1].view(12, 7)
    assert one[1:10, 3].tolist() == [1.0] * 9  # the stem of the '1'
    assert one[9].tolist() == [-1.0, 1, 1, 1, 1, 1, -1]  # its foot
    distances = torch.cdist(codes, codes, p=0)  # Hamming distances between the codes
    assert distances[~torch.eye(10, dtype=torch.bool)].min() >= 6  # '0' and '8' are closest
    more = rbf_codes(12)
    assert torch.equal(more[:10], codes) and set(more[10:].unique().tolist()) == {-1.0, 1.0}


def test_lenet5_trains_on_eq_9() -> None:
    """E = y_D + log(e^-j + Σ_i e^-y_i), y the RBF penalties, computed here by hand."""
    from cnnzoo.models.lenet import RUBBISH_PENALTY

    model = cnnzoo.create_model("lenet5")
    x, target = torch.randn(5, 1, 32, 32), torch.tensor([0, 3, 9, 3, 7])
    loss, logits = model.training_loss(x, target, torch.nn.functional.cross_entropy)
    y = -logits  # penalties: squared distances to the codes
    by_hand = y[torch.arange(5), target] + torch.log(
        math.exp(-RUBBISH_PENALTY) + torch.exp(-y).sum(1)
    )
    torch.testing.assert_close(loss, by_hand.mean())
    modern = cnnzoo.create_model("lenet5_modern")
    loss, logits = modern.training_loss(x, target, torch.nn.functional.cross_entropy)
    torch.testing.assert_close(loss, torch.nn.functional.cross_entropy(logits, target))


def test_googlenet_lrn_is_bvlcs_caffe_lrn() -> None:
    """b = a / (1 + (1e-4 / 5) Σ a²)^0.75 over 5 maps: Caffe's LRN with bvlc_googlenet's
    constants (the paper gives none)."""
    lrn = cnnzoo.create_model("googlenet").lrn1
    a = torch.randn(2, 8, 3, 3)
    squares = torch.nn.functional.pad(a.square(), (0, 0, 0, 0, 2, 2))
    window = sum(squares[:, i : i + 8] for i in range(5))
    torch.testing.assert_close(lrn(a), a / (1 + 1e-4 / 5 * window) ** 0.75)


def test_googlenet_counts_the_auxiliary_heads_apart() -> None:
    """Inference drops the two auxiliary heads: 6,998,552 parameters, not 13,378,280."""
    model = cnnzoo.create_model("googlenet", device="meta")
    assert model.training_only() == ["aux1", "aux2"]
    assert model.num_params() == 6_998_552
    assert model.num_params(training=True) == 13_378_280
    totals = analyze("googlenet").totals
    assert (totals.params, totals.training_params) == (6_998_552, 6_379_728)
    without = cnnzoo.create_model("googlenet", aux_logits=False, device="meta")
    assert without.num_params() == without.num_params(training=True) == 6_998_552
    # training memory measures the step a trainer takes, auxiliary heads included
    heads = analyze("googlenet").training_memory(8).activations
    assert heads > analyze(without, (3, 224, 224)).training_memory(8).activations
