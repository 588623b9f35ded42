"""Published weights through torchvision's weights API, with no network: each test places files
in a temporary torch.hub cache (``TORCH_HOME``), as a download would, and any download is
refused as an offline machine refuses it."""

from __future__ import annotations

import json
import shutil
import urllib.error
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torchvision

import cnnzoo
from cnnzoo.cli import main
from cnnzoo.pretrained import WeightsError, cache_file, weights_of

WITH_WEIGHTS = [n for n in cnnzoo.list_models() if weights_of(n)]


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty torch.hub cache of this test's own, on a machine with no network."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))

    def offline(url: str, dst: str, *args: Any, **kwargs: Any) -> None:
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    return tmp_path / "torch" / "hub" / "checkpoints"


def _torchvision(name: str) -> torch.nn.Module:
    info = cnnzoo.model_info(name)
    assert info.torchvision is not None
    # GoogLeNet's file holds its (untrained) auxiliary heads too, as the published one does
    extra = {"aux_logits": True, "init_weights": True} if info.torchvision == "googlenet" else {}
    return torchvision.models.get_model(info.torchvision, weights=None, **extra)


def _place(name: str, state: dict[str, torch.Tensor] | object | None = None) -> Path:
    """A file where torch.hub keeps ``name``'s default weights: torchvision's network, random."""
    target = cache_file(next(w for w in weights_of(name) if w.default))
    target.parent.mkdir(parents=True, exist_ok=True)
    torch.save(_torchvision(name).state_dict() if state is None else state, target)
    return target


def test_the_zoo_models_with_weights_are_torchvisions_networks() -> None:
    """Weights for each zoo build of torchvision's network, none for a network of the paper's
    whose keys alone match (the v1 ResNet-50 would take them and compute something else)."""
    same = [n for n in cnnzoo.list_models() if cnnzoo.model_info(n).torchvision_equal]
    assert same == WITH_WEIGHTS and len(same) == 18
    assert {"resnet50", "resnet101", "resnet152", "alexnet", "googlenet"}.isdisjoint(same)
    resnet50 = {w.name: w for w in weights_of("resnet50_tv")}
    assert resnet50["IMAGENET1K_V2"].default and resnet50["IMAGENET1K_V2"].acc1 == 80.858
    assert resnet50["IMAGENET1K_V1"].file == "resnet50-0676ba61.pth"
    assert len(resnet50["IMAGENET1K_V1"].categories) == 1000


@pytest.mark.parametrize("name", WITH_WEIGHTS)
def test_weights_in_the_hub_cache_give_torchvisions_outputs_bit_for_bit(
    name: str, hub: Path
) -> None:
    """The file loads strictly, and the zoo model computes what torchvision's does with it."""
    torch.manual_seed(0)
    placed = _place(name)
    try:
        published = next(w for w in weights_of(name) if w.default)
        theirs = torchvision.models.get_model(
            cnnzoo.model_info(name).torchvision or "", weights=published.name
        ).eval()
        ours = cnnzoo.create_model(name, weights="DEFAULT").eval()
        assert ours.pretrained == published
        x = torch.randn(2, 3, 64, 64)
        with torch.no_grad():
            assert torch.equal(ours(x), theirs(x))
    finally:
        placed.unlink()  # hundreds of megabytes for a VGG


def test_pretrained_true_is_the_default_and_other_classes_start_a_new_head(hub: Path) -> None:
    placed = _place("resnet18")
    state = torch.load(placed, weights_only=True)
    model = cnnzoo.create_model("resnet18", pretrained=True)
    assert model.pretrained.name == "IMAGENET1K_V1"
    assert torch.equal(model.conv1.weight, state["conv1.weight"])
    assert all(p.requires_grad and p.device.type == "cpu" for p in model.parameters())
    grey = cnnzoo.create_model(
        "resnet18", weights="ResNet18_Weights.IMAGENET1K_V1", num_classes=7, in_chans=1
    )
    assert grey.fc.out_features == 7 and torch.equal(
        grey.layer1[0].conv1.weight, state["layer1.0.conv1.weight"]
    )
    assert torch.allclose(grey.conv1.weight, state["conv1.weight"].sum(1, keepdim=True))
    assert sorted(p.name for p in hub.iterdir()) == [placed.name]  # nothing else fetched


def test_offline_with_no_cached_file_names_the_file_to_place_and_its_url(hub: Path) -> None:
    with pytest.raises(WeightsError) as caught:
        cnnzoo.create_model("resnet34", weights="DEFAULT")
    text = str(caught.value)
    assert "https://download.pytorch.org/models/resnet34-b627a593.pth" in text
    assert f"place it at {hub / 'resnet34-b627a593.pth'}" in text and "no network" in text
    assert not (hub / "resnet34-b627a593.pth").exists()


def test_a_download_is_hash_checked_by_torch_hub(
    hub: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The download goes through torch.hub with the hash in the file's name, as
    load_state_dict_from_url does; a file that fails it is not kept."""
    source = hub.parent / "elsewhere.pth"
    source.parent.mkdir(parents=True)
    torch.save(_torchvision("resnet18").state_dict(), source)
    asked: list[tuple[str, str | None]] = []

    def download(url: str, dst: str, hash_prefix: str | None = None, progress: bool = True) -> None:
        asked.append((url, hash_prefix))
        shutil.copy(source, dst)

    monkeypatch.setattr(torch.hub, "download_url_to_file", download)
    model = cnnzoo.create_model("resnet18", weights="DEFAULT")
    assert asked == [("https://download.pytorch.org/models/resnet18-f37072fd.pth", "f37072fd")]
    assert (
        model.pretrained.file == "resnet18-f37072fd.pth" and (hub / model.pretrained.file).exists()
    )

    def corrupt(url: str, dst: str, hash_prefix: str | None = None, progress: bool = True) -> None:
        raise RuntimeError(f'invalid hash value (expected "{hash_prefix}", got "0badc0de")')

    monkeypatch.setattr(torch.hub, "download_url_to_file", corrupt)
    with pytest.raises(WeightsError, match=r"resnet34-b627a593\.pth is not the published file"):
        cnnzoo.create_model("resnet34", weights="DEFAULT")
    assert not (hub / "resnet34-b627a593.pth").exists()


def test_a_truncated_or_foreign_cached_file_is_named_and_left_in_place(hub: Path) -> None:
    placed = _place("resnet18")
    data = placed.read_bytes()
    placed.write_bytes(data[: len(data) // 2])
    with pytest.raises(WeightsError, match=rf"{placed.name}.*left in place"):
        cnnzoo.create_model("resnet18", weights="DEFAULT")
    assert placed.read_bytes() == data[: len(data) // 2]
    _place("resnet18", [1, 2, 3])
    with pytest.raises(WeightsError, match="holds no state_dict"):
        cnnzoo.create_model("resnet18", weights="DEFAULT")
    assert placed.exists()


def test_weights_of_another_network_are_refused_with_the_misfits_counted(
    hub: Path, tmp_path: Path
) -> None:
    _place("resnet18", _torchvision("resnet34").state_dict())
    with pytest.raises(
        WeightsError,
        match=r"does not fit resnet18: 0 of its 122 tensors missing, 96 unexpected, 0 of another",
    ):
        cnnzoo.create_model("resnet18", weights="DEFAULT")
    other = tmp_path / "densenet.pth"
    torch.save(_torchvision("densenet121").state_dict(), other)
    with pytest.raises(WeightsError, match=rf"{other} does not fit resnet18: 122 of its 122"):
        cnnzoo.create_model("resnet18", weights=other)
    with pytest.raises(WeightsError, match=r"only 0 of the model's"):
        cnnzoo.create_model("resnet18", weights=str(other), num_classes=10)


def test_a_weights_file_by_its_path_loads_strictly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """By a path, or by a bare name here: with a weights suffix (safetensors too), or with
    none when the file exists and its name is not one of published weights."""
    from safetensors.torch import save_file

    model = cnnzoo.create_model("resnet20")
    torch.save({"state_dict": model.state_dict()}, tmp_path / "mine.pth")
    save_file(model.state_dict(), tmp_path / "mine.safetensors")
    shutil.copy(tmp_path / "mine.pth", tmp_path / "resnet20_final")
    monkeypatch.chdir(tmp_path)
    for given in (tmp_path / "mine.pth", "mine.safetensors", "resnet20_final"):
        again = cnnzoo.create_model("resnet20", weights=given)
        assert all(
            torch.equal(a, b)
            for a, b in zip(model.state_dict().values(), again.state_dict().values(), strict=True)
        )
        assert again.pretrained is None
    shutil.copy(tmp_path / "mine.pth", tmp_path / "DEFAULT")
    with pytest.raises(WeightsError, match="resnet20 has no published weights"):
        cnnzoo.create_model("resnet20", weights="DEFAULT")  # a name, whatever files are here
    with pytest.raises(WeightsError, match=r"missing\.pth does not exist"):
        cnnzoo.create_model("resnet20", weights=tmp_path / "missing.pth")


def test_models_without_weights_name_the_variant_that_has_them() -> None:
    cases = {
        "resnet50": r"resnet50 shares torchvision's keys but not its network.*resnet50_tv is "
        r"torchvision's resnet50.*stride 2 in the bottleneck's 3x3",
        "alexnet": r"alexnet is not torchvision's network\)\. alexnet_owt is torchvision's alexnet",
        "googlenet": r"googlenet_tv is torchvision's googlenet and has them; they differ: batch",
        "vgg16_c": r"vgg16_c is not torchvision's network\)\. vgg16 is torchvision's vgg16 ",
        "resnet20": r"no torchvision network matches it: train it",
    }
    for name, message in cases.items():
        with pytest.raises(WeightsError, match=message):
            cnnzoo.create_model(name, pretrained=True)
    with pytest.raises(
        WeightsError,
        match="resnet50_tv has no weights 'IMAGENET1K_V3': it has DEFAULT, IMAGENET1K_V1, IMAGE",
    ):
        cnnzoo.create_model("resnet50_tv", weights="IMAGENET1K_V3")
    with pytest.raises(WeightsError, match="meta device"):
        cnnzoo.create_model("resnet18", weights="DEFAULT", device="meta")


def test_info_and_list_show_the_weights(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "resnet50_tv"]) == 0
    out = capsys.readouterr().out
    assert "IMAGENET1K_V2 = DEFAULT: acc@1 80.858%, acc@5 95.434%, 97.8 MB" in out
    assert "https://download.pytorch.org/models/resnet50-0676ba61.pth" in out
    assert main(["info", "resnet50"]) == 0
    assert "weights    none: resnet50 has no published weights" in capsys.readouterr().out
    assert main(["list", "--pretrained"]) == 0
    out = capsys.readouterr().out
    assert "18 models" in out and "resnet50_tv" in out and "resnet20 " not in out
    assert main(["list", "lenet*", "--pretrained"]) == 2


def test_predict_prints_torchvisions_categories_through_the_weights_transforms(
    hub: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`cnnzoo predict NAME --weights DEFAULT photo` resizes, crops and normalises as the
    weights were trained (their transforms), and names ImageNet's categories."""
    from PIL import Image

    torch.manual_seed(1)
    _place("resnet18")
    photo = tmp_path / "photo.png"
    pixels = torch.randint(
        0, 256, (300, 400, 3), dtype=torch.uint8, generator=torch.Generator().manual_seed(2)
    )
    Image.fromarray(pixels.numpy()).save(photo)
    published = weights_of("resnet18")[0]
    theirs = torchvision.models.resnet18(weights=published.name).eval()
    with torch.no_grad():
        probs = theirs(
            published.transforms()(Image.open(photo).convert("RGB")).unsqueeze(0)
        ).softmax(1)
    top = probs[0].topk(5)
    expected = ", ".join(
        f"{published.categories[i]} {100 * p:.1f}%"
        for p, i in zip(top.values.tolist(), top.indices.tolist(), strict=True)
    )
    assert main(["predict", "resnet18", str(photo), "--weights", "DEFAULT"]) == 0
    assert capsys.readouterr().out.strip() == f"{photo}: {expected}"
    assert main(["predict", "resnet50", str(photo), "--weights", "DEFAULT"]) == 2
    assert "resnet50_tv is torchvision's resnet50" in capsys.readouterr().err


def test_viz_draws_a_models_published_weights(
    hub: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Filters, activation maps and Grad-CAM of a zoo model with its weights, on a picture."""
    from PIL import Image

    _place("resnet18")
    monkeypatch.chdir(tmp_path)
    photo = tmp_path / "photo.png"
    Image.new("RGB", (320, 240), (200, 120, 40)).save(photo)
    assert main(["viz", "filters", "resnet18", "--weights", "DEFAULT"]) == 0
    assert (
        main(["viz", "activations", "resnet18", "--weights", "DEFAULT", "--image", str(photo)]) == 0
    )
    assert (
        main(
            [
                "viz",
                "cam",
                "resnet18",
                "--weights",
                "DEFAULT",
                "--image",
                str(photo),
                "--class",
                "tench",
            ]
        )
        == 0
    )
    pictures = [tmp_path / "filters-resnet18.png"]
    pictures += [tmp_path / "activations-conv1-photo-png-resnet18.png"]
    pictures += list(tmp_path.glob("cam-*-tench-photo-png-resnet18.png"))
    assert len(pictures) == 3
    for picture in pictures:
        with Image.open(picture) as image:
            shades = torch.from_numpy(np.array(image.convert("L"))).unique().numel()
            assert image.size[0] > 300 and shades > 10, picture
    assert main(["viz", "cam", "resnet18", "--weights", "DEFAULT"]) == 2  # no picture given


def test_eval_scores_an_imagenet_style_folder_with_the_weights_transforms(
    hub: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Folders named by WordNet id or by category; top-1 and top-5 as torchvision's model
    scores the same images read through the same transforms, with one centre crop, with its
    mirror, and with ten crops cut by torchvision's own ``ten_crop`` from the resized square."""
    import torchvision.transforms.v2.functional as TF
    from PIL import Image

    torch.manual_seed(3)
    _place("resnet18")
    published = weights_of("resnet18")[0]
    theirs = torchvision.models.resnet18(weights=published.name).eval()
    tv = published.transforms()
    generator = torch.Generator().manual_seed(4)

    def views(image: Image.Image, protocol: str) -> torch.Tensor:
        if protocol == "center":
            return tv(image)[None]
        if protocol == "flip":
            return torch.stack([tv(image), TF.horizontal_flip(tv(image))])  # the crop mirrored
        square = TF.center_crop(TF.resize(image, [256], antialias=True), [256])
        crops = [
            TF.to_dtype(TF.to_image(c), torch.float32, scale=True)
            for c in TF.ten_crop(square, [224])
        ]
        return torch.stack([TF.normalize(c, tv.mean, tv.std) for c in crops])

    hits = {protocol: [0, 0, 0.0] for protocol in ("center", "flip", "10crop")}  # and loss
    for folder, label in (("n01440764", 0), ("goldfish", 1), ("Great_White_Shark", 2)):
        (tmp_path / "val" / folder).mkdir(parents=True)
        for i in range(2):
            pixels = torch.randint(0, 256, (90, 120, 3), dtype=torch.uint8, generator=generator)
            path = tmp_path / "val" / folder / f"{i}.png"
            Image.fromarray(pixels.numpy()).save(path)
            for protocol, counts in hits.items():
                with torch.no_grad():
                    probs = theirs(views(Image.open(path).convert("RGB"), protocol)).softmax(1)
                top5 = probs.mean(0).topk(5).indices.tolist()
                counts[0] += top5[0] == label
                counts[1] += label in top5
                counts[2] -= probs.mean(0)[label].log().item() / 6
    figures = tmp_path / "figures.json"
    command = ["eval", "resnet18", "--weights", "DEFAULT", "--data", str(tmp_path / "val")]
    for protocol, (hits1, hits5, loss) in hits.items():
        protocol_option = ["--protocol", protocol, "--json", str(figures)]
        assert main([*command, "--batch-size", "4", *protocol_option]) == 0
        out = capsys.readouterr().out
        assert f"6 images, top-1 {100 * hits1 / 6:.2f}%, top-5 {100 * hits5 / 6:.2f}%" in out
        assert "torchvision reports 69.758% and 89.078%" in out
        result = json.loads(figures.read_text())
        assert result["count"] == 6 and result["protocol"] == protocol
        assert result["loss"] == pytest.approx(loss, rel=1e-5)
    assert len({round(counts[2], 4) for counts in hits.values()}) == 3  # three protocols
    assert main([*command, "--test-subset", "2"]) == 0 and "2 images" in capsys.readouterr().out
    (tmp_path / "val" / "cats").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "val" / "cats" / "a.png")
    assert main(command) == 2
    assert "1 of the 4 class folders name no ImageNet-1K class (cats)" in capsys.readouterr().err
    assert main(command[:4]) == 2
    assert "give --data FOLDER" in capsys.readouterr().err


def _folder(root: Path, per_class: int = 8) -> Path:
    from PIL import Image

    generator = torch.Generator().manual_seed(5)
    for name, colour in (("red", (200, 30, 30)), ("blue", (30, 30, 200))):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            noise = torch.randint(-30, 30, (40, 40, 3), generator=generator)
            pixels = (torch.tensor(colour) + noise).clamp(0, 255).to(torch.uint8)
            Image.fromarray(pixels.numpy()).save(root / name / f"{i}.png")
    return root


@pytest.mark.parametrize("freeze", [False, True])
def test_fine_tuning_replaces_the_head_trains_checkpoints_and_resumes(
    hub: Path, tmp_path: Path, freeze: bool
) -> None:
    from cnnzoo.train import load_checkpoint, resolve_config, train

    placed = _place("resnet18")
    pretrained = torch.load(placed, weights_only=True)
    config = resolve_config(
        "resnet18",
        weights="DEFAULT",
        freeze=freeze,
        data=str(_folder(tmp_path / "photos")),
        out=str(tmp_path / "runs"),
        name="tuned",
        epochs=1,
        batch_size=4,
        image_size=32,
        val_fraction=0.25,
        threads=1,
        workers=0,
    )
    assert config.recipe == "finetune" and config.backbone_lr == 0.1
    run = train(config, progress=False)
    saved = load_checkpoint(run.run_dir)
    weights = saved["model"]
    assert weights["fc.weight"].shape == (2, 512)
    # normalised as the weights were trained, not by the photos' own statistics
    assert saved["input"]["mean"] == pytest.approx([0.485, 0.456, 0.406])
    backbone = [k for k in pretrained if k.endswith(".weight") and not k.startswith("fc.")]
    moved = [k for k in backbone if not torch.equal(weights[k], pretrained[k])]
    if freeze:
        assert not moved  # only the new classifier learned
    else:
        assert moved  # fine-tuned: the pretrained layers moved, at a tenth of the rate
        rates = sorted({g["lr"] for g in saved["optimizer"]["param_groups"]})
        assert rates[0] == pytest.approx(rates[-1] * 0.1)
    resumed = train(resume=run.run_dir, epochs=2, progress=False)
    assert [r["epoch"] for r in resumed.history] == [1, 2]
    # DEFAULT is saved as the weights it named, and the exports say where training started
    assert saved["config"]["weights"] == "IMAGENET1K_V1"
    from safetensors import safe_open

    with safe_open(str(run.run_dir / "model.safetensors"), "pt") as f:
        started = json.loads(f.metadata()["started_from"])
    assert started == {
        "weights": "ResNet18_Weights.IMAGENET1K_V1",
        "url": weights_of("resnet18")[0].url,
    }
    if freeze:
        after = load_checkpoint(run.run_dir)["model"]
        assert all(torch.equal(after[k], pretrained[k]) for k in backbone)
