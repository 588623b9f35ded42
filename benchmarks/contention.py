"""Training speed on a busy machine, against its fair share of the cores.

The engine's own training step (``cnnzoo.train.step.Stepper``) runs for --seconds in a process
of its own per setting, first alone, then beside --competitors CPU-bound processes (``while
True: pass``) that this benchmark starts and stops itself. The settings: a fixed thread count
of all the cores (PyTorch's default without the engine), one thread, and the engine's default
(no ``--threads``: ``cnnzoo.train.threads.ThreadGovernor`` follows the free cores). The ratio is
the busy speed over the quiet speed of the same setting, run beside each other; the fair share
is 1 / (1 + competitors) of the quiet speed (the run one process among 1 + competitors
that all want every core), and ratio / fair >= 1 means the run slowed by no more than
its share. Run:

    python benchmarks/contention.py [--model lenet5_modern] [--seconds 8] [--competitors 1]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import torch

from _common import FASHION, WARMUP, engine_step, fashion_fit
from cnnzoo.train import resolve_config
from cnnzoo.train.threads import ThreadGovernor

SETTINGS = {  # name: the thread count the step starts with, and whether it follows the cores
    "all cores, fixed": ("all", False),
    "1 thread": ("1", False),
    "engine default": ("all", True),
}


def measure(model: str, threads: str, adapt: bool, seconds: float, batch: int) -> dict[str, float]:
    """Images per second of the engine's step over ``seconds``, in this process: started with
    ``threads`` ("all": PyTorch's default), following the free cores when ``adapt``."""
    if threads != "all":
        torch.set_num_threads(int(threads))
    torch.set_flush_denormal(True)
    config = resolve_config(model, "fast", batch_size=batch)
    fit = fashion_fit(config)
    step = engine_step(config, fit, len(FASHION.classes))
    images = torch.randn(batch, fit.channels, *fit.size)
    labels = torch.randint(len(FASHION.classes), (batch,))
    for _ in range(WARMUP):
        step(images, labels)
    governor = ThreadGovernor(torch.get_num_threads()) if adapt else None
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step(images, labels)
        count += batch
        if governor is not None:
            governor.tick()
    return {
        "images_per_s": count / (time.perf_counter() - start),
        "threads": torch.get_num_threads(),
    }


def _speed(args: argparse.Namespace, threads: str, adapt: bool) -> dict[str, float]:
    """:func:`measure` in a process of its own: this script again, as the child."""
    child = ["--child", threads, str(int(adapt)), "--model", args.model]
    child += ["--seconds", str(args.seconds), "--batch-size", str(args.batch_size)]
    done = subprocess.run(
        [sys.executable, __file__, *child],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="lenet5_modern", help="zoo model (Fashion-MNIST input)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seconds", type=float, default=8.0, help="timed steps per measurement")
    parser.add_argument("--competitors", type=int, default=1, help="CPU-bound processes beside")
    parser.add_argument("--child", nargs=2, metavar=("THREADS", "ADAPT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:  # one measurement, printed as JSON for the parent
        threads, adapt = args.child
        print(json.dumps(measure(args.model, threads, adapt == "1", args.seconds, args.batch_size)))
        return
    cores = os.cpu_count() or 1
    fair = 1 / (1 + args.competitors)
    print(
        f"{args.model}, batch {args.batch_size}, {args.seconds:g} s per measurement, {cores} "
        f"cores, beside {args.competitors} busy process(es): fair share {fair:.2f}"
    )
    print(
        f"{'setting':<18} {'alone img/s':>11} {'busy img/s':>10} {'threads at end':>19} "
        f"{'ratio':>6} "
        f"{'ratio/fair':>10}"
    )
    for name, (threads, adapt) in SETTINGS.items():
        alone = _speed(args, threads, adapt)
        spinners = [
            subprocess.Popen([sys.executable, "-c", "while True: pass"])
            for _ in range(args.competitors)
        ]
        try:
            time.sleep(0.5)  # the competitors running before the step starts
            busy = _speed(args, threads, adapt)
        finally:
            for spinner in spinners:
                spinner.kill()
                spinner.wait()
        ratio = busy["images_per_s"] / alone["images_per_s"]
        print(
            f"{name:<18} {alone['images_per_s']:>11,.0f} {busy['images_per_s']:>10,.0f} "
            f"{alone['threads']:>6.0f} alone, {busy['threads']:.0f} busy "
            f"{ratio:>6.2f} {ratio / fair:>10.2f}"
        )


if __name__ == "__main__":
    main()
