"""The variants the experiments compare: each one's size worked out by hand."""

from __future__ import annotations

import pytest
import torch

import cnnzoo
from cnnzoo.anatomy.analysis import analyze
from cnnzoo.errors import ConfigError


def conv(k: int, cin: int, cout: int) -> int:
    return k * k * cin * cout + cout


def test_convnet4_is_three_5x5_convolutions_and_one_classifier() -> None:
    model = cnnzoo.create_model("convnet4")
    expected = conv(5, 3, 32) + conv(5, 32, 32) + conv(5, 32, 64) + (64 * 4 * 4 * 10 + 10)
    assert model.num_params() == expected == 89_578
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


def test_stacked_3x3_see_as_far_as_5x5_with_fewer_weights() -> None:
    """VGG §2.3: two 3x3 layers have an effective 5x5 field and 18C² weights against 25C²."""
    single = analyze(cnnzoo.create_model("convnet4", in_chans=1), (1, 32, 32))
    stacked = analyze(cnnzoo.create_model("convnet4", in_chans=1, stack=True), (1, 32, 32))
    first = [r for r in stacked.layers if r.name.startswith("features.conv1")]
    assert [r.receptive_field for r in first] == [3, 5]
    body = conv(3, 1, 32) + conv(3, 32, 32) + 2 * conv(3, 32, 32) + conv(3, 32, 64)
    assert stacked.totals.params == body + conv(3, 64, 64) + 64 * 16 * 10 + 10
    stage2 = [r.params for r in stacked.layers if r.name.startswith("features.conv2")]
    assert sum(stage2) == 2 * (9 * 32 * 32 + 32) < conv(5, 32, 32)  # 18C² + 2C < 25C² + C
    assert single.totals.params == conv(5, 1, 32) + conv(5, 32, 32) + conv(5, 32, 64) + 10_250


@pytest.mark.parametrize(
    ("kwargs", "modules"),
    [
        ({"act": "tanh"}, torch.nn.Tanh),
        ({"norm": "lrn"}, cnnzoo.models.convnet.LocalResponseNorm),
        ({"norm": "bn"}, torch.nn.BatchNorm2d),
    ],
)
def test_convnet4_variants_swap_one_kind_of_layer(kwargs: dict, modules: type) -> None:
    model = cnnzoo.create_model("convnet4", **kwargs)
    found = [m for m in model.modules() if isinstance(m, modules)]
    assert (
        len(found)
        == {"act": 3, "norm": 2 if kwargs.get("norm") == "lrn" else 3}[next(iter(kwargs))]
    )


def test_pooling_windows_overlap_or_not_with_the_same_maps() -> None:
    for pool in (2, 3):
        model = cnnzoo.create_model("convnet4", pool=pool)
        assert analyze(model, (3, 32, 32)).layers[-1].output_shape == (1, 10)
        assert all(
            m.kernel_size == pool for m in model.modules() if isinstance(m, torch.nn.MaxPool2d)
        )


def test_dropout_on_the_inputs_of_the_later_fully_connected_layers() -> None:
    model = cnnzoo.create_model("convnet4", hidden=[256, 128], dropout=0.5)
    names = [name for name, _ in model.classifier.named_children()]
    assert names == ["fc1", "act_fc1", "drop2", "fc2", "act_fc2", "drop3", "fc3"]
    model.reset_classifier(3)
    assert model(torch.zeros(1, 3, 32, 32)).shape == (1, 3)


def test_bad_variants_are_explained() -> None:
    with pytest.raises(ValueError, match="act 'gelu': expected one of relu, tanh, sigmoid"):
        cnnzoo.create_model("convnet4", act="gelu")
    with pytest.raises(ValueError, match="pool 4"):
        cnnzoo.create_model("convnet4", pool=4)
    with pytest.raises(ValueError, match="block 'wide'"):
        cnnzoo.create_model("resnet20", block="wide")
    with pytest.raises(ValueError, match="3n\\+4 layers"):
        cnnzoo.create_model("densenet40_k12", depth=41)


def test_naive_inception_costs_what_fig_2a_implies() -> None:
    """GoogLeNet §4: without 1x1 reductions the pooled input passes on and the 5x5s see it all."""
    naive = cnnzoo.create_model("googlenet", reductions=False, device="meta")
    module = naive.inception3a
    assert module.out_channels == 64 + 128 + 32 + 192
    own = sum(p.numel() for p in module.parameters())
    assert own == conv(1, 192, 64) + conv(3, 192, 128) + conv(5, 192, 32)
    paper = analyze("googlenet")
    blown = analyze(naive, (3, 224, 224))
    # the network that infers, then with the auxiliary heads (which read 4a and 4d, wider too)
    assert (paper.totals.params, paper.totals.training_params) == (6_998_552, 6_379_728)
    assert (blown.totals.params, blown.totals.training_params) == (97_526_008, 6_748_368)
    assert blown.totals.params + blown.totals.training_params == 104_274_376
    assert blown.totals.macs / paper.totals.macs > 7.9


def test_paper_densenets_from_growth_rate_and_depth() -> None:
    """Table 2: L=40 k=12 1.0M, L=100 k=12 7.0M, L=100 k=24 27.2M parameters."""
    for k, depth, millions in ((12, 40, 1.0), (12, 100, 7.0), (24, 100, 27.2)):
        model = cnnzoo.create_model("densenet40_k12", growth_rate=k, depth=depth, device="meta")
        assert round(model.num_params() / 1e6, 1) == millions


def test_cifar_bottleneck_resnet_keeps_the_blocks_and_the_cost() -> None:
    basic = analyze(cnnzoo.create_model("resnet20"), (3, 32, 32))
    bottleneck = analyze(cnnzoo.create_model("resnet20", block="bottleneck"), (3, 32, 32))
    assert (basic.totals.depth, bottleneck.totals.depth) == (20, 29)
    assert bottleneck.totals.params == 270_234
    assert abs(bottleneck.totals.params / basic.totals.params - 1) < 0.01


def test_plain_cifar_nets_take_another_activation_and_no_batch_norm() -> None:
    """The gradient experiment's nets: the same convolutions, other modules between them."""
    default = cnnzoo.create_model("plain20", num_classes=10)
    sigmoid = cnnzoo.create_model("plain20", num_classes=10, act="sigmoid", batch_norm=False)
    kinds = {type(m) for m in sigmoid.modules()}
    assert torch.nn.Sigmoid in kinds and torch.nn.ReLU not in kinds
    assert torch.nn.BatchNorm2d not in kinds
    convs = [n for n, m in default.named_modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs == [n for n, m in sigmoid.named_modules() if isinstance(m, torch.nn.Conv2d)]
    norms = sum(
        m.weight.numel() * 2 for m in default.modules() if isinstance(m, torch.nn.BatchNorm2d)
    )
    assert sigmoid.num_params() == default.num_params() - norms
    # 19 activations on a block's two: the stem's, then each of 9 blocks' inner and outer
    x = torch.randn(2, 3, 32, 32)
    seen: list[torch.Tensor] = []
    for m in sigmoid.modules():
        if isinstance(m, torch.nn.Sigmoid):
            m.register_forward_hook(lambda _m, _i, out: seen.append(out))
    sigmoid(x)
    assert len(seen) == 19 and all(((o > 0) & (o < 1)).all() for o in seen)
    # torchvision's keys where the paper's build is kept
    assert set(cnnzoo.create_model("resnet18").state_dict()) == set(
        cnnzoo.create_model("resnet18", act="relu", batch_norm=True).state_dict()
    )


def test_plain110_is_resnet110_without_its_shortcuts() -> None:
    plain = cnnzoo.create_model("plain110", device="meta")
    residual = cnnzoo.create_model("resnet110", device="meta")
    assert plain.num_params() == residual.num_params() == 1_727_962  # option A: no weights
    assert not any(block.residual for block in plain.modules() if hasattr(block, "residual"))


def test_resnet_options_that_cannot_work_together_are_refused() -> None:
    with pytest.raises(ConfigError, match="needs batch_norm=True"):
        cnnzoo.create_model("resnet20", batch_norm=False, zero_init_residual=True)
    with pytest.raises(ConfigError, match="act 'gelu'"):
        cnnzoo.create_model("resnet20", act="gelu")


def test_convnet4_draws_glorots_weights_when_asked() -> None:
    """VGG §3.1: Glorot & Bengio's initialisation trains the deep nets without pre-training."""
    torch.manual_seed(0)
    model = cnnzoo.create_model("convnet4", stack=True, init="glorot")
    for m in model.modules():
        if isinstance(m, torch.nn.Conv2d):
            fan_in = m.in_channels * 9
            fan_out = m.out_channels * 9
            bound = (6 / (fan_in + fan_out)) ** 0.5
            assert m.weight.abs().max() <= bound and m.weight.abs().max() > 0.9 * bound
            assert not m.bias.any()
    with pytest.raises(ConfigError, match="init 'he'"):
        cnnzoo.create_model("convnet4", init="he")
