"""The papers' own layers, checked against their definitions written out longhand."""

import pytest
import torch
import torch.nn.functional as F

from cnnzoo.layers import (
    LocalResponseNorm,
    PadShortcut,
    PartialConv2d,
    ScaledTanh,
    TrainableSubsampling,
)
from cnnzoo.models.lenet import C3_TABLE


def lrn_by_the_paper(a: torch.Tensor, n: int, alpha: float, beta: float, k: float) -> torch.Tensor:
    """AlexNet §3.3: b_i = a_i / (k + α Σ_{j=max(0,i-n/2)}^{min(N-1,i+n/2)} a_j²)^β."""
    channels = a.shape[1]
    out = torch.empty_like(a)
    for i in range(channels):
        lo, hi = max(0, i - n // 2), min(channels - 1, i + n // 2)
        out[:, i] = a[:, i] / (k + alpha * (a[:, lo : hi + 1] ** 2).sum(1)) ** beta
    return out


@pytest.mark.parametrize(("n", "alpha", "beta", "k"), [(5, 1e-4, 0.75, 2.0), (3, 0.5, 0.5, 1.0)])
def test_lrn_sums_squares_as_the_paper_does(n: int, alpha: float, beta: float, k: float) -> None:
    a = torch.randn(2, 11, 4, 4) * 10
    ours = LocalResponseNorm(size=n, alpha=alpha, beta=beta, k=k)(a)
    torch.testing.assert_close(ours, lrn_by_the_paper(a, n, alpha, beta, k))
    # PyTorch's own layer with the same constants averages instead, and so differs
    pytorch = torch.nn.LocalResponseNorm(n, alpha, beta, k)(a)
    assert not torch.allclose(pytorch, ours)


@pytest.mark.parametrize("n", [1, 2, 4, 5, 7])
@pytest.mark.parametrize("shape", [(2, 9, 5), (2, 9, 4, 3), (1, 9, 2, 3, 2)])
def test_lrn_sums_as_pytorch_does_with_the_window_scaled(n: int, shape: tuple[int, ...]) -> None:
    # the shifted-slice sum against PyTorch's average pooling, values and gradients, for even
    # windows (one map more before than after), 3-D and 5-D inputs and channels-last memory
    a = (torch.randn(shape) * 10).requires_grad_()
    b = a.detach().clone().requires_grad_()
    layer = LocalResponseNorm(size=n, alpha=1e-3, beta=0.75, k=2.0)
    ours = layer(a if a.dim() != 4 else a.contiguous(memory_format=torch.channels_last))
    theirs = F.local_response_norm(b, n, alpha=1e-3 * n, beta=0.75, k=2.0)
    torch.testing.assert_close(ours, theirs)
    weights = torch.randn(shape)
    (ours * weights).sum().backward()
    (theirs * weights).sum().backward()
    torch.testing.assert_close(a.grad, b.grad)


def test_lrn_refuses_an_empty_window() -> None:
    with pytest.raises(ValueError, match="positive"):
        LocalResponseNorm(size=0)


def test_scaled_tanh_constants() -> None:
    f = ScaledTanh()
    x = torch.tensor([-1.0, 0.0, 1.0])
    # LeCun 1998, App. A: A = 1.7159 and S = 2/3 make f(±1) = ±1
    torch.testing.assert_close(f(x), x, atol=2e-4, rtol=0)
    assert f(torch.tensor(100.0)).item() == pytest.approx(1.7159)


def test_trainable_subsampling_adds_four_inputs_then_scales() -> None:
    layer = TrainableSubsampling(3)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([1.0, 0.5, -2.0]))
        layer.bias.copy_(torch.tensor([0.0, 1.0, 0.25]))
    x = torch.arange(2 * 3 * 4 * 4, dtype=torch.float32).reshape(2, 3, 4, 4)
    sums = x.unfold(2, 2, 2).unfold(3, 2, 2).sum((-1, -2))
    expected = sums * layer.weight.view(1, 3, 1, 1) + layer.bias.view(1, 3, 1, 1)
    torch.testing.assert_close(layer(x), expected)
    assert sum(p.numel() for p in layer.parameters()) == 6


def test_partial_conv_equals_a_masked_full_convolution() -> None:
    layer = PartialConv2d(C3_TABLE, 5)
    assert sum(p.numel() for p in layer.parameters()) == 1516  # Table I, §II.B
    # scatter the grouped kernels into a full 16x6x5x5 kernel, zero where Table I has no link
    weight = torch.zeros(16, 6, 5, 5)
    bias = torch.zeros(16)
    conv_of = {}
    for conv in layer.convs:
        fan_in = conv.in_channels // conv.out_channels
        outputs = [j for j, c in enumerate(C3_TABLE) if len(c) == fan_in]
        for g, j in enumerate(outputs):
            conv_of[j] = conv
            weight[j, list(C3_TABLE[j])] = conv.weight[g].detach()
            bias[j] = conv.bias[g].detach()
    assert sorted(conv_of) == list(range(16))
    x = torch.randn(2, 6, 14, 14)
    torch.testing.assert_close(layer(x), F.conv2d(x, weight, bias), atol=1e-5, rtol=1e-5)


def test_pad_shortcut_subsamples_and_zero_pads() -> None:
    x = torch.randn(2, 16, 8, 8)
    y = PadShortcut(16, 32, stride=2)(x)
    assert y.shape == (2, 32, 4, 4)
    torch.testing.assert_close(y[:, :16], x[:, :, ::2, ::2])
    assert y[:, 16:].abs().sum() == 0
    with pytest.raises(ValueError, match="widen"):
        PadShortcut(32, 16, stride=1)
