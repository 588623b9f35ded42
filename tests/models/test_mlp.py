"""The fully-connected baseline: its size worked out by hand, and what it refuses."""

from __future__ import annotations

import pytest
import torch

import cnnzoo
from cnnzoo.errors import ConfigError
from cnnzoo.models import InputSizeError


def dense(cin: int, cout: int) -> int:
    return cin * cout + cout


def test_the_papers_300_100_net_on_flattened_pixels() -> None:
    model = cnnzoo.create_model("mlp")
    assert model.num_params() == dense(784, 300) + dense(300, 100) + dense(100, 10) == 266_610
    assert model(torch.rand(3, 1, 28, 28)).shape == (3, 10)
    # 4.3 times LeNet-5's 61,706 (the softmax build the experiment compares it with)
    lenet = cnnzoo.create_model("lenet5_modern").num_params()
    assert round(model.num_params() / lenet, 1) == 4.3


def test_widths_the_experiment_uses_and_the_linear_classifier() -> None:
    budget = cnnzoo.create_model("mlp", hidden=[78])
    assert budget.num_params() == dense(784, 78) + dense(78, 10) == 62_020
    linear = cnnzoo.create_model("mlp", hidden=[], in_chans=3)
    assert linear.num_params() == dense(3 * 784, 10)
    assert linear(torch.rand(2, 3, 28, 28)).shape == (2, 10)


def test_features_pre_logits_and_a_new_classifier() -> None:
    model = cnnzoo.create_model("mlp", act="tanh")
    x = torch.rand(2, 1, 28, 28)
    features = model.forward_head(model.forward_features(x), pre_logits=True)
    assert features.shape == (2, 100) and features.abs().max() < 1  # tanh's range
    model.reset_classifier(5)
    assert model(x).shape == (2, 5) and model.get_classifier().out_features == 5
    model.reset_classifier(0)
    assert model(x).shape == (2, 100)


def test_sizes_it_cannot_take_are_refused_with_the_fix() -> None:
    with pytest.raises(InputSizeError, match="exactly 28x28"):
        cnnzoo.create_model("mlp")(torch.rand(1, 1, 32, 32))
    with pytest.raises(ConfigError, match="1 or more units"):
        cnnzoo.create_model("mlp", hidden=[300, 0])
