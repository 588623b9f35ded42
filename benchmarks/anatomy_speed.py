"""Time to analyse every registered model with cnnzoo.anatomy, beside torchinfo in the same run.

cnnzoo works on the meta device (no memory, no arithmetic); torchinfo runs a real forward pass on
the CPU. Both see the same model at its paper's input size, batch 1. Run:

    python benchmarks/anatomy_speed.py [PATTERN]
"""

from __future__ import annotations

import argparse
import time
import warnings

import torch
import torchinfo

from cnnzoo import create_model, list_models, model_info
from cnnzoo.anatomy import GeometryWarning, analyze


def best_of(repeats: int, fn: object) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pattern", nargs="?", default="*", help="models, e.g. 'resnet*'")
    pattern = parser.parse_args(argv).pattern
    if not list_models(pattern):
        parser.error(f"no model matches {pattern!r}")
    warnings.simplefilter("ignore", GeometryWarning)
    torch.set_num_threads(max(torch.get_num_threads(), 1))
    analyze("resnet18")  # first-use imports, paid once per process
    print(f"{'model':<20} {'input':>11} {'cnnzoo':>9} {'torchinfo':>10} {'ratio':>7}")
    ours_total = theirs_total = 0.0
    for name in list_models(pattern):
        size = model_info(name).input_size
        meta = create_model(name, device="meta")
        ours = best_of(3, lambda meta=meta, size=size: analyze(meta, size))
        real = create_model(name).eval()
        theirs = best_of(
            2,
            lambda real=real, size=size: torchinfo.summary(
                real, input_size=(1, *size), verbose=0, device="cpu"
            ),
        )
        ours_total, theirs_total = ours_total + ours, theirs_total + theirs
        print(
            f"{name:<20} {'x'.join(map(str, size)):>11} {ours:>8.3f}s {theirs:>9.3f}s "
            f"{theirs / ours:>6.1f}x"
        )
        del real
    print(
        f"{'all':<20} {'':>11} {ours_total:>8.2f}s {theirs_total:>9.2f}s "
        f"{theirs_total / ours_total:>6.1f}x"
    )
    print(
        f"torch {torch.__version__}, torchinfo {torchinfo.__version__}, "
        f"{torch.get_num_threads()} CPU threads; best of 3 (cnnzoo) and 2 (torchinfo) runs"
    )


if __name__ == "__main__":
    main()
