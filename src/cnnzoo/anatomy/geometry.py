"""The arithmetic of sliding windows, as CS231n teaches it, with the work shown.

Output size ``(N - F + 2P)/S + 1`` (with a dilated kernel ``F = D·(K - 1) + 1``), parameters
``F·F·D1·K + K``, multiply-accumulates, and the receptive field recurrence of Araujo et al.,
"Computing Receptive Fields of Convolutional Neural Networks" (Distill, 2019):
``r ← r + (F - 1)·j``, ``j ← j·S``, ``P ← P + p·j``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cnnzoo.errors import ConfigError

__all__ = [
    "MAX_SIDE",
    "ConvArithmetic",
    "Field",
    "GeometryError",
    "GeometryWarning",
    "WindowAxis",
    "conv_arithmetic",
    "describe_misfit",
    "parse_size",
    "pool_formula",
    "window_axis",
]

# Beyond this a size is a typo, and tensor sizes (products of these) would overflow int64.
MAX_SIDE = 65_536


def parse_size(text: str) -> tuple[int, int, int]:
    """An input size as people write it: '3x224x224' (C x H x W) or '224' (a square RGB
    image); the command line's ``--input`` and the lab's input field."""
    parts = re.fullmatch(r"\s*(\d+)\s*(?:[xX×]\s*(\d+)\s*[xX×]\s*(\d+))?\s*", text)
    if parts is None:
        raise ConfigError(f"input {text!r} is not a size: write CxHxW like 3x224x224, or 224")
    if parts[2] is None:
        side = int(parts[1])
        size = (3, side, side)
    else:
        size = (int(parts[1]), int(parts[2]), int(parts[3]))
    if min(size) < 1:
        raise ConfigError(f"input {text!r}: channels, height and width must all be >= 1")
    if max(size) > MAX_SIDE:
        raise ConfigError(f"input {text!r}: at most {MAX_SIDE:,} channels, rows or columns")
    return size


class GeometryError(ConfigError):
    """A window that does not fit its input: the message names the numbers and what would fit."""


class GeometryWarning(UserWarning):
    """A window that PyTorch silently floors: the last rows or columns of the input are unused."""


def _dot(*factors: int | str) -> str:
    return "·".join(str(f) for f in factors)


@dataclass(frozen=True)
class WindowAxis:
    """One spatial axis of a convolution or pooling window over its input."""

    size: int  # N, the input length along this axis
    kernel: int  # K, the window's taps
    stride: int  # S
    padding: int  # P on each side
    dilation: int = 1  # D; the window spans D·(K - 1) + 1 input positions
    ceil_mode: bool = False  # pooling that rounds up (GoogLeNet): the last window may overhang

    @property
    def span(self) -> int:
        """The input positions one window covers, ``D·(K - 1) + 1``."""
        return self.dilation * (self.kernel - 1) + 1

    @property
    def exact(self) -> float:
        """``(N - F + 2P)/S + 1`` before any rounding."""
        return (self.size - self.span + 2 * self.padding) / self.stride + 1

    @property
    def output(self) -> int:
        """The length PyTorch produces (floor, or ceil in ceil mode)."""
        steps = self.size - self.span + 2 * self.padding
        if self.ceil_mode:
            out = -(-steps // self.stride) + 1
            # PyTorch drops a last window that would start inside the right padding.
            if (out - 1) * self.stride >= self.size + self.padding:
                out -= 1
            return out
        return steps // self.stride + 1

    @property
    def fits(self) -> bool:
        """Every input position is reached and no window is cut: the division is exact."""
        return (self.size - self.span + 2 * self.padding) % self.stride == 0

    @property
    def dropped(self) -> int:
        """Input positions at the far edge that no window reaches.

        What the floor leaves over is harmless when it is only padding, or no more than the gap a
        stride wider than the window leaves between any two windows (a 1x1 conv of stride 2).
        """
        if self.ceil_mode:
            return 0
        leftover = (self.size + 2 * self.padding - self.span) % self.stride
        return max(0, leftover - self.padding - max(0, self.stride - self.span))

    def formula(self) -> str:
        """``(227 - 11 + 2·0)/4 + 1 = 55``, with the numbers of this axis filled in."""
        span = (
            str(self.kernel)
            if self.dilation == 1
            else f"({_dot(self.dilation, f'({self.kernel}-1)')}+1)"
        )
        pad = f" + {_dot(2, self.padding)}"
        inner = f"{self.size} - {span}{pad}"
        if self.ceil_mode:
            text = f"⌈({inner})/{self.stride}⌉ + 1 = {self.output}"
        elif self.fits:
            text = f"({inner})/{self.stride} + 1 = {self.output}"
        else:
            exact = round(self.exact, 2)
            text = f"({inner})/{self.stride} + 1 = {exact:g} → {self.output} (floored)"
        return text

    def suggestions(self) -> str:
        """Paddings, strides and input sizes that would make this axis fit."""
        steps = self.size - self.span
        paddings = [p for p in range(0, self.span) if (steps + 2 * p) % self.stride == 0]
        paddings.sort(key=lambda p: (abs(p - self.padding), p))
        strides = [
            s
            for s in range(1, max(2 * self.stride, self.span) + 1)
            if (steps + 2 * self.padding) % s == 0 and s != self.stride
        ]
        strides.sort(key=lambda s: (abs(s - self.stride), s))
        smallest = max(1, self.span - 2 * self.padding)
        sizes = [
            n
            for n in range(smallest, max(self.size, smallest) + self.stride + 1)
            if (n - self.span + 2 * self.padding) % self.stride == 0
        ]
        sizes.sort(key=lambda n: (abs(n - self.size), n))
        parts = []
        if paddings:
            parts.append("padding " + " or ".join(map(str, paddings[:2])))
        if strides:
            parts.append("stride " + " or ".join(map(str, strides[:2])))
        if sizes:
            parts.append("an input of " + " or ".join(map(str, sizes[:2])))
        return "fits with " + ", or ".join(parts)

    def check(self) -> None:
        """Refuse a window larger than the padded input, as a person would say it."""
        if min(self.kernel, self.stride, self.dilation) < 1 or self.padding < 0 or self.size < 1:
            raise GeometryError(
                f"size {self.size}, kernel {self.kernel}, stride {self.stride}, padding "
                f"{self.padding}, dilation {self.dilation}: sizes, kernels, strides and dilations "
                "must be >= 1 and padding >= 0"
            )
        if self.span > self.size + 2 * self.padding:
            raise GeometryError(
                f"a window of {self.span} does not fit an input of {self.size} padded by "
                f"{self.padding} on each side ({self.size + 2 * self.padding}): use a kernel of at "
                f"most {self.size + 2 * self.padding} or a padding of at least "
                f"{-(-(self.span - self.size) // 2)}"
            )


def window_axis(
    size: int,
    kernel: int,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> WindowAxis:
    """A checked :class:`WindowAxis`: a kernel larger than the padded input is refused."""
    axis = WindowAxis(size, kernel, stride, padding, dilation, ceil_mode)
    axis.check()
    return axis


@dataclass(frozen=True)
class Field:
    """The receptive field of one unit along one axis (Araujo et al. 2019).

    Unit ``i`` of a feature map sees input pixels ``i·jump - padding`` to
    ``i·jump - padding + size - 1``; ``offset`` is the centre of unit 0's field.
    """

    size: int = 1  # r: input pixels one unit sees
    jump: int = 1  # effective stride: input pixels between neighbouring units
    padding: int = 0  # effective padding: how far unit 0's field reaches left of the image

    @property
    def offset(self) -> float:
        return (self.size - 1) / 2 - self.padding

    def through(self, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> Field:
        """The field after a window of ``kernel`` taps (dilated by ``dilation``)."""
        span = dilation * (kernel - 1) + 1
        return Field(
            self.size + (span - 1) * self.jump,
            self.jump * stride,
            self.padding + padding * self.jump,
        )

    def union(self, units: int) -> Field:
        """The field of a unit that sees ``units`` neighbouring units (global pooling, flatten)."""
        return Field(self.size + (units - 1) * self.jump, self.jump * units, self.padding)


@dataclass(frozen=True)
class ConvArithmetic:
    """A convolution layer worked out by hand: the calculator of the notes."""

    in_chans: int
    out_chans: int
    height: WindowAxis
    width: WindowAxis
    groups: int = 1
    bias: bool = True

    @property
    def output_shape(self) -> tuple[int, int, int]:
        return (self.out_chans, self.height.output, self.width.output)

    @property
    def weights(self) -> int:
        return (
            self.height.kernel * self.width.kernel * self.in_chans // self.groups * self.out_chans
        )

    @property
    def params(self) -> int:
        return self.weights + (self.out_chans if self.bias else 0)

    @property
    def macs(self) -> int:
        """Multiply-accumulates per image: one per weight per output position."""
        return self.height.output * self.width.output * self.weights

    @property
    def fits(self) -> bool:
        return self.height.fits and self.width.fits

    def explain(self) -> list[str]:
        """The lecture's lines with this layer's numbers filled in."""
        h, w = self.height, self.width
        if h.formula() == w.formula():
            lines = [f"output  {h.formula()}"]
        else:
            lines = [f"output  H {h.formula()};  W {w.formula()}"]
        chans = str(self.in_chans) if self.groups == 1 else f"({self.in_chans}/{self.groups})"
        bias = f" + {self.out_chans}" if self.bias else ""
        lines.append(
            f"params  {_dot(h.kernel, w.kernel, chans, self.out_chans)}{bias} = {self.params:,}"
        )
        lines.append(
            f"MACs    {_dot(h.output, w.output, self.out_chans)} · "
            f"{_dot(h.kernel, w.kernel, self.in_chans // self.groups)} = {self.macs:,}"
        )
        if misfit := describe_misfit(h, w):
            lines.append(f"misfit  {misfit}")
        return lines


def conv_arithmetic(
    input_size: tuple[int, int, int],
    filters: int,
    kernel: int | tuple[int, int],
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
    bias: bool = True,
) -> ConvArithmetic:
    """Output size, parameters and MACs of one convolution on a (C, H, W) input.

    Bad numbers are refused with a :class:`GeometryError` that says what would be accepted.
    """

    def pair(value: int | tuple[int, int]) -> tuple[int, int]:
        return (value, value) if isinstance(value, int) else value

    c, height, width = input_size
    if c < 1 or filters < 1 or groups < 1:
        raise GeometryError(f"channels {c}, filters {filters}, groups {groups}: all must be >= 1")
    if c % groups or filters % groups:
        raise GeometryError(
            f"groups {groups} must divide both the input channels ({c}) and the filters ({filters})"
        )
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = map(pair, (kernel, stride, padding, dilation))
    return ConvArithmetic(
        c,
        filters,
        window_axis(height, kh, sh, ph, dh),
        window_axis(width, kw, sw, pw, dw),
        groups,
        bias,
    )


def describe_misfit(h: WindowAxis, w: WindowAxis) -> str | None:
    """What a window that drops input rows or columns loses, and what would fit; else None."""
    parts = []
    for label, axis in (("row(s)", h), ("column(s)", w)):
        if axis.dropped:
            parts.append(
                f"{axis.formula()}: {axis.dropped} input {label} at the edge never seen; "
                f"{axis.suggestions()}"
            )
    if len(parts) == 2 and h == w:
        return parts[0].replace("row(s)", "row(s) and column(s)")
    return " | ".join(parts) or None


def pool_formula(axis_h: WindowAxis, axis_w: WindowAxis) -> str:
    """The output line of a pooling layer (pooling has no parameters)."""
    if axis_h.formula() == axis_w.formula():
        return f"output  {axis_h.formula()}"
    return f"output  H {axis_h.formula()};  W {axis_w.formula()}"
