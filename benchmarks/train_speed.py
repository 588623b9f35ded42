"""Seconds per epoch and images per second of cnnzoo's training engine on Fashion-MNIST, and the
training time it takes to reach a test accuracy.

Speed (the default): one epoch of each model with its recipe through the real engine,
``train(resolve_config(model, recipe, epochs=1, ...), progress=False)``. The figures are the
engine's own, from the history it returns: ``epoch_time_s`` and ``images_per_s`` count the
training steps (loading, augmentation, forward, backward, update, bookkeeping), not the
evaluation after the epoch nor the checkpoint. The baseline, timed just before in the same run,
is the model's bare training step: the engine's own step (``cnnzoo.train.step.Stepper``: the
same loss, optimizer, precision, clipping and EMA) on one fixed random batch of the input shape
the engine feeds, without its loader, schedule or metrics (the best of 3 windows of --steps
steps).
engine ÷ bare is the share of the model's own speed that the engine delivers. By default
``lenet5`` (the paper's tanh/RBF build) and ``lenet5_modern`` both train with the ``lenet5``
recipe (batch 32, 28x28 padded to 32x32), so their rows differ only in the build; ``resnet20``
with ``fast`` (batch 256, crop and flip).

Time to accuracy (``--time-to-accuracy 93``): train --model with --recipe for --epochs and report
the training time (the history's cumulative ``time_s``, evaluations excluded) at the end of the
first epoch whose test top-1 reached the target, or "not reached" and the best top-1. The
schedule runs its full --epochs either way, so the time depends on them. This is the
time-to-93% the README quotes; nothing in the run serves as its baseline, so quote it with the
machine line printed above it. On a machine busy with other work, pass --threads 1: OpenMP
threads that wait for a busy core can slow small steps by an order of magnitude or more. Run:

    python benchmarks/train_speed.py [--train-subset 4096] [--runs lenet5:lenet5,...] [--threads N]
    python benchmarks/train_speed.py --time-to-accuracy 93 [--model resnet20] [--recipe fast]
        [--epochs 10]
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
from typing import Any

import torch

from _common import engine_step, images_per_s, machine_line
from cnnzoo import model_info
from cnnzoo.data import DATASETS
from cnnzoo.data.inputs import Fit, choose_fit
from cnnzoo.train import TrainConfig, resolve_config, train
from cnnzoo.train.distributed import pick_device

FASHION = DATASETS["fashion-mnist"]
RUNS = "lenet5:lenet5,lenet5_modern:lenet5,resnet20:fast"  # model:recipe, in table order
REPEATS = 3  # timed windows of the bare step; the best counts


def _fit(config: TrainConfig) -> Fit:
    """The input the engine gives config's model from Fashion-MNIST's images."""
    info = model_info(config.model)
    return choose_fit(info, FASHION.image_shape, config.channels, config.fit, config.image_size)


def bare_images_per_s(config: TrainConfig, steps: int) -> float:
    """The model's own training speed on the input the engine would feed it."""
    fit = _fit(config)
    device = pick_device(config.device)
    images = torch.randn(config.batch_size, fit.channels, *fit.size, device=device)
    labels = torch.randint(len(FASHION.classes), (config.batch_size,), device=device)
    step = engine_step(config, fit, len(FASHION.classes), device)
    return images_per_s(itertools.repeat((images, labels)), steps, REPEATS, step)


def speed(args: argparse.Namespace, common: dict[str, Any]) -> None:
    print(
        f"one epoch of {args.train_subset or FASHION.size('train')} images; "
        f"bare step: the best of {REPEATS} windows of {args.steps} steps"
    )
    print(
        f"{'model':<14} {'recipe':<7} {'batch':>5} {'input':>8} {'s/epoch':>8} {'img/s':>7} "
        f"{'bare':>7} {'engine/bare':>11} {'top-1':>6}"
    )
    for entry in args.runs.split(","):
        model, _, recipe = entry.partition(":")
        config = resolve_config(model, recipe or None, epochs=1, **common)
        bare = bare_images_per_s(config, args.steps)
        row = train(config, progress=False).history[-1]
        fit = _fit(config)
        shape = f"{fit.channels}x{fit.size[0]}x{fit.size[1]}"
        print(
            f"{model:<14} {config.recipe:<7} {config.batch_size:>5} {shape:>8} "
            f"{row['epoch_time_s']:>8.1f} {row['images_per_s']:>7,.0f} {bare:>7,.0f} "
            f"{row['images_per_s'] / bare:>10.2f}x {row['test_top1']:>5.1f}%"
        )


def time_to_accuracy(args: argparse.Namespace, common: dict[str, Any]) -> None:
    config = resolve_config(args.model, args.recipe, epochs=args.epochs, **common)
    print(
        f"{args.model}, recipe {config.recipe}, {config.epochs} epochs, batch {config.batch_size}: "
        f"training time to {args.time_to_accuracy:g}% test top-1"
    )
    result = train(config, progress=False)
    print(f"{'epoch':>5} {'time_s':>8} {'test top-1':>10}")
    for row in result.history:
        print(f"{row['epoch']:>5} {row['time_s']:>8.1f} {row['test_top1']:>9.2f}%")
    reached = [row for row in result.history if row["test_top1"] >= args.time_to_accuracy]
    if reached:
        first = reached[0]
        print(
            f"reached {args.time_to_accuracy:g}% after epoch {first['epoch']}: "
            f"{first['time_s']:.1f} s of training ({first['test_top1']:.2f}%)"
        )
    else:
        best = max(result.history, key=lambda row: row["test_top1"])
        print(
            f"{args.time_to_accuracy:g}% not reached in {result.epochs} epochs "
            f"({result.history[-1]['time_s']:.1f} s of training): best {best['test_top1']:.2f}% "
            f"after epoch {best['epoch']}"
        )
    print(f"wall time of the run, evaluations and checkpoints included: {result.wall_time_s:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--runs", default=RUNS, help=f"speed: model:recipe pairs, comma-separated ({RUNS})"
    )
    parser.add_argument("--steps", type=int, default=20, help="speed: bare steps per window")
    parser.add_argument(
        "--time-to-accuracy",
        type=float,
        metavar="TOP1",
        help="instead of speed: training time until the test top-1 reaches TOP1 percent",
    )
    parser.add_argument("--model", default="resnet20", help="time to accuracy: the model")
    parser.add_argument("--recipe", default="fast", help="time to accuracy: its recipe")
    parser.add_argument("--epochs", type=int, default=10, help="time to accuracy: epochs")
    parser.add_argument(
        "--train-subset", type=int, default=0, help="the first N training images only (0: all)"
    )
    parser.add_argument(
        "--test-subset",
        type=int,
        default=0,
        help="the first N test images only (0: all; a time to accuracy needs all)",
    )
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    parser.add_argument("--device", default="auto", help="cpu, cuda or auto")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)  # as the engine does, so the bare step is timed alike
    print(machine_line())
    with tempfile.TemporaryDirectory() as out:  # the run folders, thrown away afterwards
        common = dict(
            data="fashion-mnist",
            train_subset=args.train_subset,
            test_subset=args.test_subset,
            threads=args.threads,
            device=args.device,
            out=out,
        )
        if args.time_to_accuracy is None:
            speed(args, common)
        else:
            time_to_accuracy(args, common)


if __name__ == "__main__":
    main()
