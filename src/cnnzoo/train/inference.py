"""Use a trained run: load it, evaluate it, predict images, export it.

Everything needed to rebuild the model and to convert an image as training did lives in the
checkpoint (model name, classes, :class:`~cnnzoo.data.inputs.InputSpec`), so a checkpoint file
alone is enough; no data set is needed for prediction or export.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from cnnzoo.data.folders import image_folder_split, open_image
from cnnzoo.data.inputs import InputSpec, read_inputs
from cnnzoo.errors import ConfigError
from cnnzoo.factory import create_model
from cnnzoo.pretrained import PretrainedWeights, find_weights, imagenet_labels
from cnnzoo.train.checkpoint import (
    Checkpoint,
    CheckpointError,
    find_checkpoint,
    not_usable,
)
from cnnzoo.train.config import TrainConfig
from cnnzoo.train.evaluate import EvalResult, Protocol, TestViews, evaluate
from cnnzoo.train.files import write_file
from cnnzoo.train.setup import build_model
from cnnzoo.train.weights import check_finite

__all__ = [
    "Prediction",
    "Published",
    "Trained",
    "evaluate_folder",
    "export_onnx",
    "load_published",
    "load_trained",
    "predict",
    "weights_metadata",
]


def weights_metadata(
    config: TrainConfig, classes: tuple[str, ...], spec: InputSpec
) -> dict[str, Any]:
    """The metadata of a run's exported weights (safetensors and ONNX alike): the model, its
    classes, how images are read, the config, and the weights training started from."""
    metadata: dict[str, Any] = {
        "model_name": config.model,
        "classes": list(classes),
        "input": spec.to_dict(),
        "config": config.to_dict(),
    }
    if config.weights:
        published = find_weights(config.model, config.weights)
        metadata["started_from"] = {"weights": published.title, "url": published.url}
    elif config.init_from:
        metadata["started_from"] = {"file": config.init_from}
    return metadata


@dataclass
class Trained:
    """A trained model with what it needs to read images."""

    model: nn.Module
    classes: tuple[str, ...]
    spec: InputSpec
    config: TrainConfig
    epoch: int

    def metadata(self) -> dict[str, Any]:
        """What exported weights carry: enough to rebuild the model and read images."""
        return weights_metadata(self.config, self.classes, self.spec)

    def example_input(self, batch: int = 1) -> torch.Tensor:
        return torch.zeros(batch, self.spec.channels, *self.spec.size)

    def read(self, paths: list[str]) -> torch.Tensor:
        """Image files as the model's inputs, converted as the training images were."""
        return read_inputs(self.spec, paths)


@dataclass
class Published:
    """A zoo model with published weights, reading images as those weights were trained."""

    model: nn.Module
    weights: PretrainedWeights

    @property
    def classes(self) -> tuple[str, ...]:
        return self.weights.categories

    def read(self, paths: list[str], protocol: Protocol = "center") -> torch.Tensor:
        """Image files through the weights' own preprocessing (torchvision's transforms:
        resize, centre crop, normalise), decoded safely as training images are. For ``10crop``
        the crop is the resized square itself, which :meth:`views` then cuts ten crops from."""
        transform: Any = self.weights.transforms()
        if protocol == "10crop":
            side = transform.resize_size
            transform = type(transform)(
                crop_size=side[0],
                resize_size=side[0],
                mean=transform.mean,
                std=transform.std,
                interpolation=transform.interpolation,
                antialias=transform.antialias,
            )
        return torch.stack([transform(open_image(path, 3)) for path in paths])

    def views(self, protocol: Protocol) -> TestViews:
        """The test-time views, for images :meth:`read` with the same ``protocol``."""
        transform: Any = self.weights.transforms()
        side = transform.crop_size[0]
        return TestViews(protocol, crop=(side, side) if protocol == "10crop" else None)

    def display(self, x: torch.Tensor) -> np.ndarray:
        """An input (1, 3, H, W) back as the picture it was, (H, W, 3) in 0..1."""
        transform: Any = self.weights.transforms()
        mean = torch.tensor(transform.mean).view(3, 1, 1)
        std = torch.tensor(transform.std).view(3, 1, 1)
        return (x[0] * std + mean).clamp(0, 1).permute(1, 2, 0).numpy()


def evaluate_folder(
    published: Published,
    root: str | os.PathLike[str],
    batch_size: int = 50,
    subset: int = 0,
    protocol: Protocol = "center",
) -> tuple[EvalResult, tuple[str, ...], list[int]]:
    """Published weights on an ImageNet-style folder (a sub-folder of images per class, named
    by WordNet id or category), each image read through the weights' transforms and seen as
    ``protocol`` says. ``subset``: the first images of a seeded order with the classes mixed,
    a fair sample. Returns the result, the folders' names and the ImageNet index of each."""
    if batch_size < 1:
        raise ConfigError(f"--batch-size {batch_size}: expected 1 or more")
    split = image_folder_split(root, val_fraction=0.0)
    labels = imagenet_labels(split.classes, published.weights)
    samples = split.train[:subset] if subset > 0 else split.train

    def batches() -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for start in range(0, len(samples), batch_size):
            chunk = samples[start : start + batch_size]
            images = published.read([str(path) for path, _ in chunk], protocol)
            yield images, torch.tensor([labels[label] for _, label in chunk])

    views = published.views(protocol)
    result = evaluate(published.model, batches(), len(published.classes), views=views)
    return result, split.classes, labels


def load_published(name: str, weights: str = "DEFAULT") -> Published:
    """Zoo model ``name`` with its published ``weights``, in eval mode."""
    published = find_weights(name, weights)
    model = create_model(name, weights=published.name).eval()
    return Published(model, published)


def load_trained(run_or_file: str | os.PathLike[str], ema: bool = True) -> Trained:
    """The final weights of a run (the EMA when the run kept one and ``ema``), in eval mode."""
    path = find_checkpoint(run_or_file)
    saved = Checkpoint.read(path)
    try:
        model = build_model(saved.config, saved.input.channels, len(saved.classes))
        weights = saved.weights(ema)
        check_finite(weights, path)
        model.load_state_dict(weights)
    except (KeyError, TypeError, RuntimeError, ValueError) as error:
        if isinstance(error, CheckpointError):
            raise
        raise not_usable(path, error) from error
    model.eval()
    return Trained(model, saved.classes, saved.input, saved.config, saved.epoch)


@dataclass(frozen=True)
class Prediction:
    path: str
    top: list[tuple[str, float]]  # (class name, probability), most likely first


@torch.no_grad()
def predict(
    trained: Trained | Published, paths: list[str], top_k: int = 5, batch_size: int = 64
) -> Iterator[Prediction]:
    """The ``top_k`` classes of each image, ``batch_size`` images read at a time (a folder of
    thousands is never held at once)."""
    for start in range(0, len(paths), batch_size):
        chunk = paths[start : start + batch_size]
        images = trained.read(chunk).to(next(trained.model.parameters()).device)
        probs = trained.model(images).float().softmax(1)
        values, indices = probs.topk(min(top_k, probs.shape[1]), dim=1)
        for path, row_v, row_i in zip(chunk, values.tolist(), indices.tolist(), strict=True):
            top = [(trained.classes[i], v) for v, i in zip(row_v, row_i, strict=True)]
            yield Prediction(str(path), top)


def export_onnx(
    trained: Trained, path: str | os.PathLike[str], check: bool = True
) -> dict[str, Any]:
    """Write the model as ONNX (dynamic batch) with the metadata the safetensors carry, through
    PyTorch's current exporter (``torch.export``), or its TorchScript one where that fails. With
    ``check``, run the file in onnxruntime on random inputs and return the largest difference
    from PyTorch's output."""
    import onnx

    path = Path(path)
    example = trained.example_input(2)
    # Exported to a scratch folder, then written by replacing ``path``: a link there is not
    # followed.
    with tempfile.TemporaryDirectory() as scratch:
        graph = Path(scratch) / "model.onnx"
        exporter = _export(trained.model, example, graph)
        model = onnx.load(str(graph))
        props = {key: json.dumps(value) for key, value in trained.metadata().items()}
        onnx.helper.set_model_props(model, props)
        write_file(path, model.SerializeToString())
    report: dict[str, Any] = {"path": str(path), "exporter": exporter}
    if check:
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        inputs = torch.randn(4, *example.shape[1:], generator=torch.Generator().manual_seed(0))
        (onnx_out,) = session.run(None, {"image": inputs.numpy()})
        torch_out = trained.model(inputs)
        report["max_abs_diff"] = (torch.from_numpy(onnx_out) - torch_out).abs().max().item()
        report["same_top1"] = bool(
            (torch.from_numpy(onnx_out).argmax(1) == torch_out.argmax(1)).all()
        )
    return report


def _export(model: nn.Module, example: torch.Tensor, graph: Path) -> str:
    """Export through ``torch.export`` (``dynamo=True``); a model it cannot capture goes
    through the TorchScript tracer instead. Returns which one wrote the file, and why."""
    names: dict[str, Any] = {"input_names": ["image"], "output_names": ["logits"]}
    try:
        torch.onnx.export(
            model,
            (example,),
            str(graph),
            dynamic_shapes=({0: torch.export.Dim("batch")},),
            dynamo=True,
            verbose=False,
            **names,
        )
        return "torch.export"
    except Exception as error:  # any failure to capture: the older exporter may still work
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
    with warnings.catch_warnings():
        # The model's input checks read the channels and size, which the export fixes
        # anyway; only the batch is dynamic.
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.simplefilter("ignore", DeprecationWarning)  # the report names the exporter
        torch.onnx.export(
            model,
            (example,),
            str(graph),
            dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
            dynamo=False,
            **names,
        )
    return f"TorchScript (torch.export could not capture the model: {reason})"
