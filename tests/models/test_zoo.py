"""Registry-driven checks that every model in the zoo must pass."""

import math

import pytest
import torch
from torch import nn

import cnnzoo
from cnnzoo import InputSizeError
from cnnzoo.models import FeatureNet, ZooModel

ALL = cnnzoo.list_models()


def build(name: str, **kwargs: object) -> ZooModel:
    model = cnnzoo.create_model(name, **kwargs)
    assert isinstance(model, ZooModel)
    return model


def small_input(name: str, batch: int = 2, channels: int | None = None) -> torch.Tensor:
    """The smallest convenient input the model takes (its paper size where it is fixed)."""
    info = cnnzoo.model_info(name)
    c = channels or info.input_size[0]
    if info.fixed_input_size:
        return torch.randn(batch, c, *info.input_size[1:])
    side = max(32, info.min_input_size[0])
    return torch.randn(batch, c, side, side)


def test_the_zoo_holds_every_family_of_the_brief() -> None:
    families = {cnnzoo.model_info(n).family for n in ALL}
    expected = {
        "LeNet",
        "AlexNet",
        "ConvNet-4",
        "ZFNet",
        "VGG",
        "NiN",
        "GoogLeNet",
        "Inception",
        "ResNet",
        "ResNet-CIFAR",
        "PreAct-ResNet",
        "DenseNet",
        "DenseNet-CIFAR",
        "Speedrun",
    }
    assert expected <= families
    assert len(ALL) == 52


def _square(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """A criterion that reaches every logit, so every parameter gets a gradient."""
    return logits.square().mean()


@pytest.mark.parametrize("name", ALL)
def test_forward_and_backward(name: str) -> None:
    """``forward`` is the logits in training mode too; the training loss reaches every
    trainable parameter, the auxiliary heads' included (the speed route's batch norms keep
    their scale fixed at 1)."""
    model = build(name, num_classes=7).train()
    x = small_input(name)
    logits = model(x)
    assert isinstance(logits, torch.Tensor) and logits.shape == (2, 7)
    assert torch.isfinite(logits).all()
    loss, logits = model.training_loss(x, torch.tensor([0, 6]), _square)
    assert logits.shape == (2, 7) and torch.isfinite(loss)
    loss.backward()
    missing = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing, f"parameters without gradient: {missing[:5]}"
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


@pytest.mark.parametrize("name", ALL)
def test_parameter_count_matches_the_paper(name: str) -> None:
    info = cnnzoo.model_info(name)
    if info.params is None:
        pytest.skip(f"{name}: the paper reports no parameter count")
    model = build(name, device="meta")
    count = model.num_params(norm=not info.params.excludes_norm)
    assert info.params.holds(count), (
        f"{name}: {count:,} parameters, the paper ({info.params.source}) says "
        f"{info.params.text} ± {info.params.tolerance:,.0f}"
    )


def test_the_listing_is_what_the_registry_and_the_builders_make() -> None:
    """`cnnzoo list` reads cnnzoo/listing.py instead of importing PyTorch and building every
    networks (10 s, then 3 s, now a fraction of a second)."""
    from cnnzoo.listing import LISTING
    from tests.helpers import listing_now

    now = listing_now()
    assert list(LISTING) == list(now), "cnnzoo/listing.py is stale: run `make listing`"
    stale = [name for name, row in now.items() if tuple(LISTING[name]) != row]
    assert not stale, f"cnnzoo/listing.py is stale for {stale}: run `make listing`"
    from cnnzoo.listing import matching

    for pattern, family in (("*", None), ("RESNET*", None), ("*_bn", "vgg"), ("*", "GoogLeNet")):
        assert matching(pattern, family) == cnnzoo.list_models(pattern, family=family)


@pytest.mark.parametrize("name", ALL)
def test_grey_images_and_any_number_of_classes(name: str) -> None:
    """Fashion-MNIST's shape of problem: one channel, ten classes; and a timm-style 50."""
    for classes in (10, 50):
        model = build(name, num_classes=classes, in_chans=1, device="meta").eval()
        x = small_input(name, channels=1).to("meta")
        assert model(x).shape == (2, classes)


@pytest.mark.parametrize("name", ALL)
def test_minimum_input_size_is_exact(name: str) -> None:
    """The registry's minimum is the smallest size every layer accepts: one pixel less fails
    inside the network (checked with the guard off, through the training loss, where
    GoogLeNet's auxiliary heads run too), and the guard names the size needed."""
    info = cnnzoo.model_info(name)
    model = build(name, device="meta").train()
    c = info.input_size[0]

    def step(side: int) -> torch.Tensor:
        target = torch.zeros(2, dtype=torch.long, device="meta")
        x = torch.empty(2, c, side, side, device="meta")
        return model.training_loss(x, target, nn.functional.cross_entropy)[1]

    if info.fixed_input_size:
        h, w = info.input_size[1:]
        with pytest.raises(InputSizeError, match=f"exactly {h}x{w}"):
            model(torch.empty(1, c, h + 4, w + 4, device="meta"))
        return
    side = info.min_input_size[0]
    assert step(side).shape == (2, info.num_classes)
    if side > 1:
        with pytest.raises(InputSizeError, match=f"at least {side}x{side}"):
            step(side - 1)
        model.min_input_size = (1, 1)
        with pytest.raises(RuntimeError):
            step(side - 1)


def test_wrong_channels_and_layout_are_refused_with_the_fix() -> None:
    model = build("resnet20", device="meta")
    with pytest.raises(InputSizeError, match=r"in_chans=1"):
        model(torch.empty(2, 1, 32, 32, device="meta"))
    with pytest.raises(InputSizeError, match="unsqueeze"):
        model(torch.empty(3, 32, 32, device="meta"))


@pytest.mark.parametrize("name", ALL)
def test_model_surface(name: str) -> None:
    """timm's surface: forward = forward_head(forward_features), pre-logits, reset_classifier."""
    model = build(name, device="meta").eval()
    x = small_input(name).to("meta")
    features = model.forward_features(x)
    assert features.dim() == 4
    pre = model.forward_head(features, pre_logits=True)
    assert pre.dim() == 2 and pre.shape[0] == 2
    classifier = model.get_classifier()
    assert isinstance(classifier, nn.Module)
    model.reset_classifier(3)
    assert model(x).shape == (2, 3) and model.num_classes == 3
    model.reset_classifier(0)
    assert model(x).shape == pre.shape


@pytest.mark.parametrize("name", [n for n in ALL if cnnzoo.model_info(n).family != "MLP"])
def test_features_only(name: str) -> None:
    info = cnnzoo.model_info(name)
    net = cnnzoo.create_model(name, features_only=True, device="meta")
    assert isinstance(net, FeatureNet)
    side = info.input_size[1] if info.fixed_input_size else 512
    maps = net(torch.empty(1, info.input_size[0], side, side, device="meta"))
    assert len(maps) == len(net.feature_info) >= 3
    reductions = [f.reduction for f in net.feature_info]
    assert reductions == sorted(reductions)
    for fmap, feature in zip(maps, net.feature_info, strict=True):
        assert fmap.shape[1] == feature.num_chs, feature
        if not info.fixed_input_size:  # the stride shows at a large input
            assert round(math.log2(side / fmap.shape[-1])) == math.log2(feature.reduction), feature


def test_a_net_without_feature_maps_has_no_features_only_build() -> None:
    with pytest.raises(ValueError, match="mlp lists no feature stages"):
        cnnzoo.create_model("mlp", features_only=True)


def test_features_only_picks_stages() -> None:
    net = cnnzoo.create_model("resnet50", features_only=True, out_indices=(2, 4), device="meta")
    assert isinstance(net, FeatureNet)
    maps = net(torch.empty(1, 3, 224, 224, device="meta"))
    assert [tuple(m.shape[1:]) for m in maps] == [(512, 28, 28), (2048, 7, 7)]
    with pytest.raises(ValueError, match="out of range"):
        cnnzoo.create_model("resnet50", features_only=True, out_indices=(7,), device="meta")


@pytest.mark.parametrize("name", ALL)
def test_registry_metadata_is_complete(name: str) -> None:
    info = cnnzoo.model_info(name)
    assert info.paper.url.startswith("https://")
    assert 1998 <= info.paper.year <= 2024
    assert info.summary, f"{name} has no docstring"
    assert info.min_input_size[0] <= info.input_size[1]
    if info.torchvision_equal:
        assert info.torchvision
    model = build(name, device="meta")
    assert model.model_name == name
    assert model.num_classes == info.num_classes
