"""The design arithmetic of the notes and papers, with their figures."""

import pytest
from torch import nn

from cnnzoo.anatomy import GeometryError, analyze
from cnnzoo.anatomy.design import (
    break_even_filters,
    fc_vs_pooled_head,
    inception_reductions,
    kernel_stack,
    residual_blocks,
)


def test_11x11_against_five_3x3() -> None:
    d, n = 64, 128
    single, stack = kernel_stack(11, d, n, 56)
    assert single.params == 121 * d * n and stack.params == 9 * d * n + 36 * n * n
    assert single.receptive_field == stack.receptive_field == 11
    assert (single.nonlinearities, stack.nonlinearities) == (1, 5)
    # The note says the stack wins while N < 3.6·D; the algebra gives 112/36 = 3.11·D.
    assert break_even_filters(11, 1) == pytest.approx(112 / 36)
    at = int(break_even_filters(11, d))
    assert kernel_stack(11, d, at, 8)[1].params < kernel_stack(11, d, at, 8)[0].params
    assert kernel_stack(11, d, at + 1, 8)[1].params > kernel_stack(11, d, at + 1, 8)[0].params


@pytest.mark.parametrize(("kernel", "layers"), [(5, 2), (7, 3)])
def test_stacks_match_the_analysed_networks(kernel: int, layers: int) -> None:
    """The same figures from the engine, on real layers."""
    single, stack = kernel_stack(kernel, 16, 32, 28)
    convs = [nn.Conv2d(16 if i == 0 else 32, 32, 3, padding=1, bias=False) for i in range(layers)]
    analysis = analyze(nn.Sequential(*convs), (16, 28, 28))
    assert analysis.totals.params == stack.params and analysis.totals.macs == stack.macs
    assert analysis.totals.receptive_field[0].size == kernel == single.receptive_field
    big = nn.Conv2d(16, 32, kernel, padding=kernel // 2, bias=False)
    assert analyze(big, (16, 28, 28)).totals.macs == single.macs


def test_inception_module_cs231n_example() -> None:
    naive, reduced = inception_reductions(256, 28, 128, 192, 96, 64, 64, 64)
    assert naive.macs == 854_196_224 and naive.output == (672, 28, 28)
    # The rows of the lecture's reduced module sum to 271M multiply-accumulates.
    assert reduced.macs == 271_351_808 and reduced.output == (480, 28, 28)


def test_googlenet_3a_reductions_match_the_model() -> None:
    naive, reduced = inception_reductions(192, 28, 64, 128, 32, 32, 96, 16)
    layers = {r.name: r for r in analyze("googlenet").layers}
    weights = layers["inception3a"].params - (64 + 96 + 128 + 16 + 32 + 32)  # minus biases
    assert reduced.params == weights and naive.params > 2 * reduced.params  # 387K vs 163K


def test_basic_against_bottleneck_block() -> None:
    basic, bottleneck = residual_blocks(64, 56)
    assert basic.params == 73_728 and bottleneck.params == 69_632  # ResNet Fig. 5
    assert bottleneck.output == (256, 56, 56)
    layers = {r.name: r for r in analyze("resnet50").layers}
    bn_params = 2 * (64 + 64 + 256)
    assert layers["layer1.1"].params == bottleneck.params + bn_params


def test_fc_head_against_global_pooling() -> None:
    fc, pooled = fc_vs_pooled_head(512, 7, 4096, 1000)
    vgg = {r.name: r for r in analyze("vgg16").layers}
    assert fc.params == vgg["classifier"].params == 123_642_856
    assert pooled.params == 513_000 and fc.params // pooled.params == 241


def test_bad_design_numbers() -> None:
    with pytest.raises(GeometryError, match="odd kernel of 5 or more"):
        kernel_stack(4, 3, 3, 8)
    with pytest.raises(GeometryError, match="must be >= 1"):
        residual_blocks(0, 8)
