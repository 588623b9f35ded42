"""Every registered model trains through the engine: real optimizer steps at a small input (the
smallest whose last feature map is 2x2) on a few Fashion-MNIST images, a finite loss, every
weight moved by its gradient, and a resume.

Weight decay and momentum are off, so a weight can only move by its gradient: the auxiliary
heads of GoogLeNet move only if the engine trains on the model's own training loss (and the
checkpoints hold no momentum buffers, half the bytes). The fully-connected heads of
AlexNet, ZFNet and VGG (4096 wide in the papers) are built 64 wide, so the test writes megabytes
of checkpoints rather than gigabytes; every other model is built as registered.
"""

from __future__ import annotations

import inspect
import math
from pathlib import Path
from typing import Any

import pytest
import torch

import cnnzoo
from cnnzoo.train import engine, load_checkpoint, resolve_config, train
from tests.helpers import needs_data

ALL = cnnzoo.list_models()
NARROW = {"hidden": 64}  # where the builder takes a width: the 4096-wide FC heads
# Images an epoch: two steps of four. ResNet-1001's evaluation overflows until batch norm's
# running statistics settle (its largest logit is inf after 2 steps, 5e12 after 8): 8 steps.
IMAGES = {"preact_resnet1001": 32}
# plain-110's gradient explodes at initialisation (a global norm of 3.7 million on 64 images,
# the gradient-flow experiment's figure): unclipped, its first step leaves it NaN.
CLIP = {"plain110": 1.0}


def _model_args(name: str) -> dict[str, Any]:
    takes = inspect.signature(cnnzoo.model_info(name).builder).parameters
    return NARROW if "hidden" in takes else {}


def _side(name: str) -> int:
    """The smallest input whose last feature map is 2x2: at the registry's minimum, batch norm
    over one pixel of four images divides by variances near zero (ResNet-1001's gradients
    reach 1e30 there), which says nothing about the model.

    The last map's side grows with the input's, so a bisection finds it, from the least side a
    stack of stride r can take to 2x2 (r + 1): a few forward passes on the meta device, not one
    per side (each costs seconds for ResNet-1202)."""
    info = cnnzoo.model_info(name)
    if info.fixed_input_size:
        return info.input_size[1]
    model = cnnzoo.create_model(name, device="meta").eval()

    def fits(side: int) -> bool:
        image = torch.empty(1, info.input_size[0], side, side, device="meta")
        return bool(model.forward_features(image).shape[-1] >= 2)

    low = max(info.min_input_size[0], model.feature_info[-1].reduction + 1) - 1
    high = low + 1
    while not fits(high):  # doubling: low stays a side that does not fit
        low, high = high, 2 * high
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if fits(middle) else (middle, high)
    return high


@needs_data
@pytest.mark.parametrize("name", ALL)
def test_every_model_trains_through_the_engine_and_resumes(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[dict[str, torch.Tensor]] = []
    build = engine.build_model

    def keep_initial_weights(*args: Any) -> Any:
        model = build(*args)
        built.append({k: v.clone() for k, v in model.state_dict().items()})
        return model

    monkeypatch.setattr(engine, "build_model", keep_initial_weights)
    config = resolve_config(
        name,
        "fast",
        out=str(tmp_path),
        name="run",
        epochs=1,
        batch_size=4,
        train_subset=IMAGES.get(name, 8),
        test_subset=4,
        image_size=_side(name),
        lr=0.01,
        momentum=0.0,  # no momentum buffers: checkpoints of half the size, written faster
        nesterov=False,
        weight_decay=0.0,
        crop_padding=0,  # a crop of a padded 1x1 image is mostly padding
        clip_grad=CLIP.get(name, 0.0),
        threads=1,
        model_args=_model_args(name),
    )
    first = train(config, progress=False)
    row = first.history[0]
    assert math.isfinite(row["train_loss"]) and math.isfinite(first.test.loss)
    assert first.test.count == 4
    after = load_checkpoint(first.run_dir)["model"]
    initial = built[0]
    params = dict(cnnzoo.create_model(name, device="meta", **_model_args(name)).named_parameters())
    weights = [k for k in initial if k in params and initial[k].dim() > 1]
    still = [k for k in weights if torch.equal(initial[k], after[k])]
    assert weights and not still, f"{name}: weights the two steps did not move: {still[:5]}"

    resumed = train(resume=first.run_dir, epochs=2, progress=False)
    assert resumed.epochs == 2 and [r["epoch"] for r in resumed.history] == [1, 2]
    assert math.isfinite(resumed.history[1]["train_loss"])
    final = load_checkpoint(first.run_dir)["model"]
    assert any(not torch.equal(after[k], final[k]) for k in weights)  # the resumed run trained


def _cross_entropy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """By hand: the mean of -log softmax at the target."""
    log_p = logits - logits.exp().sum(1, keepdim=True).log()
    return -log_p[torch.arange(len(target)), target].mean()


@needs_data
def test_googlenet_trains_on_main_plus_0_3_times_each_auxiliary_loss(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """§5 through the engine: the loss of a one-step epoch is main + 0.3·(aux1 + aux2), each
    computed here by hand from the three heads' outputs in that step; the run then evaluates
    (auxiliaries dropped) and resumes, and `cnnzoo eval` reads it."""
    from cnnzoo.cli import main
    from cnnzoo.models.googlenet import GoogLeNet

    seen: list[tuple[Any, torch.Tensor]] = []
    forward_aux, training_loss = GoogLeNet.forward_aux, GoogLeNet.training_loss

    def spy_aux(self: GoogLeNet, x: torch.Tensor) -> Any:
        out = forward_aux(self, x)
        seen.append((tuple(t.detach() for t in out), torch.empty(0)))
        return out

    def spy_loss(self: GoogLeNet, x: torch.Tensor, target: torch.Tensor, criterion: Any) -> Any:
        result = training_loss(self, x, target, criterion)
        seen[-1] = (seen[-1][0], target)
        return result

    monkeypatch.setattr(GoogLeNet, "forward_aux", spy_aux)
    monkeypatch.setattr(GoogLeNet, "training_loss", spy_loss)
    config = resolve_config(
        "googlenet",
        "fast",
        out=str(tmp_path),
        name="g",
        epochs=1,
        batch_size=4,
        train_subset=4,
        test_subset=8,
        image_size=63,
        label_smoothing=0.0,
        threads=1,
    )
    run = train(config, progress=False)
    assert len(seen) == 1
    (logits, aux2, aux1), target = seen[0]
    by_hand = _cross_entropy(logits, target) + 0.3 * (
        _cross_entropy(aux1, target) + _cross_entropy(aux2, target)
    )
    assert run.history[0]["train_loss"] == pytest.approx(by_hand.item(), rel=1e-5)
    assert by_hand.item() != pytest.approx(_cross_entropy(logits, target).item(), rel=1e-3)
    assert run.test.count == 8 and math.isfinite(run.test.loss)

    resumed = train(resume=run.run_dir, epochs=2, progress=False)
    assert resumed.epochs == 2
    assert main(["eval", str(run.run_dir)]) == 0
