"""Reusable building blocks shared by the model families."""

from cnnzoo.layers.activations import ACTIVATIONS, Activation, ScaledTanh, activation
from cnnzoo.layers.conv import BasicConv2d, PartialConv2d
from cnnzoo.layers.lrn import LocalResponseNorm
from cnnzoo.layers.pooling import TrainableSubsampling
from cnnzoo.layers.shortcuts import PadShortcut

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "BasicConv2d",
    "LocalResponseNorm",
    "PadShortcut",
    "PartialConv2d",
    "ScaledTanh",
    "TrainableSubsampling",
    "activation",
]
