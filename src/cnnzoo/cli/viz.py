"""``cnnzoo experiment``, ``viz`` and ``report``: the papers' claims tested, the networks seen."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from cnnzoo import viz
from cnnzoo.cli.train import _add_run_argument, eval_options
from cnnzoo.data.inputs import for_display, read_inputs
from cnnzoo.data.sources import load_arrays
from cnnzoo.errors import ConfigError
from cnnzoo.experiments import EXPERIMENTS, ExperimentResult, run_experiment
from cnnzoo.experiments.html import write_html_report
from cnnzoo.experiments.spec import SCALES
from cnnzoo.experiments.suite import run_suite
from cnnzoo.factory import create_model
from cnnzoo.train.checkpoint import find_checkpoint
from cnnzoo.train.folder import RunFolder
from cnnzoo.train.inference import Published, Trained, load_published, load_trained
from cnnzoo.viz.filters import first_conv

__all__ = ["PARSERS"]


def cmd_experiment(args: argparse.Namespace, console: Console) -> int:
    if args.name == "list":
        table = Table(
            title="experiments (`cnnzoo experiment NAME [--scale medium|full]`)",
            title_justify="left",
        )
        for column in ("name", "claim", "paper", "quick arms", "seeds", "scales"):
            table.add_column(column, overflow="fold")
        for e in EXPERIMENTS.values():
            arms = ", ".join(arm.label for arm in e.quick.arms)
            table.add_row(
                e.name,
                e.title,
                f"{e.paper.authors} {e.paper.year}, {e.source}",
                arms,
                str(e.quick.seeds),
                ", ".join(e.scales),
            )
        console.print(table)
        return 0
    overrides = {
        key: getattr(args, key)
        for key in ("epochs", "train_subset", "test_subset", "data_dir", "device", "threads")
        if getattr(args, key) is not None
    }
    scale = args.scale or ("full" if args.full else "quick")
    where = (args.out, args.seeds, overrides, args.progress, print)

    def show(result: ExperimentResult) -> None:
        table = Table(title=result.summary.title, title_justify="left")
        for column in ("claim", "paper", "measured", "verdict"):
            table.add_column(column, overflow="fold")
        for claim in result.summary.claims:
            table.add_row(claim.text, claim.paper, claim.measured, claim.verdict)
        console.print(table)
        print(f"report: {result.folder / 'report.md'}")

    if args.name == "all":  # each experiment's claims as it ends: the whole takes an hour or more
        _, claims = run_suite(scale, *where, done=show)
        print(f"every claim: {claims}")
    else:
        show(run_experiment(args.name, scale, *where))
    return 0


def _model_or_run(target: str, weights: str | None) -> tuple[torch.nn.Module, str]:
    """A trained run's model (a folder or checkpoint), a zoo model with published weights, or
    a freshly initialised one."""
    path = Path(target)
    if weights:
        published = load_published(target, weights)
        return published.model, f"{target}, {published.weights.title}"
    if path.exists():
        trained = load_trained(path)
        return trained.model, f"{trained.config.model} after {trained.epoch} epochs"
    return create_model(target), f"{target}, freshly initialised"


def _input(
    trained: Trained | Published, args: argparse.Namespace
) -> tuple[torch.Tensor, np.ndarray, str]:
    """The model's input (1, C, H, W), the same image for display (in 0..1) and its name:
    an image file, or the test image ``--index`` of the run's data set."""
    if isinstance(trained, Published):
        if not args.image:
            raise ConfigError("with --weights, give the picture to look at: --image FILE")
        x = trained.read([args.image])
        return x, trained.display(x), Path(args.image).name
    spec = trained.spec
    if args.image:
        x = read_inputs(spec, [args.image])  # (1, C, H, W), normalised as in training
        name = Path(args.image).name
    else:
        data = trained.config.data
        test = load_arrays(data, "test", args.data_dir or trained.config.data_dir or None)
        if not 0 <= args.index < len(test):
            raise ConfigError(f"--index {args.index}: the {data} test set has {len(test)} images")
        x = spec.transform()(test.images[args.index][None])
        name = f"{data} test image {args.index} ({test.classes[int(test.labels[args.index])]})"
    return x, for_display(spec, x), name


def _slug(text: str) -> str:
    """``text`` as part of a file name: letters, digits, '_' and '-' (features.c1:
    features-c1; T-shirt/top: T-shirt-top)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "x"


def _seen(args: argparse.Namespace) -> str:
    """What was looked at, for a picture's default name: two images of one run get two files."""
    return _slug(Path(args.image).name) if args.image else f"test{args.index}"


def _output(args: argparse.Namespace, run: str, default: str) -> Path:
    if args.output:
        return Path(args.output)
    if getattr(args, "weights", None):  # a zoo model, not a run: here, named after it
        name = Path(default)
        return Path(f"{name.stem}-{run}{name.suffix}")
    path = Path(run)
    folder = find_checkpoint(path).parent if path.exists() else Path(".")
    return folder / default


def cmd_viz(args: argparse.Namespace, console: Console) -> int:

    if args.what == "filters":
        model, described = _model_or_run(args.target, args.weights)
        is_run = Path(args.target).exists() and not args.weights
        named = is_run or args.weights  # else a fresh model's, named here
        out = _output(args, args.target, "filters.png" if named else f"filters-{args.target}.png")
        print(f"wrote {viz.plot_filters(model, out, described)}")
        return 0
    if args.what == "curves":
        runs = {Path(r).name: [viz.load_history(r)] for r in args.runs}
        configs = {Path(r).name: RunFolder.at(r).read_config() for r in args.runs}
        out = Path(args.output or (Path(args.runs[0]) / "curves.png"))
        title = "Training curves: " + ", ".join(runs)
        print(f"wrote {viz.plot_curves(runs, out, title, configs=configs)}")
        return 0
    trained: Trained | Published = (
        load_published(args.run_path, args.weights) if args.weights else load_trained(args.run_path)
    )
    model_name = trained.config.model if isinstance(trained, Trained) else args.run_path
    x, picture, name = _input(trained, args)
    with torch.no_grad():
        probs = trained.model(x).float().softmax(1)[0]
    best = int(probs.argmax())
    said = f"predicted {trained.classes[best]} ({100 * probs[best]:.1f}%)"
    if args.what == "activations":
        layers = args.layer or [first_conv(trained.model)[0]]
        maps = viz.activation_maps(trained.model, x, layers)
        for layer in layers:
            fmap = maps[layer][0]
            if fmap.dim() != 3:
                raise ConfigError(f"layer {layer!r} gives {tuple(fmap.shape)}, not maps (C, H, W)")
            title = (
                f"{model_name}: {min(len(fmap), args.max_maps)} of {len(fmap)} "
                f"activation maps of {layer} ({fmap.shape[1]}x{fmap.shape[2]}) for {name}; "
                f"{said}"
            )
            out = _output(args, args.run_path, f"activations-{_slug(layer)}-{_seen(args)}.png")
            if args.output and len(layers) > 1:
                out = out.with_name(f"{out.stem}-{_slug(layer)}{out.suffix}")
            print(f"wrote {viz.plot_activations(fmap, picture, out, title, args.max_maps)}")
        return 0
    # cam
    if args.target_class is None:
        target = best
    elif args.target_class in trained.classes:
        target = trained.classes.index(args.target_class)
    else:
        raise ConfigError(
            f"--class {args.target_class!r}: expected one of {', '.join(trained.classes)}"
        )
    layer = args.layer[0] if args.layer else viz.cam_layer(trained.model, x)
    heat = viz.grad_cam(trained.model, x, layer, target)
    title = (
        f"{model_name}: Grad-CAM of '{trained.classes[target]}' "
        f"({100 * probs[target]:.1f}%) at {layer}, for {name}; {said}"
    )
    picked = _slug(trained.classes[target])
    out = _output(args, args.run_path, f"cam-{_slug(layer)}-{picked}-{_seen(args)}.png")
    print(f"wrote {viz.plot_cam(picture, heat, out, title)}")
    return 0


def cmd_report(args: argparse.Namespace, console: Console) -> int:

    output = args.output or str(Path(args.paths[0]) / "report.html")
    if Path(output).suffix.lower() not in (".html", ".htm"):
        raise ConfigError(f"--output {output}: the report is an HTML page; name a .html file")
    print(f"wrote {write_html_report(args.paths, output)}")
    return 0


def _add_weights_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--weights", help="published weights of the zoo model named (DEFAULT, IMAGENET1K_V1, ...)"
    )


def _add_image_options(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group()  # one input: neither silently wins
    which.add_argument("--image", help="an image file (default: a test image of the run's data)")
    which.add_argument("--index", type=int, default=0, help="which test image (default: 0)")
    parser.add_argument("--data-dir", help="where the run's data set's files are")


def _experiment_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "name",
        choices=["list", "all", *EXPERIMENTS],
        metavar="NAME",
        help="an experiment, `all` of them one after another (with one table of every claim, "
        "claims-SCALE.md), or `list`: " + ", ".join(EXPERIMENTS),
    )
    scale = p.add_mutually_exclusive_group()
    scale.add_argument("--quick", action="store_true", help="minutes on a CPU (the default)")
    scale.add_argument("--full", action="store_true", help="the paper's setup (for a GPU)")
    scale.add_argument(
        "--scale",
        choices=SCALES,
        help="quick, medium (longer, for claims the quick scale is too short for, where the "
        "experiment has one; its report says how long) or full",
    )
    p.add_argument("--seeds", type=int, help="seeds per arm (default: the experiment's)")
    p.add_argument("--out", default="runs", help="folder of the experiment folder")
    p.add_argument("--epochs", type=int, help="override the scale's epochs")
    p.add_argument("--train-subset", type=int, help="override the training images")
    p.add_argument("--test-subset", type=int, help="override the test images")
    p.add_argument("--data-dir", help="where the data set's files are")
    p.add_argument("--device", help="cpu, cuda, cuda:N or auto")
    p.add_argument("--threads", type=int, help="CPU threads per process")
    p.add_argument("--progress", action="store_true", help="show each run's epochs")
    p.set_defaults(run=cmd_experiment)


def _viz_options(p: argparse.ArgumentParser) -> None:
    kinds = p.add_subparsers(dest="what", required=True, metavar="WHAT")
    q = kinds.add_parser("filters", help="first-layer filters of a model or a trained run")
    q.add_argument(
        "target", metavar="MODEL_OR_RUN", help="zoo model name, run folder or checkpoint"
    )
    q.add_argument("--output", help="PNG file (default: RUN/filters.png or filters-MODEL.png)")
    _add_weights_option(q)
    q.set_defaults(run=cmd_viz)
    q = kinds.add_parser("activations", help="a layer's activation maps for one image")
    _add_run_argument(q)
    _add_image_options(q)
    q.add_argument("--layer", action="append", help="layer name (repeatable; default: first conv)")
    q.add_argument("--max-maps", type=int, default=32, help="maps to draw per layer")
    q.add_argument(
        "--output",
        help="PNG file (default: RUN/activations-LAYER-IMAGE.png, IMAGE testN or the file's name)",
    )
    _add_weights_option(q)
    q.set_defaults(run=cmd_viz)
    q = kinds.add_parser("cam", help="Grad-CAM class activation map for one image")
    _add_run_argument(q)
    _add_image_options(q)
    q.add_argument("--class", dest="target_class", help="class to explain (default: predicted)")
    q.add_argument("--layer", action="append", help="layer (default: last map larger than 1x1)")
    q.add_argument("--output", help="PNG file (default: RUN/cam-LAYER-CLASS-IMAGE.png)")
    _add_weights_option(q)
    q.set_defaults(run=cmd_viz)
    q = kinds.add_parser("curves", help="loss, accuracy and learning rate of runs on one plot")
    q.add_argument("runs", nargs="+", metavar="RUN", help="run folders")
    q.add_argument("--output", help="PNG file (default: FIRST_RUN/curves.png)")
    q.set_defaults(run=cmd_viz)
    q = kinds.add_parser("confusion", help="confusion matrix of a run (as `cnnzoo eval`)")
    eval_options(q, picture="--output")


def _report_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", metavar="RUN", help="run or experiment folders")
    p.add_argument("--output", help="HTML file (default: FIRST/report.html)")
    p.set_defaults(run=cmd_report)


PARSERS: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "experiment": _experiment_options,
    "viz": _viz_options,
    "report": _report_options,
}
