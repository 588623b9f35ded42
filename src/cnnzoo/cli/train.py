"""``cnnzoo train``, ``eval``, ``predict``, ``export`` and ``recipes``.

Every field of :class:`~cnnzoo.train.TrainConfig` is an option of ``cnnzoo train``; only the
options given override the recipe, so ``--recipe resnet-cifar --epochs 20`` is the paper's recipe
with a shorter (proportionally scaled) schedule.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import glob
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cnnzoo.cli._args import UsageError
from cnnzoo.data.augment import Augment
from cnnzoo.data.folders import images_under
from cnnzoo.data.inputs import Fit
from cnnzoo.data.loader import InMemoryLoader
from cnnzoo.data.pipeline import build_data
from cnnzoo.errors import ConfigError
from cnnzoo.train import RECIPES, TrainConfig, resolve_config, train
from cnnzoo.train.checkpoint import find_checkpoint
from cnnzoo.train.config import MOVABLE_FIELDS
from cnnzoo.train.distributed import pick_device
from cnnzoo.train.evaluate import PROTOCOLS, Protocol, TestViews, evaluate
from cnnzoo.train.files import write_file
from cnnzoo.train.folder import RunFolder, saved_config
from cnnzoo.train.inference import (
    Prediction,
    evaluate_folder,
    export_onnx,
    load_published,
    load_trained,
    predict,
)
from cnnzoo.train.process import global_settings
from cnnzoo.train.weights import export_safetensors

__all__ = ["PARSERS", "eval_options"]

_SKIP = {"model", "recipe"}


def _tuple_of_floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected comma-separated numbers, e.g. 0.5,0.75"
        ) from None


def _keyword_args(text: str) -> dict[str, Any]:
    """``act=tanh,pool=2,widths=[32,64]``: values read as JSON where they parse, else as text."""
    values: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in _split_top_level(text))):
        key, sep, raw = part.partition("=")
        if not sep or not key.strip().isidentifier():
            raise argparse.ArgumentTypeError(
                f"{part!r}: expected NAME=VALUE pairs separated by commas, e.g. act=tanh,pool=2"
            )
        try:
            values[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            values[key.strip()] = raw.strip()
    return values


def _split_top_level(text: str) -> list[str]:
    """Split at commas outside brackets, so ``widths=[32,64]`` stays one pair."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += (char in "[{") - (char in "]}")
        if char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return [*parts, text[start:]]


def _add_config_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("config (defaults come from the recipe)")
    for f in dataclasses.fields(TrainConfig):
        if f.name in _SKIP:
            continue
        flag = "--" + f.name.replace("_", "-")
        help_text = f.metadata.get("help", "")
        if isinstance(f.default, bool) and f.name.startswith("no_"):
            # BooleanOptionalAction would take --no-decay-norm for the negation of --decay-norm
            # and set the field to False: spell out both flags.
            group.add_argument(flag, dest=f.name, action="store_const", const=True, help=help_text)
            group.add_argument(
                "--" + flag.removeprefix("--no-"),
                dest=f.name,
                action="store_const",
                const=False,
                help=f"the opposite of {flag}",
            )
        elif isinstance(f.default, bool):
            group.add_argument(
                flag, action=argparse.BooleanOptionalAction, default=None, help=help_text
            )
        elif f.name == "model_args":
            group.add_argument(
                flag, type=_keyword_args, default=None, metavar="K=V,...", help=help_text
            )
        elif isinstance(f.default, tuple):
            group.add_argument(
                flag, type=_tuple_of_floats, default=None, metavar="X,Y", help=help_text
            )
        else:
            group.add_argument(flag, type=type(f.default), default=None, help=help_text)


def cmd_train(args: argparse.Namespace, console: Console) -> int:
    overrides = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(TrainConfig)
        if f.name not in _SKIP and getattr(args, f.name) is not None
    }
    if args.resume and args.config:
        raise ConfigError("--resume continues a run with its own config: leave out --config")
    if args.resume:
        runtime = {k: v for k, v in overrides.items() if k in MOVABLE_FIELDS}
        fixed = sorted(set(overrides) - MOVABLE_FIELDS - {"epochs"})
        given = [f"--{name.replace('_', '-')}" for name in fixed]
        given += [f"--recipe {args.recipe}"] * bool(args.recipe)
        given += [f"the model {args.model}"] * bool(args.model)
        if given:
            options = ", ".join(f"--{name.replace('_', '-')}" for name in sorted(MOVABLE_FIELDS))
            raise ConfigError(
                f"--resume keeps the run's model and config; only --epochs and where it runs "
                f"({options}) may change (got {', '.join(given)})"
            )
        result = train(
            resume=args.resume,
            epochs=overrides.get("epochs"),
            runtime=runtime,
            other_data=args.other_data,
        )
    elif args.config:
        if args.model or args.recipe:
            raise ConfigError(
                "--config gives the model and every value of the saved run; change values "
                "with their options (e.g. --epochs 5), not with a model or a --recipe"
            )
        result = train(saved_config(args.config, **overrides))
    else:
        if not args.model:
            raise ConfigError(
                "name a model (e.g. `cnnzoo train lenet5`), or give --resume RUN or --config RUN"
            )
        config = resolve_config(args.model, args.recipe, **overrides)
        result = train(config)
    test = result.test
    if os.environ.get("RANK", "0") != "0":
        return 0  # under torchrun every process returns the result; the first one reports it
    print(
        f"{result.run_dir}: test top-1 {test.top1:.2f}%, top-5 {test.top5:.2f}% "
        f"on {test.count} images after {result.epochs} epochs "
        f"({result.wall_time_s:.0f} s)"
    )
    return 0


def cmd_recipes(args: argparse.Namespace, console: Console) -> int:
    table = Table(
        title="training recipes (`cnnzoo train MODEL --recipe NAME`)", title_justify="left"
    )
    for column in ("name", "source", "values", "departs from the paper"):
        table.add_column(column, overflow="fold")
    for recipe in RECIPES.values():
        values = ", ".join(f"{k}={v}" for k, v in recipe.values.items())
        table.add_row(recipe.name, recipe.source, values, recipe.note or "-")
    console.print(table)
    return 0


def printable(text: str) -> str:
    """A name from someone else's files (a class folder, a checkpoint) as a terminal should get
    it: control characters, escape sequences among them, written out rather than sent."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def cmd_eval(args: argparse.Namespace, console: Console) -> int:
    with _placed(args) as device:
        if args.weights:
            return _eval_published(args, console, device)
        return _eval_run(args, console, device)


def _eval_run(args: argparse.Namespace, console: Console, device: torch.device) -> int:
    from cnnzoo.viz.evaluation import plot_confusion  # matplotlib: slow to import, needed here

    trained = load_trained(args.run_path)
    trained.model.to(device)
    spec = trained.spec
    if args.test_subset is not None and args.test_subset < 0:
        raise ConfigError(f"--test-subset {args.test_subset}: expected 0 (all) or more")
    # The run's test set: a run tested on a subset is evaluated on that subset.
    subset = 0 if args.data else trained.config.test_subset
    data = build_data(
        args.data or trained.config.data,
        Fit(spec.size, spec.channels, spec.mode),
        Augment(),
        trained.config.batch_size,  # what the run's training split is known to hold
        data_dir=args.data_dir or trained.config.data_dir or None,
        val_fraction=trained.config.val_fraction,
        seed=trained.config.seed,
        test_subset=subset if args.test_subset is None else args.test_subset,
        device=device,
    )
    loader = data.test
    if isinstance(loader, InMemoryLoader):  # the saved normalisation, the asked batch size
        loader = InMemoryLoader(
            loader.images, loader.labels, spec.transform(), args.batch_size, False, device=device
        )
    protocol = args.protocol or trained.config.test_views  # as the run tested itself
    views = TestViews(protocol, pad=trained.config.crop_padding)
    result = evaluate(trained.model, loader, len(trained.classes), views=views)
    # A line of its own: a table title would be wrapped to the narrow table's width.
    print(
        f"{args.run_path}: {result.count} test images, top-1 {result.top1:.2f}%, "
        f"top-5 {result.top5:.2f}% ({_PROTOCOL_NAMES[protocol]})"
    )
    table = Table(title="accuracy per class", title_justify="left")
    table.add_column("class")
    table.add_column("accuracy", justify="right")
    table.add_column("images", justify="right")
    for name, accuracy, total in zip(
        trained.classes, result.per_class, result.confusion.sum(1).tolist(), strict=True
    ):
        table.add_row(Text(printable(name)), f"{accuracy:.2f}%", str(total))  # no markup
    console.print(table)
    run_dir = find_checkpoint(args.run_path).parent
    plot = Path(args.confusion) if args.confusion else run_dir / "confusion.png"
    plot_confusion(
        result.confusion,
        trained.classes,
        plot,
        title=f"{trained.config.model} on {trained.config.data}: top-1 {result.top1:.2f}%",
    )
    print(f"confusion matrix: {plot}")
    if args.json:
        write_file(
            args.json,
            json.dumps(
                {
                    "protocol": protocol,
                    "top1": result.top1,
                    "top5": result.top5,
                    "loss": result.loss,
                    "count": result.count,
                    "per_class": dict(zip(trained.classes, result.per_class, strict=True)),
                    "confusion": result.confusion.tolist(),
                },
                indent=2,
            )
            + "\n",
        )
    return 0


def cmd_predict(args: argparse.Namespace, console: Console) -> int:
    if args.top_k is None:
        args.top_k = 5 if args.weights else 3  # ImageNet's figures are top-5
    if args.top_k < 1:
        raise ConfigError(f"--top-k {args.top_k}: show at least the most likely class (1 or more)")
    with _placed(args) as device:
        trained = (
            load_published(args.run_path, args.weights)
            if args.weights
            else load_trained(args.run_path)
        )
        trained.model.to(device)
        _print_predictions(predict(trained, _image_files(args.images), args.top_k), args.format)
    return 0


def _print_predictions(predictions: Iterable[Prediction], form: str) -> None:
    """Text and CSV as each batch is predicted; JSON, one document, at the end."""
    if form == "json":
        rows = [
            {"path": p.path, "top": [{"class": c, "probability": v} for c, v in p.top]}
            for p in predictions
        ]
        print(json.dumps(rows, indent=2))
    elif form == "csv":
        out = csv.writer(sys.stdout, lineterminator="\n")
        out.writerow(["path", "rank", "class", "probability"])
        for p in predictions:
            out.writerows([p.path, rank, c, f"{v:.6f}"] for rank, (c, v) in enumerate(p.top, 1))
    else:
        for p in predictions:
            ranked = ", ".join(f"{printable(name)} {100 * v:.1f}%" for name, v in p.top)
            print(f"{printable(p.path)}: {ranked}")


def _image_files(given: list[str]) -> list[str]:
    """Files as given, folders as the images under them, and patterns (quoted, so the shell
    left them) as the files they match, in order; a name matching nothing is an error."""
    files: list[str] = []
    for item in given:
        path = Path(item)
        if path.is_dir():
            found = [str(p) for p in images_under(path)]
        elif path.exists():
            found = [item]
        else:
            found = sorted(glob.glob(item, recursive=True)) if glob.has_magic(item) else []
        if not found:
            what = "no images in the folder" if path.is_dir() else "no such file or pattern"
            raise UsageError(f"{item}: {what}")
        files += found
    return files


def cmd_export(args: argparse.Namespace, console: Console) -> int:
    trained = load_trained(args.run_path)
    checkpoint = find_checkpoint(args.run_path)
    suffix = ".onnx" if args.format == "onnx" else ".safetensors"
    # best.pt exports as best.safetensors: the final weights' model.safetensors stays.
    stem = "model" if checkpoint.name == RunFolder.CHECKPOINT else checkpoint.stem
    output = Path(args.output) if args.output else checkpoint.with_name(stem + suffix)
    if args.format == "safetensors":
        export_safetensors(trained.model, output, trained.metadata())
        print(f"wrote {output}")
        return 0
    report = export_onnx(trained, output, check=not args.no_check)
    line = f"wrote {output} ({report['exporter']})"
    if "max_abs_diff" in report:
        line += (
            f"; onnxruntime against PyTorch: max |difference| {report['max_abs_diff']:.2e}, "
            f"same top-1: {report['same_top1']}"
        )
    print(line)
    return 0


_PROTOCOL_NAMES = {
    "center": "centre crop",
    "flip": "centre crop and its mirror",
    "10crop": "10 crops: corners, centre and their mirrors",
}


@contextlib.contextmanager
def _placed(args: argparse.Namespace) -> Iterator[torch.device]:
    """``--device`` and ``--threads`` of ``eval`` and ``predict``; the thread count is put
    back after (a notebook or a test session calling ``main`` keeps its own)."""
    if args.threads < 0:
        raise ConfigError(f"--threads {args.threads}: expected 0 (PyTorch's default) or more")
    device = pick_device(args.device)
    restore = global_settings()
    try:
        if args.threads:
            torch.set_num_threads(args.threads)
        yield device
    finally:
        restore()


def _add_device_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto (default)")
    p.add_argument("--threads", type=int, default=0, help="CPU threads (0: PyTorch's default)")


def _eval_published(args: argparse.Namespace, console: Console, device: torch.device) -> int:
    """``cnnzoo eval NAME --weights W --data FOLDER``: top-1 and top-5 on ImageNet's classes."""
    if not args.data:
        raise UsageError(
            "with --weights, give --data FOLDER: one sub-folder of images per class, named by "
            "its WordNet id (n01440764) or ImageNet category (tench)"
        )
    published = load_published(args.run_path, args.weights)
    published.model.to(device)
    protocol: Protocol = args.protocol or "center"
    result, folders, labels = evaluate_folder(
        published, args.data, args.batch_size, args.test_subset or 0, protocol
    )
    print(
        f"{args.run_path} {published.weights.title} on {args.data}: {result.count} images, "
        f"top-1 {result.top1:.2f}%, top-5 {result.top5:.2f}% ({_PROTOCOL_NAMES[protocol]}; "
        f"torchvision reports {published.weights.acc1}% and {published.weights.acc5}% on "
        "ImageNet's validation set with one centre crop)"
    )
    table = Table(title="accuracy per class", title_justify="left")
    for column in ("folder", "class", "accuracy", "images"):
        table.add_column(column, justify="right" if column in ("accuracy", "images") else "left")
    totals = result.confusion.sum(1).tolist()
    for folder, label in zip(folders, labels, strict=True):
        table.add_row(
            Text(printable(folder)),
            Text(printable(published.classes[label])),
            f"{result.per_class[label]:.2f}%",
            str(totals[label]),
        )
    console.print(table)
    if args.json:
        per_class = {f: result.per_class[i] for f, i in zip(folders, labels, strict=True)}
        figures: dict[str, object] = {"protocol": protocol}
        figures |= {"top1": result.top1, "top5": result.top5}
        figures |= {"loss": result.loss, "count": result.count, "per_class": per_class}
        write_file(args.json, json.dumps(figures, indent=2) + "\n")
    return 0


def eval_options(p: argparse.ArgumentParser, picture: str = "--confusion") -> None:
    """``cnnzoo eval``; also ``cnnzoo viz confusion``, the same evaluation by its picture,
    whose file is ``--output`` as for the other pictures."""
    _add_run_argument(p)
    p.add_argument("--data", help="data set (default: the run's)")
    p.add_argument("--data-dir", help="where the data set's files are")
    p.add_argument("--batch-size", type=int, default=500)
    p.add_argument(
        picture, dest="confusion", help="confusion-matrix PNG (default: RUN/confusion.png)"
    )
    p.add_argument("--json", help="also write the figures to this JSON file")
    p.add_argument(
        "--weights", help="published weights of the zoo model named (with --data FOLDER)"
    )
    p.add_argument(
        "--test-subset", type=int, help="the first N test images only (default: the run's)"
    )
    p.add_argument(
        "--protocol",
        choices=PROTOCOLS,
        help="test-time views, their softmax averaged: the centre crop, with its mirror "
        "(flip), or AlexNet's ten crops (10crop; a run's crops come from its --crop-padding); "
        "default: a run's own --test-views, the centre crop for published weights",
    )
    _add_device_options(p)
    p.set_defaults(run=cmd_eval)


def _add_run_argument(parser: argparse.ArgumentParser) -> None:
    # Not `dest="run"`: that attribute holds the command's function (`set_defaults(run=...)`).
    parser.add_argument("run_path", metavar="RUN", help="run folder or checkpoint file")


def _train_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", nargs="?", help="zoo model name, e.g. lenet5, resnet20")
    p.add_argument("--recipe", choices=list(RECIPES), help="paper recipe (default: fast)")
    p.add_argument("--resume", metavar="RUN", help="continue a run folder or checkpoint")
    p.add_argument(
        "--config",
        metavar="RUN",
        help="train a saved run again (its folder or config.json) in a new folder; options "
        "given change its values",
    )
    p.add_argument(
        "--other-data",
        action="store_true",
        help="with --resume: go on although the data differs from what the run began "
        "with (warned, not refused)",
    )
    _add_config_options(p)
    p.set_defaults(run=cmd_train)


def _recipes_options(p: argparse.ArgumentParser) -> None:
    p.set_defaults(run=cmd_recipes)


def _predict_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "run_path", metavar="RUN", help="run folder or checkpoint file; with --weights, a model"
    )
    p.add_argument("images", nargs="+", help="image files (any size or mode)")
    p.add_argument(
        "--weights", help="published weights of the model named (DEFAULT, IMAGENET1K_V1, ...)"
    )
    p.add_argument("--top-k", type=int, help="classes shown (default 3; 5 with --weights)")
    p.add_argument(
        "--format", choices=("text", "json", "csv"), default="text", help="for scripts: json, csv"
    )
    _add_device_options(p)
    p.set_defaults(run=cmd_predict)


def _export_options(p: argparse.ArgumentParser) -> None:
    _add_run_argument(p)
    p.add_argument("--format", choices=("safetensors", "onnx"), default="safetensors")
    p.add_argument(
        "--output",
        help="file to write (default: RUN/model.<format>; for RUN/best.pt, best.<format>)",
    )
    p.add_argument("--no-check", action="store_true", help="onnx: skip the onnxruntime comparison")
    p.set_defaults(run=cmd_export)


PARSERS: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "train": _train_options,
    "recipes": _recipes_options,
    "eval": eval_options,
    "predict": _predict_options,
    "export": _export_options,
}
