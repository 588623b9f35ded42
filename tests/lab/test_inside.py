"""Inside a layer through the API: a run's test image or an upload, the scores, a layer's maps
and filters, Grad-CAM; published weights too; uploads checked before they are kept."""

from __future__ import annotations

import base64
import io
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from PIL import Image

from cnnzoo.data.sources import load_arrays
from cnnzoo.lab import create_app
from cnnzoo.lab.inside import MAX_UPLOAD, MAX_UPLOAD_PIXELS
from cnnzoo.train.inference import load_trained
from tests.helpers import needs_data
from tests.test_pretrained import _place, hub  # noqa: F401 (the fixture)

LOCAL = "http://127.0.0.1:8765"


def _picture(data_url: str) -> np.ndarray:
    assert data_url.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1]))))


def _png(width: int, height: int) -> bytes:
    """A PNG whose header promises ``width`` x ``height`` pixels, with almost no data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0"))
        + chunk(b"IEND", b"")
    )


@needs_data
def test_a_runs_test_image_seen_inside_a_layer(runs_root: Path) -> None:
    client = TestClient(create_app(runs_root), base_url=LOCAL)
    subject = client.get("/api/inside/subject", params={"run": "lenet"}).json()
    assert subject["layers"] == ["features.c1", "features.c3", "features.c5"]
    assert subject["test_images"] == 10_000 and subject["classes"][0] == "T-shirt/top"
    seen = client.get("/api/inside", params={"run": "lenet", "image": "test:3"}).json()
    # the scores are the model's softmax on the same test image, read as training read it
    trained = load_trained(runs_root / "lenet")
    test = load_arrays("fashion-mnist", "test")
    with torch.no_grad():
        probs = trained.model(trained.spec.transform()(test.images[3][None])).softmax(1)[0]
    best = probs.topk(10)
    assert [s["index"] for s in seen["scores"]] == best.indices.tolist()
    assert seen["scores"][0]["probability"] == pytest.approx(best.values[0].item(), rel=1e-5)
    assert seen["caption"] == "fashion-mnist test image 3 (Trouser)"
    assert seen["cam_class"]["index"] == int(best.indices[0])  # the most likely, by default
    # C1's six 28x28 maps side by side, 2 pixels apart; its six 5x5 filters enlarged 4 times
    assert seen["maps_shape"] == [6, 28, 28]
    assert _picture(seen["maps"]).shape == (28, 6 * 28 + 5 * 2, 3)
    assert seen["filters_shape"] == [6, 1, 5, 5]
    assert _picture(seen["filters"]).shape[:2] == (20, 6 * 20 + 5 * 2)
    assert _picture(seen["cam"]).shape == (32, 32, 3) and _picture(seen["input"]).shape == (32, 32)
    c3 = client.get(
        "/api/inside",
        params={"run": "lenet", "image": "test:3", "layer": "features.c3", "target": 9},
    ).json()
    assert c3["maps_shape"] == [16, 10, 10] and c3["cam_class"] == {
        "index": 9,
        "class": "Ankle boot",
    }


@needs_data
@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"image": "test:10000"}, 400, "test image '10000': expected 0 to 9999"),
        ({"image": "test:-1"}, 400, "expected 0 to 9999"),
        ({"image": "upload:0123456789abcdef"}, 404, "no such image"),
        ({"image": "upload:../../etc/passwd"}, 404, "no such image"),
        ({"image": "test:0", "layer": "features.1"}, 400, "did you mean features.c1"),
        ({"image": "test:0", "target": 10}, 400, "class 10: expected 0 to 9"),
        ({"image": "file:/etc/passwd"}, 400, "expected demo:NAME, upload:ID or test:N"),
    ],
)
def test_bad_choices_inside_are_refused_in_one_line(
    runs_root: Path, params: dict[str, Any], status: int, message: str
) -> None:
    answer = TestClient(create_app(runs_root), base_url=LOCAL).get(
        "/api/inside", params={"run": "lenet", **params}
    )
    assert answer.status_code == status and message in answer.json()["error"]


def test_uploads_are_checked_before_they_are_kept(tmp_path: Path) -> None:
    client = TestClient(create_app(tmp_path), base_url=LOCAL)
    photo = io.BytesIO()
    Image.new("RGB", (90, 60), (200, 100, 20)).save(photo, format="PNG")
    kept = client.post(
        "/api/images", content=photo.getvalue(), headers={"content-type": "image/png"}
    )
    assert kept.status_code == 201 and (kept.json()["width"], kept.json()["height"]) == (90, 60)
    junk = client.post("/api/images", content=b"not an image at all")
    assert junk.status_code == 400
    assert junk.json()["error"].startswith("the uploaded file: not a readable image")
    assert "cnnzoo-lab-" not in junk.json()["error"]  # the server's own paths stay its own
    bomb = client.post("/api/images", content=_png(100_000, 100_000))
    assert bomb.status_code == 400 and "decompression bomb" in bomb.json()["error"]
    # under PIL's 89 million pixels, over the lab's 50 million: refused from its header alone
    big = client.post("/api/images", content=_png(8_000, 7_000))
    assert big.status_code == 400 and big.json()["error"] == (
        "the uploaded file: refused, 8000x7000 = 56,000,000 pixels is more than the "
        f"{MAX_UPLOAD_PIXELS:,} taken here"
    )
    huge = client.post("/api/images", content=b"\0" * (MAX_UPLOAD + 1))
    assert huge.status_code == 413
    neither = client.get("/api/inside/subject")
    assert neither.status_code == 400 and "name a run" in neither.json()["error"]


def test_published_weights_seen_inside_on_an_upload(hub: Path, tmp_path: Path) -> None:  # noqa: F811
    _place("resnet18")
    client = TestClient(create_app(tmp_path), base_url=LOCAL)
    subject = client.get("/api/inside/subject", params={"model": "resnet18", "weights": "DEFAULT"})
    assert subject.json()["test_images"] == 0 and subject.json()["classes"][:2] == [
        "tench",
        "goldfish",
    ]
    photo = io.BytesIO()
    Image.new("RGB", (320, 240), (30, 120, 200)).save(photo, format="PNG")
    upload = client.post("/api/images", content=photo.getvalue()).json()["id"]
    source = {"model": "resnet18", "weights": "DEFAULT"}
    seen = client.get("/api/inside", params={**source, "image": f"upload:{upload}"}).json()
    assert seen["input_size"] == [3, 224, 224] and seen["maps_shape"] == [64, 112, 112]
    assert seen["title"] == "resnet18, ResNet18_Weights.IMAGENET1K_V1"
    assert all(s["class"] for s in seen["scores"]) and len(seen["scores"]) == 10
    refused = client.get("/api/inside", params={**source, "image": "test:0"})
    assert (
        refused.status_code == 400
        and "published weights have no test set" in refused.json()["error"]
    )


def test_a_demo_photo_through_published_weights_scores_as_torchvision(
    hub: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    """scikit-image's Chelsea through the weights' transforms: the top class and its
    probability are torchvision's own model's on the same photo."""
    import torchvision
    from skimage import data

    from cnnzoo.pretrained import weights_of

    _place("resnet18")
    client = TestClient(create_app(tmp_path), base_url=LOCAL)
    demos = client.get("/api/inside/subject", params={"model": "resnet18", "weights": "DEFAULT"})
    assert demos.json()["demos"][0]["name"] == "chelsea"
    source = {"model": "resnet18", "weights": "DEFAULT", "image": "demo:chelsea"}
    seen = client.get("/api/inside", params=source).json()
    assert seen["caption"] == "the demo photo: Chelsea the cat (a tabby)"
    published = weights_of("resnet18")[0]
    theirs = torchvision.models.resnet18(weights=published.name).eval()
    with torch.no_grad():
        x = published.transforms()(Image.fromarray(data.chelsea()))[None]
        probs = theirs(x).softmax(1)[0]
    assert seen["scores"][0]["index"] == int(probs.argmax())
    assert seen["scores"][0]["probability"] == pytest.approx(probs.max().item(), rel=1e-4)
    unknown = client.get("/api/inside", params={**source, "image": "demo:dog"})
    assert (
        unknown.status_code == 400 and "expected one of chelsea, coffee" in unknown.json()["error"]
    )


def test_a_demo_photo_at_a_networks_input_size(tmp_path: Path) -> None:
    client = TestClient(create_app(tmp_path), base_url=LOCAL)
    answer = client.get("/api/demo-image", params={"name": "coffee", "height": 227, "width": 300})
    picture = Image.open(io.BytesIO(answer.content))
    assert answer.headers["content-type"] == "image/png"
    assert picture.size == (300, 227) and picture.mode == "RGB"
    grey = client.get(
        "/api/demo-image", params={"name": "coffee", "height": 32, "width": 32, "channels": 1}
    )
    assert Image.open(io.BytesIO(grey.content)).mode == "L"
    assert client.get("/api/demo-image", params={"name": "coffee", "height": 0}).status_code == 422
    assert client.get("/api/demo-image", params={"name": "../x"}).status_code == 400
