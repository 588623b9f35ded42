"""The conv arithmetic against real convolutions and pooling, for any sizes (hypothesis)."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnzoo.anatomy import Field, GeometryError, conv_arithmetic
from cnnzoo.anatomy.geometry import WindowAxis, window_axis

windows = st.tuples(
    st.integers(1, 40),  # size
    st.integers(1, 7),  # kernel
    st.integers(1, 4),  # stride
    st.integers(0, 3),  # padding
    st.integers(1, 3),  # dilation
).filter(lambda t: t[3] <= t[1] // 2 and t[2] * 0 + (t[4] * (t[1] - 1) + 1) <= t[0] + 2 * t[3])


@settings(max_examples=150, deadline=None)
@given(windows, st.integers(1, 3), st.integers(1, 4), st.sampled_from([1, 2]))
def test_conv_arithmetic_matches_real_convolutions(
    window: tuple[int, int, int, int, int], cin_per_group: int, filters: int, groups: int
) -> None:
    size, kernel, stride, padding, dilation = window
    cin, cout = cin_per_group * groups, filters * groups
    conv = conv_arithmetic(
        (cin, size, size + 1), cout, (kernel, kernel), stride, padding, dilation, groups
    )
    if conv.width.span > size + 1 + 2 * padding:
        return
    layer = torch.nn.Conv2d(cin, cout, kernel, stride, padding, dilation, groups)
    out = layer(torch.zeros(1, cin, size, size + 1))
    assert conv.output_shape == tuple(out.shape[1:])
    assert conv.params == sum(p.numel() for p in layer.parameters())
    assert conv.macs == out[0, 0].numel() * cout * kernel * kernel * cin_per_group
    # Exact division is what "fits" means; PyTorch floors the rest away.
    assert conv.height.fits == ((size - conv.height.span + 2 * padding) % stride == 0)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 40), st.integers(1, 5), st.integers(1, 4), st.integers(0, 2), st.booleans())
def test_pool_output_matches_pytorch_floor_and_ceil(
    size: int, kernel: int, stride: int, padding: int, ceil: bool
) -> None:
    if padding > kernel // 2 or kernel > size + 2 * padding:
        return
    axis = WindowAxis(size, kernel, stride, padding, 1, ceil)
    out = F.max_pool2d(torch.zeros(1, 1, size, size), kernel, stride, padding, ceil_mode=ceil)
    assert axis.output == out.shape[-1]


@settings(max_examples=100, deadline=None)
@given(windows)
def test_suggestions_fit(window: tuple[int, int, int, int, int]) -> None:
    """Every padding, stride and input size the misfit message offers does fit."""
    size, kernel, stride, padding, dilation = window
    axis = WindowAxis(size, kernel, stride, padding, dilation)
    if axis.fits:
        return
    text = axis.suggestions()
    for part in text.removeprefix("fits with ").split(", or "):
        label, _, values = part.removeprefix("an input of").strip().partition(" ")
        if part.startswith("an input of"):
            label, values = "input", part.removeprefix("an input of ")
        for v in map(int, values.split(" or ")):
            if label == "padding":
                assert WindowAxis(size, kernel, stride, v, dilation).fits
            elif label == "stride":
                assert WindowAxis(size, kernel, v, padding, dilation).fits
            else:
                assert WindowAxis(v, kernel, stride, padding, dilation).fits


def test_the_lectures_lines() -> None:
    conv = conv_arithmetic((3, 227, 227), 96, 11, 4)
    assert conv.explain() == [
        "output  (227 - 11 + 2·0)/4 + 1 = 55",
        "params  11·11·3·96 + 96 = 34,944",
        "MACs    55·55·96 · 11·11·3 = 105,415,200",
    ]
    grouped = conv_arithmetic((96, 27, 27), 256, 5, padding=2, groups=2)
    assert grouped.explain()[1] == "params  5·5·(96/2)·256 + 256 = 307,456"


def test_cs231n_misfit_7x7_stride_3() -> None:
    axis = window_axis(7, 3, stride=3)
    assert not axis.fits and axis.output == 2 and axis.dropped == 1
    assert axis.formula() == "(7 - 3 + 2·0)/3 + 1 = 2.33 → 2 (floored)"
    assert axis.suggestions() == "fits with padding 1, or stride 2 or 4, or an input of 6 or 9"


def test_padding_only_leftover_is_harmless() -> None:
    """ResNet's 3x3 stride-2 on 56: the floor drops only right padding, no pixel."""
    axis = window_axis(56, 3, stride=2, padding=1)
    assert not axis.fits and axis.dropped == 0
    # A 1x1 stride-2 shortcut skips every other pixel anyway: the last one is no extra loss.
    assert window_axis(56, 1, stride=2).dropped == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (((3, 7, 7), 8, 9), "a window of 9 does not fit an input of 7"),
        (((3, 7, 7), 8, 3, -1), "must be >= 1"),
        (((3, 7, 7), 8, 3, 1, -1), "padding >= 0"),
        (((3, 7, 7), 8, 3, 1, 0, 1, 2), "groups 2 must divide"),
        (((0, 7, 7), 8, 3), "must be >= 1"),
    ],
)
def test_bad_geometry_is_refused_with_what_would_fit(args: tuple, message: str) -> None:
    with pytest.raises(GeometryError, match=message):
        conv_arithmetic(*args)


def test_receptive_field_recurrence() -> None:
    # AlexNet: conv1 11/4, pool 3/2, conv2 5/1 p2 -> 11, 19, 51 (jumps 4, 8, 8)
    f = Field().through(11, 4).through(3, 2)
    assert (f.size, f.jump) == (19, 8)
    f = f.through(5, 1, 2)
    assert (f.size, f.jump, f.padding) == (51, 8, 16)
    # Dilation 2 widens a 3x3 to 5 taps.
    assert Field().through(3, 1, 2, dilation=2).size == 5
    assert Field(3, 1, 1).union(4).size == 6
