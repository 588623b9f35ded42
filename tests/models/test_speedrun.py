"""The speed route's net, held to the arithmetic of its own table (it has no paper of its own)."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import cnnzoo
from cnnzoo.errors import ConfigError
from cnnzoo.models.speedrun import GROUPS, LOGIT_SCALE, STEM


def test_its_size_is_its_table_worked_out_by_hand() -> None:
    model = cnnzoo.create_model("speedrun")
    # 3x3 convolutions without bias; batch norms learn a shift only; the linear layer has one
    convs = 9 * 1 * STEM + sum(
        9 * cin * w + 9 * w * w for cin, (w, _) in zip((STEM, 32, 64), GROUPS, strict=True)
    )
    shifts = STEM + sum(2 * w for w, _ in GROUPS)
    assert model.num_params() == convs + shifts + 128 * 10 + 10 == 294_586
    # every pixel of each map: the stem at 28x28, each group's first conv before its pooling
    # and its second after it (14 -> 7 -> 3 -> 1)
    macs = 9 * STEM * 28 * 28
    macs += 9 * STEM * 32 * 14**2 + 9 * 32 * 32 * 7**2
    macs += 9 * 32 * 64 * 7**2 + 9 * 64 * 64 * 3**2
    macs += 9 * 64 * 128 * 3**2 + 9 * 128 * 128 * 1**2
    macs += 128 * 10
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model.eval()(torch.zeros(1, 1, 28, 28))
    assert counter.get_total_flops() / 2 == macs == 4_022_912  # a tenth of ResNet-20's 41M


def test_batch_norms_learn_no_scale_and_the_logits_are_scaled_down() -> None:
    model = cnnzoo.create_model("speedrun")
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(norms) == 7
    assert all(not m.weight.requires_grad and m.bias.requires_grad for m in norms)
    x = torch.randn(4, 1, 28, 28)
    pooled = model.forward_head(model.forward_features(x), pre_logits=True)
    assert torch.allclose(model(x), model.fc(pooled) * LOGIT_SCALE)
    headless = cnnzoo.create_model("speedrun", num_classes=0).eval()
    features = headless.forward_head(headless.forward_features(x), pre_logits=True)
    assert torch.equal(headless(x), features) and features.shape == (4, 128)  # not scaled
    info = cnnzoo.model_info("speedrun")
    assert not info.faithful and "not a paper's model" in info.deviations[0]


def test_its_stages_and_the_smallest_input() -> None:
    model = cnnzoo.create_model("speedrun", features_only=True)
    maps = model(torch.zeros(2, 1, 28, 28))
    assert [tuple(m.shape[1:]) for m in maps] == [
        (24, 14, 14),
        (32, 7, 7),
        (64, 3, 3),
        (128, 1, 1),
    ]
    assert [f.reduction for f in model.feature_info] == [2, 4, 8, 16]
    net = cnnzoo.create_model("speedrun", in_chans=3, num_classes=100)
    assert net(torch.zeros(2, 3, 16, 16)).shape == (2, 100)
    with pytest.raises(cnnzoo.InputSizeError, match="at least 16x16"):
        net(torch.zeros(2, 3, 15, 15))
    kept = cnnzoo.create_model("speedrun", groups=((32, True), (64, True), (128, False)))
    assert kept.forward_features(torch.zeros(2, 1, 28, 28)).shape == (2, 128, 3, 3)
    with pytest.raises(ConfigError, match="positive channel counts"):
        cnnzoo.create_model("speedrun", groups=((0, True),))
