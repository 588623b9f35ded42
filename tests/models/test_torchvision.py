"""Where torchvision has the network, its weights load into ours with strict=True and, where
the networks are the same, give the same outputs."""

import pytest
import torch
import torchvision

import cnnzoo

TORCHVISION = [n for n in cnnzoo.list_models() if cnnzoo.model_info(n).torchvision]


def test_torchvision_counterparts_cover_the_brief() -> None:
    expected = {
        "alexnet_owt",
        "googlenet_tv",
        "vgg11",
        "vgg13",
        "vgg16",
        "vgg19",
        "vgg11_bn",
        "vgg13_bn",
        "vgg16_bn",
        "vgg19_bn",
        "resnet18",
        "resnet34",
        "resnet50",
        "resnet101",
        "resnet152",
        "resnet50_tv",
        "resnet101_tv",
        "resnet152_tv",
        "densenet121",
        "densenet169",
        "densenet201",
    }
    assert set(TORCHVISION) == expected


@pytest.mark.parametrize("name", TORCHVISION)
def test_state_dict_keys_equal_and_weights_load_strictly(name: str) -> None:
    info = cnnzoo.model_info(name)
    assert info.torchvision is not None
    kwargs = {"init_weights": True} if info.torchvision == "googlenet" else {}
    reference = torchvision.models.get_model(info.torchvision, weights=None, **kwargs).eval()
    ours = cnnzoo.create_model(name).eval()
    assert list(ours.state_dict()) == list(reference.state_dict())
    ours.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        expected, got = reference(x), ours(x)
    if info.torchvision_equal:
        torch.testing.assert_close(got, expected, rtol=0, atol=0)
    else:  # ResNet v1 against torchvision's v1.5: the stride sits elsewhere
        assert not torch.allclose(got, expected)


def test_googlenet_aux_outputs_match_torchvision_in_training() -> None:
    """torchvision's training-mode outputs are our ``forward_aux``; our ``forward`` stays the
    logits in training too, as every trainer expects."""
    reference = torchvision.models.googlenet(weights=None, init_weights=True).train()
    ours = cnnzoo.create_model("googlenet_tv").train()
    ours.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, 3, 96, 96)
    torch.manual_seed(1)
    expected = reference(x)
    torch.manual_seed(1)
    got = ours.forward_aux(x)
    assert type(got).__name__ == "GoogLeNetOutputs"
    for a, b in zip(got, expected, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    ran = []
    assert ours.aux1 is not None
    ours.aux1.register_forward_hook(lambda *_: ran.append("aux1"))
    logits = ours(x)
    assert isinstance(logits, torch.Tensor) and logits.shape == (2, 1000) and not ran


def test_densenet264_is_torchvisions_densenet_class_with_table_1s_blocks() -> None:
    """torchvision publishes no DenseNet-264, but its DenseNet class built with Table 1's
    6-12-64-48 blocks is an independent count (the paper prints none) and the same network."""
    reference = torchvision.models.DenseNet(32, (6, 12, 64, 48), 64).eval()
    ours = cnnzoo.create_model("densenet264").eval()
    assert ours.num_params() == sum(p.numel() for p in reference.parameters()) == 33_337_704
    ours.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x), rtol=0, atol=0)
