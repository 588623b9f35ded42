"""Inside a layer, as CNN Explainer shows it, for any zoo model a run trained or published
weights: an image (a test image of the run's data set, or one uploaded), the class scores, a
layer's activation maps and filters, and Grad-CAM for a chosen class."""

from __future__ import annotations

import base64
import functools
import secrets
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from cnnzoo.data.demo import DEMO_IMAGES, demo_image
from cnnzoo.data.folders import open_image
from cnnzoo.data.inputs import for_display
from cnnzoo.data.sources import load_arrays
from cnnzoo.errors import CnnzooError, ConfigError
from cnnzoo.lab.guard import NotFound, TooLarge, own_file, under_root
from cnnzoo.train.folder import RunFolder
from cnnzoo.train.inference import Published, Trained, load_published, load_trained
from cnnzoo.viz.activations import activation_maps, find_module
from cnnzoo.viz.cam import cam_layer, grad_cam
from cnnzoo.viz.filters import kernels
from cnnzoo.viz.tiles import coloured, overlay, png, tiled

__all__ = [
    "MAX_MAPS",
    "MAX_UPLOAD",
    "MAX_UPLOAD_PIXELS",
    "Subject",
    "Uploads",
    "look",
    "run_subject",
    "weights_subject",
]

MAX_UPLOAD = 10 * 2**20  # bytes of an uploaded image
# Pixels of an uploaded image: a 48-megapixel phone photo fits; 10 MiB of PNG can promise PIL's
# 89 million (a quarter of a gigabyte decoded, then again at every look).
MAX_UPLOAD_PIXELS = 50_000_000
MAX_KEPT = 64  # uploads kept; an older one is let go
MAX_MAPS = 64  # activation maps and filters shown of a layer
_SCORES = 10  # classes listed, most likely first


@dataclass
class Subject:
    """A model with what it needs to read an image as it was trained to."""

    title: str
    source: Trained | Published
    # Hooks and Grad-CAM change the model while they look: one look at a time.
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def model(self) -> nn.Module:
        return self.source.model

    @property
    def classes(self) -> tuple[str, ...]:
        return self.source.classes

    def layers(self) -> list[str]:
        """The convolutions, in the order the input meets them: the layers worth opening."""
        return [n for n, m in self.model.named_modules() if isinstance(m, nn.Conv2d)]

    def test_images(self) -> int:
        """How many test images its data set has (0 for published weights: upload one)."""
        if isinstance(self.source, Published):
            return 0
        return len(_test_set(self.source.config.data))

    def image(self, choice: str, uploads: Uploads) -> tuple[torch.Tensor, np.ndarray, str]:
        """The input (1, C, H, W) for ``test:N`` or ``upload:ID``, the picture it shows, and a
        caption."""
        kind, _, value = choice.partition(":")
        if kind == "upload":
            path = uploads.path(value)
            x = self.source.read([str(path)])
            caption = "the uploaded image"
        elif kind == "demo":
            x = self.source.read([str(uploads.demo(value))])
            caption = f"the demo photo: {DEMO_IMAGES[value]}"
        elif kind == "test" and isinstance(self.source, Trained):
            config = self.source.config
            test = _test_set(config.data)
            index = _index(value, len(test))
            x = self.source.spec.transform()(test.images[index][None])
            caption = f"{config.data} test image {index} ({test.classes[int(test.labels[index])]})"
        else:
            raise ConfigError(
                f"image {choice!r}: expected demo:NAME, upload:ID"
                + (" (published weights have no test set here)" if kind == "test" else "")
                + ("" if isinstance(self.source, Published) else " or test:N")
            )
        if isinstance(self.source, Published):
            picture = self.source.display(x)
        else:
            picture = for_display(self.source.spec, x)
        return x, picture, caption


def _index(text: str, count: int) -> int:
    if not text.isdigit() or not 0 <= int(text) < count:
        raise ConfigError(f"test image {text!r}: expected 0 to {count - 1}")
    return int(text)


@functools.lru_cache(maxsize=4)
def _test_set(data: str) -> Any:
    """The data set's test split from the usual places: never the folder a checkpoint names
    (someone else's checkpoint would point the lab at any folder of this machine)."""
    return load_arrays(data, "test")


@functools.lru_cache(maxsize=4)
def _run_subject(checkpoint: Path, modified: float, run_id: str) -> Subject:
    trained = load_trained(checkpoint)
    return Subject(f"{trained.config.model} after {trained.epoch} epochs ({run_id})", trained)


def run_subject(root: Path, run_id: str) -> Subject:
    """The final weights of a run under ``root`` (read again when its checkpoint changes)."""
    folder = under_root(root, run_id)
    # The checkpoint a regular file of the run's own: a link out of the root is never read.
    checkpoint = own_file(root, folder / RunFolder.CHECKPOINT, limit=2**40)
    return _run_subject(checkpoint, checkpoint.stat().st_mtime, run_id)


@functools.lru_cache(maxsize=4)
def weights_subject(name: str, weights: str) -> Subject:
    """A zoo model with its published weights (from torch.hub's cache, or downloaded)."""
    published = load_published(name, weights)
    return Subject(f"{name}, {published.weights.title}", published)


class Uploads:
    """Images uploaded to the lab, kept in a folder of its own outside the runs root; each
    checked as an image (its pixel count first: a decompression bomb is refused) before it
    is kept."""

    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="cnnzoo-lab-")
        self._kept: list[str] = []
        self._lock = threading.Lock()

    def store(self, data: bytes) -> dict[str, Any]:
        if len(data) > MAX_UPLOAD:
            raise TooLarge(f"the image is {len(data):,} bytes; the lab takes {MAX_UPLOAD:,}")
        key = secrets.token_hex(8)
        path = Path(self._folder.name) / key
        path.write_bytes(data)
        try:
            width, height = open_image(path, 3, max_pixels=MAX_UPLOAD_PIXELS).size
        except CnnzooError as error:  # not an image, or a bomb: said without our file's name
            path.unlink()
            raise ConfigError(str(error).replace(str(path), "the uploaded file")) from None
        with self._lock:
            self._kept.append(key)
            while len(self._kept) > MAX_KEPT:
                (Path(self._folder.name) / self._kept.pop(0)).unlink(missing_ok=True)
        return {"id": key, "width": width, "height": height}

    def demo(self, name: str) -> Path:
        """A demo photo as a file the readers take, written once."""
        path = Path(self._folder.name) / f"demo-{name}.png"
        if not path.exists():
            demo_image(name).save(path)  # an unknown name: the error lists the known ones
        return path

    def path(self, key: str) -> Path:
        if not (len(key) == 16 and all(c in "0123456789abcdef" for c in key)):
            raise NotFound(f"upload {key!r}: no such image")
        path = Path(self._folder.name) / key
        if not path.is_file():
            raise NotFound(f"upload {key!r}: no such image (uploads last as long as the lab)")
        return path


def _data_url(array: np.ndarray) -> str:
    return "data:image/png;base64," + base64.b64encode(png(array)).decode()


def look(
    subject: Subject, choice: str, uploads: Uploads, layer: str | None, target: int | None
) -> dict[str, Any]:
    """What the page shows for one image: the scores, ``layer``'s maps (and its filters, for a
    convolution) and Grad-CAM of class ``target`` (default: the most likely one)."""
    with subject.lock:
        return _look(subject, choice, uploads, layer, target)


def _look(
    subject: Subject, choice: str, uploads: Uploads, layer: str | None, target: int | None
) -> dict[str, Any]:
    model = subject.model
    x, picture, caption = subject.image(choice, uploads)
    layer = layer or subject.layers()[0]
    module = find_module(model, layer)
    with torch.no_grad():
        probs = model(x).float().softmax(1)[0]
    top = probs.topk(min(_SCORES, len(probs)))
    target = int(top.indices[0]) if target is None else target
    if not 0 <= target < len(subject.classes):
        raise ConfigError(f"class {target}: expected 0 to {len(subject.classes) - 1}")
    maps = activation_maps(model, x, [layer])[layer]
    if maps.dim() != 4:
        raise ConfigError(f"{layer} gives {tuple(maps.shape)}: not maps (N, C, H, W)")
    channels, side = maps.shape[1], max(maps.shape[-2:])
    scale = max(1, 48 // side)  # small maps (LeNet's 10x10) enlarged, pixel for pixel
    shown = coloured(maps[0, :MAX_MAPS])
    where = cam_layer(model, x)
    heat = grad_cam(model, x, where, target)
    result: dict[str, Any] = {
        "title": subject.title,
        "caption": caption,
        "input": _data_url(picture),
        "input_size": list(x.shape[1:]),
        "scores": [
            {"index": int(i), "class": subject.classes[int(i)], "probability": float(p)}
            for p, i in zip(top.values, top.indices, strict=True)
        ],
        "layer": layer,
        "maps": _data_url(tiled(shown, columns=8, scale=scale)),
        "maps_shape": list(maps.shape[1:]),
        "maps_shown": min(channels, MAX_MAPS),
        "maps_range": [float(maps.min()), float(maps.max())],
        "filters": None,
        "cam_layer": where,
        "cam_class": {"index": target, "class": subject.classes[target]},
        "cam": _data_url(overlay(picture, heat)),
    }
    if isinstance(module, nn.Conv2d):
        pictures = kernels(module, MAX_MAPS).permute(0, 2, 3, 1).numpy()
        if pictures.shape[-1] == 1:
            pictures = pictures[..., 0]  # grey
        k = max(module.kernel_size)
        result["filters"] = _data_url(tiled(pictures, columns=8, scale=max(1, 24 // k)))
        result["filters_shape"] = [module.out_channels, module.in_channels, *module.kernel_size]
    return result
