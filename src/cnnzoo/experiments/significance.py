"""Welch's t-test for a claim that one arm beats another over a few seeds.

A difference larger than the seeds' standard deviation is no test: with two seeds each, arms
that are alike pass it by chance one time in six. Welch's test allows the two arms
different spreads (a deeper network varies more than a shallow one), and needs no package
beyond the standard library: the Student t distribution's tail is the regularized incomplete
beta function, computed here by its continued fraction (Numerical Recipes §6.4, Lentz's
method).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["LEVEL", "Welch", "welch"]

LEVEL = 0.05  # one-sided: the claim names the direction in advance


@dataclass(frozen=True)
class Welch:
    """``t`` of mean(worse) - mean(better) in the claim's direction, its degrees of freedom
    and the one-sided p-value of a difference at least that large if the arms were alike."""

    t: float
    df: float
    p: float

    def text(self, n_better: int, n_worse: int, reverse: bool = False) -> str:
        """The test as a verdict quotes it; ``reverse``: the p-value of the other direction."""
        seeds = f"{n_better} seeds each" if n_better == n_worse else f"{n_better}+{n_worse} seeds"
        if math.isinf(self.df):
            return f"no spread among the seeds: the difference decides, {seeds}"
        p = 1 - self.p if reverse else self.p
        shown = "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
        return f"Welch's t-test, one-sided {shown} at level {LEVEL}, {seeds}"


def welch(better: Sequence[float], worse: Sequence[float]) -> Welch:
    """The test that ``better`` is lower than ``worse`` (negate both for higher-is-better).
    Two values at least on each side; equal values on both sides give p = 0.5 or 0/1."""
    if len(better) < 2 or len(worse) < 2:
        raise ValueError("Welch's t-test needs at least two values on each side")
    difference = statistics.fmean(worse) - statistics.fmean(better)
    va, vb = statistics.variance(better) / len(better), statistics.variance(worse) / len(worse)
    if va + vb == 0:  # no spread at all: the difference decides
        p = 0.0 if difference > 0 else 1.0 if difference < 0 else 0.5
        return Welch(math.copysign(math.inf, difference) if difference else 0.0, math.inf, p)
    t = difference / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (len(better) - 1) + vb**2 / (len(worse) - 1))
    return Welch(t, df, _upper_tail(t, df))


def _upper_tail(t: float, df: float) -> float:
    """P(T > t) for Student's t with ``df`` degrees of freedom."""
    half = 0.5 * _incomplete_beta(df / (df + t * t), df / 2, 0.5)
    return half if t > 0 else 1 - half


def _incomplete_beta(x: float, a: float, b: float) -> float:
    """The regularized incomplete beta function I_x(a, b)."""
    if x <= 0 or x >= 1:
        return 0.0 if x <= 0 else 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1) / (a + b + 2):  # the fraction converges fast here; else use the symmetry
        return math.exp(log_front) * _fraction(x, a, b) / a
    return 1 - math.exp(log_front) * _fraction(1 - x, b, a) / b


def _fraction(x: float, a: float, b: float) -> float:
    """The continued fraction of I_x(a, b), evaluated by Lentz's method."""
    tiny, c, d = 1e-300, 1.0, 1 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    value = d
    for m in range(1, 300):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1 + numerator * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + numerator / c
            c = c if abs(c) > tiny else tiny
            value *= c * d
        if abs(c * d - 1) < 1e-15:
            break
    return value
