"""The viz commands draw from freshly trained LeNet-5 and ResNet-20 runs; Grad-CAM is checked
against its definition computed by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

import cnnzoo
from cnnzoo.cli import main
from cnnzoo.viz import activation_maps, cam_layer, first_conv, grad_cam, plot_filters
from tests.helpers import assert_picture, needs_data


@needs_data
@pytest.mark.parametrize("model", ["lenet5", "resnet20"])
def test_viz_commands_draw_from_a_trained_run(
    model: str, runs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    run = runs[model]
    assert main(["viz", "filters", str(run)]) == 0
    assert main(["viz", "activations", str(run), "--index", "5"]) == 0
    assert main(["viz", "cam", str(run), "--index", "5"]) == 0
    assert main(["viz", "curves", str(run)]) == 0
    assert main(["viz", "confusion", str(run)]) == 0
    assert main(["viz", "confusion", str(run), "--output", str(run / "matrix.png")]) == 0
    written = capsys.readouterr().out
    assert f"confusion matrix: {run / 'matrix.png'}" in written
    assert_picture(run / "matrix.png", min_width=380)
    layer = first_conv(cnnzoo.create_model(model))[0].replace(".", "-")
    for name in (
        "filters.png",
        f"activations-{layer}.png",
        "cam.png",
        "curves.png",
        "confusion.png",
    ):
        assert str(run / name) in written or name == "confusion.png"
        assert_picture(run / name, min_width=380)
    with Image.open(run / "cam.png") as cam:
        assert cam.width > 1000  # input, map and overlay side by side


@needs_data
def test_viz_errors_say_what_would_be_right(
    runs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    run = str(runs["lenet5"])
    assert main(["viz", "activations", run, "--layer", "features.c11"]) == 2
    assert "no layer 'features.c11'; did you mean features.c1" in capsys.readouterr().err
    assert main(["viz", "cam", run, "--class", "Boot"]) == 2
    assert "expected one of T-shirt/top, Trouser" in capsys.readouterr().err
    assert main(["viz", "cam", run, "--index", "10000"]) == 2
    assert "test set has 10000 images" in capsys.readouterr().err


def test_filters_of_an_rgb_model_are_drawn_in_colour(tmp_path: Path) -> None:
    torch.manual_seed(0)
    path = plot_filters(cnnzoo.create_model("alexnet"), tmp_path / "alexnet.png")
    with Image.open(path) as image:
        rgb = np.asarray(image.convert("RGB"), dtype=float)
    assert np.abs(rgb[..., 0] - rgb[..., 1]).mean() > 1  # colour, not grey
    assert_picture(path)


def test_activation_maps_are_the_layer_outputs() -> None:
    model = cnnzoo.create_model("lenet5", num_classes=10, in_chans=1).eval()
    x = torch.randn(1, 1, 32, 32)
    name, conv = first_conv(model)
    maps = activation_maps(model, x, [name])[name]
    assert maps.shape == (1, 6, 28, 28)
    assert torch.allclose(maps, conv(x))


def test_grad_cam_is_the_gradient_weighted_sum_of_the_maps() -> None:
    """Selvaraju et al. 2017, Eq. 1-2: α_k = mean over positions of ∂y_c/∂A_k;
    L = ReLU(Σ_k α_k A_k), here upsampled to the input and scaled to a maximum of 1."""
    torch.manual_seed(0)
    model = cnnzoo.create_model("resnet20", num_classes=10, in_chans=1).eval()
    x = torch.randn(1, 1, 28, 28)
    layer = cam_layer(model, x)
    assert layer == "layer3"  # 7x7 maps, the last stage before global pooling
    captured = {}
    handle = model.layer3.register_forward_hook(lambda _m, _i, out: captured.update(a=out))
    score = model(x)[0, 4]
    handle.remove()
    (grads,) = torch.autograd.grad(score, captured["a"])
    alpha = grads.mean(dim=(2, 3), keepdim=True)
    expected = F.relu((alpha * captured["a"]).sum(1, keepdim=True)).detach()
    expected = F.interpolate(expected, size=(28, 28), mode="bilinear")[0, 0]
    expected = expected / expected.max()
    heat = grad_cam(model, x, layer, target=4)
    assert heat.shape == (28, 28)
    assert torch.allclose(heat, expected, atol=1e-5)
    assert heat.max() == 1 and heat.min() >= 0


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            '{"epoch": 1, "lr": 0.1, "train_top1": 50, "test_top1": 40, "test_loss": 1}',
            "line 2: no number for train_loss",
        ),
        (
            '{"epoch": 1, "lr": 0.1, "train_loss": "x", "train_top1": 50, "test_top1": 40, '
            '"test_loss": NaN}',
            "no number for test_loss, train_loss",
        ),
        ("[1, 2]", "no number for epoch"),
        ('{"epoch": 1, "lr', "line 2: not JSON"),
    ],
)
def test_a_damaged_metrics_log_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, message: str
) -> None:
    """The soak's fuzz found rows missing a field drawn as a KeyError traceback."""
    good = (
        '{"epoch": 0, "lr": 0.1, "train_loss": 2.0, "train_top1": 10, "test_loss": 2.0, '
        '"test_top1": 10}'
    )
    (tmp_path / "metrics.jsonl").write_text(f"{good}\n{line}\n")
    assert main(["viz", "curves", str(tmp_path), "--output", str(tmp_path / "c.png")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "c.png").exists()


def test_pictures_leave_matplotlib_as_they_found_it(tmp_path: Path) -> None:
    """The viz modules called matplotlib.use("Agg") on import, switching a notebook's backend,
    and drew through pyplot's global figure list."""
    import subprocess
    import sys

    code = (
        "import matplotlib; matplotlib.use('svg'); import matplotlib.pyplot as plt\n"
        "import cnnzoo.viz, cnnzoo, sys\n"
        "model = cnnzoo.create_model('lenet5_modern', num_classes=10, in_chans=1)\n"
        f"cnnzoo.viz.plot_filters(model, {str(tmp_path / 'f.png')!r}, 'filters')\n"
        "print(matplotlib.get_backend(), plt.get_fignums())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["svg", "[]"]
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"
