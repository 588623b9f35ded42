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
with ``fast`` (batch 256, crop and flip); ``speedrun`` with ``speed`` (batch 256, channels-last).

Time to accuracy (``--time-to-accuracy 93 --seeds 3``): train --model (the speed route,
``speedrun``) with its recipe (``speed``) once per seed and report, for each, the training time
(the history's cumulative ``time_s``, evaluations excluded) at the end of the first epoch whose
test top-1 reached the target, then the mean ± standard deviation over the seeds of that time
and of the final top-1. The schedule runs its full --epochs either way, so the time depends on
them. The baseline, timed after the runs in the same process, is ResNet-20 with the ``fast``
recipe, the zoo's route to 93% before this one: its images/s over one epoch of
--baseline-images (12,800), and the time its 9 epochs to 93% take at that speed, against the
mean time above (0 skips it). A busy machine slows both alike, so the ratio holds where the
seconds do not. Run:

    python benchmarks/train_speed.py [--train-subset 4096] [--runs lenet5:lenet5,...] [--threads N]
    python benchmarks/train_speed.py --time-to-accuracy 93 --seeds 3 [--model speedrun]
        [--recipe speed] [--epochs 8]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import tempfile
from dataclasses import replace
from typing import Any

import torch

from _common import FASHION, engine_step, fashion_fit, images_per_s, machine_line
from cnnzoo.train import TrainConfig, resolve_config, train
from cnnzoo.train.distributed import pick_device
from cnnzoo.train.metrics import first_reaching

RUNS = "lenet5:lenet5,lenet5_modern:lenet5,resnet20:fast,speedrun:speed"  # model:recipe
BASELINE = ("resnet20", "fast")  # the zoo's route to 93% before the speed route
BASELINE_EPOCHS = 9  # its epochs to 93% (of 10, 93.19%: README, measured on 2 cores)
REPEATS = 3  # timed windows of the bare step; the best counts


def bare_images_per_s(config: TrainConfig, steps: int) -> float:
    """The model's own training speed on the input the engine would feed it."""
    fit = fashion_fit(config)
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
        fit = fashion_fit(config)
        shape = f"{fit.channels}x{fit.size[0]}x{fit.size[1]}"
        print(
            f"{model:<14} {config.recipe:<7} {config.batch_size:>5} {shape:>8} "
            f"{row['epoch_time_s']:>8.1f} {row['images_per_s']:>7,.0f} {bare:>7,.0f} "
            f"{row['images_per_s'] / bare:>10.2f}x {row['test_top1']:>5.1f}%"
        )


def _spread(values: list[float]) -> str:
    """Mean ± sample standard deviation (the mean alone from one value)."""
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}"


def time_to_accuracy(args: argparse.Namespace, common: dict[str, Any]) -> None:
    config = resolve_config(args.model, args.recipe, epochs=args.epochs, **common)
    target = args.time_to_accuracy
    print(
        f"{config.model}, recipe {config.recipe}, {config.epochs} epochs, batch "
        f"{config.batch_size}, test views {config.test_views}, seeds {args.seed}-"
        f"{args.seed + args.seeds - 1}: training time to {target:g}% test top-1 (evaluations "
        "excluded)"
    )
    times, finals, ends = [], [], []
    for seed in range(args.seed, args.seed + args.seeds):
        result = train(replace(config, seed=seed), progress=False)
        history = result.history
        curve = " ".join(f"{row['test_top1']:.2f}" for row in history)
        print(f"seed {seed}: top-1 per epoch {curve}")
        first = first_reaching(history, target)
        end = history[-1]
        finals.append(end["test_top1"])
        ends.append(end["time_s"])
        if first is None:
            print(f"  {target:g}% not reached; {end['test_top1']:.2f}% after {end['time_s']:.1f} s")
        else:
            times.append(first["time_s"])
            print(
                f"  {target:g}% after epoch {first['epoch']}: {first['time_s']:.1f} s of training; "
                f"{end['test_top1']:.2f}% after all {len(history)} ({end['time_s']:.1f} s)"
            )
    print(f"final top-1 {_spread(finals)}% after {_spread(ends)} s of training")
    if times:
        print(f"time to {target:g}%: {_spread(times)} s ({len(times)} of {args.seeds} seeds)")
    else:
        print(f"time to {target:g}%: no seed reached it")
    if args.baseline_images:
        _baseline(common, args.baseline_images, statistics.mean(times) if times else None, target)


def _baseline(common: dict[str, Any], images: int, mean_time: float | None, target: float) -> None:
    """ResNet-20's ``fast`` route timed in the same run: the ratio holds on a noisy machine."""
    model, recipe = BASELINE
    config = resolve_config(model, recipe, epochs=1, **{**common, "train_subset": images})
    rate = train(config, progress=False).history[-1]["images_per_s"]
    epoch_s = FASHION.size("train") / rate
    print(
        f"baseline in the same run: {model} ({recipe}) trains at {rate:,.0f} images/s, "
        f"{epoch_s:.1f} s an epoch ({images:,} images timed)"
    )
    if mean_time is not None:
        route = BASELINE_EPOCHS * epoch_s
        print(
            f"  its route to 93% takes {BASELINE_EPOCHS} epochs (README): {route:.0f} s at this "
            f"speed; the mean time to {target:g}% above is {route / mean_time:.1f}x shorter"
        )


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
    parser.add_argument("--model", default="speedrun", help="time to accuracy: the model")
    parser.add_argument(
        "--recipe", default=None, help="time to accuracy: its recipe (default: the model's)"
    )
    parser.add_argument(
        "--epochs", type=int, default=None, help="time to accuracy: epochs (default: the recipe's)"
    )
    parser.add_argument("--seeds", type=int, default=1, help="time to accuracy: runs, one a seed")
    parser.add_argument("--seed", type=int, default=0, help="time to accuracy: the first seed")
    parser.add_argument(
        "--baseline-images",
        type=int,
        default=12_800,
        help=f"time to accuracy: the images {BASELINE[0]} ({BASELINE[1]}) is timed on after "
        "the runs (0: no baseline)",
    )
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
    if args.seeds < 1:
        parser.error(f"--seeds {args.seeds}: expected 1 or more")
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
