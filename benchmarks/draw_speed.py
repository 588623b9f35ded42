"""Time to draw every registered model with cnnzoo.diagram, beside the anatomy trace it is built
on (run in the same process), and against the 2 s a figure may take on 2 cores. Run:

    python benchmarks/draw_speed.py [PATTERN] [--expand]
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable

from cnnzoo import create_model, list_models, model_info
from cnnzoo.anatomy import GeometryWarning, analyze
from cnnzoo.diagram import draw

BUDGET_S = 2.0


def best_of(repeats: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pattern", nargs="?", default="*", help="models, e.g. 'resnet*'")
    parser.add_argument("--expand", action="store_true", help="draw every block")
    args = parser.parse_args(argv)
    names = list_models(args.pattern)
    if not names:
        parser.error(f"no model matches {args.pattern!r}")
    warnings.simplefilter("ignore", GeometryWarning)
    draw("resnet18")  # first-use imports, paid once per process
    print(f"{'model':<20} {'trace':>8} {'draw':>8} {'draw/trace':>11} {'budget':>8}")
    over = []
    for name in names:
        size = model_info(name).input_size
        meta = create_model(name, device="meta")
        trace = best_of(2, lambda meta=meta, size=size: analyze(meta, size))
        drawn = best_of(2, lambda name=name: draw(name, expand=args.expand))
        if drawn > BUDGET_S:
            over.append(name)
        print(
            f"{name:<20} {trace:>7.3f}s {drawn:>7.3f}s {drawn / trace:>10.1f}x "
            f"{'over' if drawn > BUDGET_S else 'ok':>8}"
        )
    print(f"over the {BUDGET_S:g} s budget: {', '.join(over) or 'none'}")


if __name__ == "__main__":
    main()
