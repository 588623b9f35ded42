"""The probes: gradients at every activation and the shifted test, against figures worked out
another way."""

from __future__ import annotations

import copy
import itertools
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import cnnzoo
from cnnzoo.errors import ConfigError
from cnnzoo.experiments.probes import (
    activation_gradients,
    decades,
    gradient_flow,
    shift_images,
    shifted_test,
)
from cnnzoo.train import train
from cnnzoo.train.folder import RunFolder
from tests.helpers import needs_data, small_config


def test_the_gradient_at_a_hidden_layer_is_the_chain_rule_by_hand() -> None:
    torch.manual_seed(0)
    model = cnnzoo.create_model("mlp", hidden=[7], act="tanh", num_classes=3)
    x, y = torch.rand(5, 1, 28, 28), torch.tensor([0, 1, 2, 1, 0])
    (norm,) = activation_gradients(model, x, y)
    # dL/dh = (softmax - onehot) W2 / B for the mean cross-entropy over the batch
    fc1, fc2 = model.hidden.fc1, model.fc
    hidden = torch.tanh(x.flatten(1) @ fc1.weight.T + fc1.bias)
    probs = (hidden @ fc2.weight.T + fc2.bias).softmax(1)
    by_hand = (probs - F.one_hot(y, 3)) @ fc2.weight / 5
    assert norm == pytest.approx(by_hand.norm().item(), rel=1e-5)
    assert all(p.grad is None for p in model.parameters())  # measured, nothing left behind


def test_in_place_relus_measure_what_out_of_place_ones_do() -> None:
    """A ResNet block's ReLU acts in place and twice: every use is one activation."""
    torch.manual_seed(0)
    model = cnnzoo.create_model("resnet20", num_classes=10, in_chans=1)
    copied = copy.deepcopy(model)
    for module in copied.modules():
        if isinstance(module, torch.nn.ReLU):
            module.inplace = False
    x, y = torch.randn(8, 1, 28, 28), torch.arange(8)
    in_place, out_of_place = activation_gradients(model, x, y), activation_gradients(copied, x, y)
    assert len(in_place) == 19 and in_place == pytest.approx(out_of_place, rel=1e-5)


def test_sigmoids_shrink_the_gradient_at_every_layer_relus_do_not() -> None:
    """The notes' argument on 20 layers without batch norm: sigmoid's slope is at most 1/4."""
    torch.manual_seed(0)
    x, y = torch.randn(16, 1, 28, 28), torch.arange(16) % 10
    norms = {}
    for act in ("sigmoid", "relu"):
        model = cnnzoo.create_model(
            "plain20", num_classes=10, in_chans=1, act=act, batch_norm=False
        )
        norms[act] = activation_gradients(model, x, y)
    sigmoid = norms["sigmoid"]
    assert all(a < b for a, b in itertools.pairwise(sigmoid))  # shrinks toward the input
    assert decades(sigmoid) > 6 and decades(norms["relu"]) < 1.5


def test_decades_between_first_and_last() -> None:
    assert decades([1e-3, 5.0, 1e-1]) == pytest.approx(2.0)
    assert decades([1e-1, 1e-3]) == pytest.approx(2.0)  # stronger at the input counts the same
    assert decades([0.0, 1.0]) == pytest.approx(-math.log10(torch.finfo(torch.float32).tiny))


@pytest.mark.parametrize(("down", "right"), [(0, 0), (3, 0), (-2, 0), (0, 4), (0, -1), (2, -3)])
def test_shifted_images_move_and_leave_black_behind(down: int, right: int) -> None:
    images = torch.randint(1, 255, (2, 1, 6, 7), dtype=torch.uint8)
    moved = np.roll(images.numpy(), (down, right), axis=(2, 3))
    if down > 0:
        moved[:, :, :down] = 0
    if down < 0:
        moved[:, :, down:] = 0
    if right > 0:
        moved[:, :, :, :right] = 0
    if right < 0:
        moved[:, :, :, right:] = 0
    assert np.array_equal(shift_images(images, down, right).numpy(), moved)


def test_a_shift_beyond_the_image_is_refused() -> None:
    with pytest.raises(ConfigError, match="out of view"):
        shift_images(torch.zeros(1, 1, 4, 4, dtype=torch.uint8), 4, 0)


@needs_data
def test_probes_of_a_trained_run(tmp_path: Path) -> None:
    config = small_config(tmp_path, "mlp", model="mlp", epochs=1, test_views="center")
    run = train(config, progress=False)
    shifted = shifted_test(config, run.run_dir)
    errors = shifted.series["shift_error"]
    # unshifted, the probe's error is the run's own evaluation of its final weights
    final = RunFolder(run.run_dir).read_metrics()[-1]
    assert errors[0] == pytest.approx(100 - final["test_top1"], abs=1e-9)
    assert len(errors) == 5 and shifted.figures["shift_error"] == pytest.approx(sum(errors[1:]) / 4)
    assert shifted.figures["shift_rise"] == pytest.approx(
        shifted.figures["shift_error"] - errors[0]
    )
    assert errors[4] > errors[0]  # an MLP's error grows as the items move 4 pixels
    flow = gradient_flow(config, run.run_dir)
    assert len(flow.series["grad_init"]) == len(flow.series["grad_trained"]) == 2  # 300, 100
    assert flow.series["grad_init"] != flow.series["grad_trained"]
    assert flow.figures["grad_decades_init"] == pytest.approx(decades(flow.series["grad_init"]))
