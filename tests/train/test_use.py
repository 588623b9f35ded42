"""Using a trained run: `cnnzoo eval`, `predict`, `export`, and starting from given weights."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors import safe_open
from safetensors.torch import load_file

from cnnzoo import create_model
from cnnzoo.cli import main
from cnnzoo.data.catalogue import DATASETS
from cnnzoo.data.inputs import InputSpec
from cnnzoo.data.sources import load_arrays
from cnnzoo.errors import ConfigError
from cnnzoo.train import RunResult, TrainConfig, train
from cnnzoo.train.inference import Trained, export_onnx, load_trained
from tests.helpers import needs_data, small_config

pytestmark = needs_data
CLASSES = DATASETS["fashion-mnist"].classes


def test_eval_reports_the_runs_test_accuracy(
    reference: RunResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plot, figures = tmp_path / "confusion.png", tmp_path / "eval.json"
    run = str(reference.run_dir)
    assert main(["eval", run, "--confusion", str(plot), "--json", str(figures)]) == 0
    out = capsys.readouterr().out
    summary = json.loads((reference.run_dir / "summary.json").read_text())
    assert f"{run}: 255 test images, top-1 {summary['test_top1']:.2f}%" in out
    result = json.loads(figures.read_text())
    assert result["count"] == 255  # the run's 255 test images, not all 10,000
    assert result["top1"] == pytest.approx(summary["test_top1"], abs=1e-9)
    assert result["loss"] == pytest.approx(summary["test_loss"], rel=1e-5)
    confusion = torch.tensor(result["confusion"])
    assert confusion.sum() == 255
    assert 100 * confusion.diag().sum() / 255 == pytest.approx(result["top1"])
    for name in CLASSES:
        assert re.search(rf"│ {re.escape(name)} +│ +\d+\.\d\d% │ +\d+ │", out), name
    pixels = np.asarray(Image.open(plot).convert("L"), dtype=np.float64)
    assert pixels.shape[0] > 200 and pixels.std() > 20 and len(np.unique(pixels)) > 20


@pytest.mark.parametrize("protocol", ["flip", "10crop"])
def test_eval_averages_the_softmax_over_the_papers_test_views(
    reference: RunResult, tmp_path: Path, capsys: pytest.CaptureFixture[str], protocol: str
) -> None:
    """The mirror, or the ten 32x32 crops of the image padded by the run's 2 pixels (the crops
    it trained on): corners, centre, and their mirrors, each cut here by hand."""
    test = load_arrays("fashion-mnist", "test")
    trained = load_trained(reference.run_dir)
    x = trained.spec.transform()(test.images[:100])
    if protocol == "flip":
        views = [x, x.flip(3)]
    else:
        padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
        assert x.shape[-2:] == (32, 32)  # LeNet's input: the 28x28 images padded
        crops = [padded[..., y : y + 32, z : z + 32] for y, z in ((0, 0), (0, 4), (4, 0), (4, 4))]
        views = [*crops, padded[..., 2:34, 2:34]]
        views += [v.flip(3) for v in views]
    with torch.no_grad():
        probs = torch.stack([trained.model(v).softmax(1) for v in views]).mean(0)
    labels = test.labels[:100]
    top1 = 100 * (probs.argmax(1) == labels).float().mean().item()
    loss = -probs[torch.arange(100), labels].log().mean().item()
    figures = tmp_path / "eval.json"
    run = str(reference.run_dir)
    options = ["--protocol", protocol, "--test-subset", "100", "--device", "cpu", "--threads", "1"]
    assert main(["eval", run, *options, "--json", str(figures)]) == 0
    assert f"100 test images, top-1 {top1:.2f}%" in capsys.readouterr().out
    result = json.loads(figures.read_text())
    assert result["protocol"] == protocol and result["count"] == 100
    assert result["top1"] == pytest.approx(top1) and result["loss"] == pytest.approx(loss, rel=1e-5)


def test_ten_crops_need_a_margin_and_match_torchvisions() -> None:
    from torchvision.transforms.v2.functional import ten_crop

    from cnnzoo.train.evaluate import TestViews, ten_crops

    x = torch.randn(2, 3, 9, 11)
    ours, theirs = ten_crops(x, (5, 7)), ten_crop(x, [5, 7])
    # torchvision mirrors the image and crops it, so its mirrored top-left is our mirrored
    # top-right (the same ten crops where the margins are even, as here).
    for i, j in enumerate([0, 1, 2, 3, 4, 6, 5, 8, 7, 9]):
        assert torch.equal(ours[i], theirs[j]), i
    with pytest.raises(ConfigError, match="trained without random crops"):
        TestViews("10crop")(x)
    with pytest.raises(ConfigError, match="a 10x7 crop does not fit in 9x11"):
        ten_crops(x, (10, 7))


def _write_images(folder: Path) -> list[Path]:
    rng = np.random.default_rng(0)
    colours = Image.fromarray(rng.integers(0, 256, (31, 47, 3), dtype=np.uint8))
    images = {
        "rgb_100x60.png": Image.fromarray(rng.integers(0, 256, (60, 100, 3), dtype=np.uint8)),
        "rgba.png": Image.fromarray(rng.integers(0, 256, (50, 50, 4), dtype=np.uint8), "RGBA"),
        "grey16.png": Image.fromarray(rng.integers(0, 65536, (40, 30), dtype=np.uint16)),
        "palette.gif": colours.convert("P"),
        "tiny.jpg": Image.fromarray(rng.integers(0, 256, (5, 9, 3), dtype=np.uint8)),
    }
    assert images["grey16.png"].mode == "I;16"
    for name, image in images.items():
        image.save(folder / name)
    return [folder / name for name in images]


def _parse(line: str) -> tuple[str, list[tuple[str, float]]]:
    path, _, ranked = line.partition(": ")
    top = [re.fullmatch(r"(.+) (\d+\.\d)%", item) for item in ranked.split(", ")]
    assert all(top), line
    return path, [(m[1], float(m[2])) for m in top if m]


def test_predict_reads_any_image(
    reference: RunResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = _write_images(tmp_path)
    assert main(["predict", str(reference.run_dir), *map(str, paths), "--top-k", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(paths)
    for path, line in zip(paths, lines, strict=True):
        shown, top = _parse(line)
        assert shown == str(path) and len(top) == 3
        assert all(name in CLASSES for name, _ in top) and len({n for n, _ in top}) == 3
        probabilities = [p for _, p in top]
        assert probabilities == sorted(probabilities, reverse=True)
        assert 0 < sum(probabilities) <= 100.15  # three of ten classes, each rounded to 0.1


def test_predict_agrees_with_the_model_on_the_test_tensor(
    reference: RunResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    test = load_arrays("fashion-mnist", "test")
    paths = []
    for i in range(8):
        paths.append(tmp_path / f"test_{i}.png")
        Image.fromarray(test.images[i, 0].numpy()).save(paths[-1])  # 28x28, mode L
    trained = load_trained(reference.run_dir)
    with torch.no_grad():
        probs = trained.model(trained.spec.transform()(test.images[:8])).softmax(1)
    assert main(["predict", str(reference.run_dir), *map(str, paths), "--top-k", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for row, line in zip(probs, lines, strict=True):
        _, [(name, percent)] = _parse(line)
        assert name == CLASSES[int(row.argmax())]
        assert percent == pytest.approx(100 * row.max().item(), abs=0.051)


def test_predict_takes_folders_and_patterns_and_writes_json_and_csv(
    reference: RunResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder stands for the images under it, a quoted pattern for the files it matches;
    JSON and CSV carry the same classes and probabilities as the text (to six places)."""
    import csv
    import json

    test = load_arrays("fashion-mnist", "test")
    for i in range(70):  # more than one batch of 64
        folder = tmp_path / "photos" / ("a" if i % 2 else "b")
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(test.images[i, 0].numpy()).save(folder / f"{i:02d}.png")
    run = str(reference.run_dir)
    given = ["--format", "json", "--device", "cpu", "--threads", "1"]
    assert main(["predict", run, str(tmp_path / "photos"), *given]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 70 and rows[0]["path"] == str(tmp_path / "photos" / "a" / "01.png")
    assert all(len(r["top"]) == 3 and r["top"][0]["class"] in CLASSES for r in rows)
    pattern = str(tmp_path / "photos" / "b" / "0*.png")  # 00, 02, ..., 08
    assert main(["predict", run, pattern, "--format", "csv", "--top-k", "2"]) == 0
    table = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert len(table) == 10 and [r["rank"] for r in table[:2]] == ["1", "2"]
    by_json = {r["path"]: r["top"][0] for r in rows}
    first = table[0]
    assert first["class"] == by_json[first["path"]]["class"]
    assert float(first["probability"]) == pytest.approx(
        by_json[first["path"]]["probability"], abs=1e-6
    )
    assert main(["predict", run, str(tmp_path / "nothing-*.png")]) == 2
    assert "nothing-*.png: no such file or pattern" in capsys.readouterr().err
    if not torch.cuda.is_available():
        assert main(["predict", run, pattern, "--device", "cuda"]) == 2
        assert "PyTorch sees no GPU; use --device cpu" in capsys.readouterr().err
    assert main(["predict", run, pattern, "--threads", "-1"]) == 2
    assert "--threads -1: expected 0" in capsys.readouterr().err


def _test_batch(trained: Any, n: int = 3) -> torch.Tensor:
    images = load_arrays("fashion-mnist", "test").images[100 : 100 + n]
    return trained.spec.transform()(images)  # (n, 1, 32, 32)


def test_export_onnx_matches_pytorch_for_any_batch(
    reference: RunResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import onnxruntime

    output = tmp_path / "lenet.onnx"
    run = str(reference.run_dir)
    assert main(["export", run, "--format", "onnx", "--output", str(output)]) == 0
    printed = capsys.readouterr().out
    assert f"wrote {output} (torch.export)" in printed
    assert re.search(r"max \|difference\| \d\.\d\de-\d\d, same top-1: True", printed)
    session = onnxruntime.InferenceSession(str(output), providers=["CPUExecutionProvider"])
    # The metadata the safetensors carry: class names, how images are read, the config.
    with safe_open(str(reference.run_dir / "model.safetensors"), "pt") as f:
        assert session.get_modelmeta().custom_metadata_map == f.metadata()
    (given,) = session.get_inputs()
    assert given.name == "image" and isinstance(given.shape[0], str)  # a dynamic batch
    trained = load_trained(reference.run_dir)
    for n in (3, 1):
        images = _test_batch(trained, n)
        (logits,) = session.run(None, {"image": images.numpy()})
        with torch.no_grad():
            expected = trained.model(images)
        assert logits.shape == (n, 10)
        assert (torch.from_numpy(logits) - expected).abs().max() < 1e-4


def test_export_safetensors_loads_strictly_into_a_new_model(
    reference: RunResult, tmp_path: Path
) -> None:
    output = tmp_path / "lenet.safetensors"
    assert main(["export", str(reference.run_dir), "--output", str(output)]) == 0
    model = create_model("lenet5_modern", num_classes=10, in_chans=1)
    model.load_state_dict(load_file(str(output)), strict=True)
    model.eval()
    trained = load_trained(reference.run_dir)
    images = _test_batch(trained)
    with torch.no_grad():
        assert torch.equal(model(images), trained.model(images))


def test_init_from_a_torchvision_format_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """RGB weights for a greyscale run: the first convolution sums its colours (timm's
    adapt_input_conv), everything else starts as the file has it."""
    from cnnzoo.train import engine

    rgb = create_model("resnet20", num_classes=10, in_chans=3).state_dict()
    path = tmp_path / "resnet20_rgb.pth"
    torch.save(rgb, path)
    seen: dict[str, torch.Tensor] = {}

    class FirstStep(Exception):
        pass

    def first_step(run: Any, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        seen.update({k: v.clone() for k, v in run.model.state_dict().items()})
        raise FirstStep

    monkeypatch.setattr(engine._Run, "train_step", first_step)
    config = small_config(
        tmp_path, "init", model="resnet20", init_from=str(path), train_subset=64, batch_size=32
    )
    with pytest.raises(FirstStep):
        train(config)
    assert "init-from: conv1.weight: input channels 3 -> 1" in capsys.readouterr().out
    assert seen.keys() == rgb.keys()
    assert seen["conv1.weight"].shape == (16, 1, 3, 3)
    assert torch.equal(seen["conv1.weight"], rgb["conv1.weight"].sum(1, keepdim=True))
    differ = [k for k in rgb if k != "conv1.weight" and not torch.equal(seen[k], rgb[k])]
    assert not differ


def test_init_from_a_wrong_file_says_what_is_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lenet = tmp_path / "lenet.pt"
    torch.save(create_model("lenet5_modern").state_dict(), lenet)
    notes = tmp_path / "notes.txt"
    notes.write_text("weights\n")
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"\x00" * 64)
    base = [
        "train",
        "resnet20",
        "--train-subset=64",
        "--test-subset=64",
        "--batch-size=32",
        "--epochs=1",
        "--threads=1",
        "--out",
        str(tmp_path),
    ]
    for given, message in [
        (lenet, r"none of its 10 tensors \(features\.c1\.weight.*\) fits resnet20"),
        (notes, r"cannot read weights from .*notes\.txt: not a file of plain tensors"),
        (broken, r"cannot read weights from .*broken\.safetensors"),
        (tmp_path / "missing.pt", r"missing\.pt does not exist"),
    ]:
        assert main([*base, "--init-from", str(given)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and re.search(message, err), err
    assert not list(tmp_path.glob("*/checkpoint.pt"))


@pytest.mark.parametrize(
    ("name", "side"),
    [("lenet5", 32), ("resnet20", 28), ("densenet40_k12", 28), ("nin", 28), ("speedrun", 28)],
)
def test_onnx_export_matches_pytorch_for_each_family(name: str, side: int, tmp_path: Path) -> None:
    """Every layer kind exports faithfully: LeNet-5's subsampling sums its windows (ONNX's
    AveragePool has no divisor override), C3's partial table, dense concatenations, 1x1 stacks,
    the speed route's global max pooling and scaled logits."""
    torch.manual_seed(0)
    model = create_model(name, num_classes=10, in_chans=1).eval()
    spec = InputSpec((side, side), 1, "resize", (0.5,), (0.25,), (side, side), 1)
    report = export_onnx(
        Trained(model, tuple("abcdefghij"), spec, TrainConfig(), 1), tmp_path / "m.onnx"
    )
    assert report["max_abs_diff"] < 1e-4 and report["same_top1"]
    assert report["exporter"] == "torch.export"


def test_a_model_torch_export_cannot_capture_goes_through_torchscript(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = torch.onnx.export

    def no_capture(*args: Any, dynamo: bool = True, **kwargs: Any) -> Any:
        if dynamo:
            raise RuntimeError("Dynamic control flow is not supported\nat line 3")
        return real(*args, dynamo=dynamo, **kwargs)

    monkeypatch.setattr(torch.onnx, "export", no_capture)
    model = create_model("lenet5_modern", num_classes=10, in_chans=1).eval()
    spec = InputSpec((32, 32), 1, "pad", (0.5,), (0.25,), (28, 28), 1)
    trained = Trained(model, tuple("abcdefghij"), spec, TrainConfig(), 1)
    report = export_onnx(trained, tmp_path / "m.onnx")
    assert report["exporter"] == (
        "TorchScript (torch.export could not capture the model: Dynamic control flow is not "
        "supported)"
    )
    assert report["max_abs_diff"] < 1e-4 and report["same_top1"]


@needs_data
def test_eval_train_measures_the_final_weights_on_unaugmented_training_images(
    tmp_path: Path,
) -> None:
    config = small_config(tmp_path, "fitted", epochs=1, eval_train=True)
    result = train(config, progress=False)
    row = result.history[-1]
    trained = load_trained(result.run_dir)
    images = load_arrays("fashion-mnist", "train").images[: config.train_subset]
    labels = load_arrays("fashion-mnist", "train").labels[: config.train_subset]
    with torch.no_grad():
        logits = trained.model(trained.spec.transform()(images))
    assert row["train_eval_top1"] == pytest.approx(
        100 * (logits.argmax(1) == labels).float().mean().item(), abs=1e-6
    )
    # the running figure is of changing weights under augmentation: not the same number
    assert row["train_eval_top1"] != row["train_top1"]
