"""The viz commands draw from freshly trained LeNet-5 and ResNet-20 runs; Grad-CAM is checked
against its definition computed by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from matplotlib.backends.backend_agg import FigureCanvasAgg
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
    (cam,) = run.glob("cam-*-test5.png")  # the layer, the class and the image in its name
    for name in (
        "filters.png",
        f"activations-{layer}-test5.png",
        cam.name,
        "curves.png",
        "confusion.png",
    ):
        assert str(run / name) in written or name == "confusion.png"
        assert_picture(run / name, min_width=380)
    # another image, or another class, is another picture: none overwrites the other
    assert main(["viz", "cam", str(run), "--index", "6", "--class", "Bag"]) == 0
    assert len(list(run.glob("cam-*-test5.png"))) == 1 and list(run.glob("cam-*-Bag-test6.png"))
    with Image.open(cam) as cam:
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


def test_a_step_schedule_draws_its_rate_as_steps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each epoch at the rate it ended with, from its start to its end: a decay is a drop at
    the epoch boundary, not a ramp across the epoch before it; a warm-up is the linear rise it
    is, from a hundredth of the peak, not a staircase; a one-cycle rate stays a line."""
    from cnnzoo.viz import curves

    drawn = []
    save = curves.save
    monkeypatch.setattr(curves, "save", lambda fig, path: drawn.append(fig) or save(fig, path))

    def rows(rates: list[float]) -> list[dict[str, float]]:
        return [
            {"epoch": epoch, "train_top1": 50, "test_top1": 60, "train_loss": 1, "test_loss": 1}
            | {"lr": lr}
            for epoch, lr in enumerate(rates, 1)
        ]

    decay = rows([0.1, 0.1, 0.01, 0.01])
    warm = rows([0.05, 0.1, 0.1, 0.01])
    configs = {
        "step": {"schedule": "multistep"},
        "warm": {"schedule": "step", "warmup_epochs": 2.0},
        "half": {"schedule": "multistep", "warmup_epochs": 0.5},
        "ramp": {"schedule": "onecycle", "warmup_epochs": 1.0},
        # a warm-up of 5 epochs in a run of 4 (training warns): the rise stops where it ended,
        # 80% of the way from a hundredth of the base rate to it
        "long": {"schedule": "step", "warmup_epochs": 5.0, "lr": 0.2},
    }
    runs = {"step": [decay], "warm": [warm], "half": [decay], "ramp": [decay], "long": [decay]}
    curves.plot_curves(runs, tmp_path / "c.png", configs=configs)
    step, warmup, half, ramp, long = (
        (list(line.get_xdata()), list(line.get_ydata())) for line in drawn[0].axes[2].get_lines()
    )
    assert step == ([0, 1, 1, 2, 2, 3, 3, 4], [0.1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.01])
    assert warmup == ([0, 2, 2, 3, 3, 4], [0.001, 0.1, 0.1, 0.1, 0.01, 0.01])
    assert half[0][:4] == [0, 0.5, 0.5, 1] and half[1][:4] == [0.001, 0.1, 0.1, 0.1]
    assert ramp == ([1, 2, 3, 4], [0.1, 0.1, 0.01, 0.01])
    assert long[0] == [0, 4] and long[1] == pytest.approx([0.002, 0.2 * (0.01 + 0.99 * 0.8)])
    assert_picture(tmp_path / "c.png")


def test_titles_fit_their_figures_and_clear_the_pictures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A narrow figure wraps its title inside both edges, above every panel (LeNet-5's six
    filters once drew their title over the first row; a long activations title ran off)."""
    from cnnzoo.viz import _common, activations, filters

    drawn = []
    save = _common.save

    def keep(fig: Any, path: Path) -> Path:
        drawn.append(fig)
        return save(fig, path)

    monkeypatch.setattr(filters, "save", keep)
    monkeypatch.setattr(activations, "save", keep)
    plot_filters(cnnzoo.create_model("lenet5"), tmp_path / "f.png", "lenet5, freshly initialised")
    long = "lenet5 on fashion-mnist, test image 5 (Ankle boot): features.c1, " * 3
    activations.plot_activations(
        torch.rand(6, 28, 28), np.random.rand(32, 32), tmp_path / "a.png", long
    )
    for fig in drawn:
        canvas = FigureCanvasAgg(fig)
        canvas.draw()  # lays the figure out as saving did
        renderer = canvas.get_renderer()
        box = fig._suptitle.get_window_extent(renderer)
        assert box.x0 >= 0 and box.x1 <= fig.bbox.width, "the title runs past an edge"
        for axis in fig.get_axes():
            if axis.images:  # a picture panel
                assert axis.get_window_extent(renderer).y1 <= box.y0 + 1, "title over a panel"
