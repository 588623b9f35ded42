"""Soak test of what cnnzoo promises for runs and for files someone else made.

Three probes, on a small copy of Fashion-MNIST (the first 640 training and 128 test images):

- **kill -9**: a reference run trains 2 epochs, checkpointing after every step; each trial starts
  the same run and kills it (SIGKILL) at a random moment, then continues it with
  ``cnnzoo train --resume`` (or starts it again when no checkpoint was written yet). A trial
  passes when the final weights equal the reference's bit for bit and no temporary file is left.
- **fuzz**: images (PNG, JPEG, GIF, BMP, TIFF), the IDX files, a checkpoint and a metrics log,
  each damaged at random (flipped bytes, cut short, a run of zeros, junk appended), are given to
  the command that reads them (``predict``, ``train --data-dir``, ``eval``, ``viz curves``), and
  a run folder's config, summary or metrics to ``report``.
  Each answer is a success (the damage left a valid file), a clear error (exit 2 or 3 with one
  line on stderr) or a failure (anything else, a traceback above all).
- **malicious pickles**: checkpoints, weights and CIFAR batches whose pickles call ``open`` to
  create a marker file, given to every command that loads such a file. A pass is a clear error
  and no marker.

The commands of the fuzz and pickle probes run in this process (``cnnzoo.cli.main``), so an
exception that escapes is counted as the traceback a user would see. Run:

    python benchmarks/soak.py [--kills 10] [--fuzz 60] [--seed 0]

It prints one line per probe and exits 1 if any trial failed (goal: 0 failures).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import pickle
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from _common import machine_line
from cnnzoo.cli import main
from cnnzoo.data.sources import load_arrays
from cnnzoo.train import load_checkpoint

RUN_OPTIONS = [
    "--recipe",
    "fast",
    "--epochs",
    "2",
    "--batch-size",
    "64",
    "--lr",
    "0.05",
    "--deterministic",
    "--threads",
    "1",
]


def write_idx(folder: Path, train: int = 640, test: int = 128) -> Path:
    """The first images of Fashion-MNIST as gzipped IDX files, as its publishers ship them."""
    folder.mkdir(parents=True, exist_ok=True)
    for split, prefix, n in (("train", "train", train), ("test", "t10k", test)):
        arrays = load_arrays("fashion-mnist", split, download=False)
        for kind, array in (
            ("images-idx3", arrays.images[:n, 0]),
            ("labels-idx1", arrays.labels[:n]),
        ):
            values = array.numpy().astype(np.uint8)
            header = bytes([0, 0, 8, values.ndim]) + b"".join(
                d.to_bytes(4, "big") for d in values.shape
            )
            (folder / f"{prefix}-{kind}-ubyte.gz").write_bytes(
                gzip.compress(header + values.tobytes())
            )
    return folder


def cli(*args: str) -> tuple[int | None, str]:
    """``cnnzoo ARGS`` in this process: (exit status or None for an escaped exception, stderr)."""
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        try:
            code: int | None = main(list(args))
        except SystemExit as stop:  # argparse
            code = int(stop.code or 0)
        except BaseException as error:  # what a user would see as a traceback
            return None, f"{type(error).__name__}: {error}"
    return code, err.getvalue()


def verdict(code: int | None, err: str) -> str:
    """Warnings are one line each (``cnnzoo train: warning: ...``); an error is one more."""
    lines = [line for line in err.splitlines() if ": warning: " not in line]
    if code == 0:
        return "accepted"
    if code in (2, 3) and len(lines) == 1 and ": error: " in lines[0]:
        return "clear error"
    return "FAILED"


# --- kill -9 -----------------------------------------------------------------------------------


def kill_trials(work: Path, data: Path, trials: int, rng: random.Random) -> tuple[str, bool]:
    command = [
        sys.executable,
        "-m",
        "cnnzoo",
        "train",
        "lenet5_modern",
        *RUN_OPTIONS,
        "--data-dir",
        str(data),
        "--checkpoint-every",
        "1",
        "--out",
        str(work),
    ]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}

    def first_checkpoint(name: str) -> tuple[subprocess.Popen[bytes], float]:
        """Start the run; return once its first checkpoint exists (the start-up, imports and
        data, is no place to test checkpoints), with the seconds that took."""
        started = time.perf_counter()
        process = subprocess.Popen([*command, "--name", name], **quiet)  # type: ignore[call-overload]
        while not (work / name / "checkpoint.pt").exists() and process.poll() is None:
            time.sleep(0.005)
        return process, time.perf_counter() - started

    process, startup = first_checkpoint("reference")
    started = time.perf_counter()
    if process.wait() != 0:
        raise SystemExit("the reference run failed: run it by hand to see why")
    length = time.perf_counter() - started  # training after the first checkpoint
    reference = load_checkpoint(work / "reference")["model"]
    exact = mid_write = finished = 0
    for trial in range(trials):
        name = f"killed-{trial}"
        process, _ = first_checkpoint(name)
        time.sleep(rng.uniform(0.0, 1.0) * length)
        finished += process.poll() is not None
        process.send_signal(signal.SIGKILL)
        process.wait()
        run = work / name
        mid_write += any(run.glob(".*.tmp"))
        again = [sys.executable, "-m", "cnnzoo", "train", "--resume", str(run)]
        subprocess.run(again, check=True, **quiet)  # type: ignore[call-overload]
        final = load_checkpoint(run)["model"]
        same = all(torch.equal(final[k], reference[k]) for k in reference)
        exact += same and not any(run.glob(".*.tmp"))
    line = (
        f"kill -9: {trials} trials, {exact} resumed bit-exact with no leftovers "
        f"({mid_write} killed while a file was being written, {finished} finished before the "
        f"kill); each killed at random in the {length:.1f} s between its first checkpoint and "
        f"its end (start-up {startup:.1f} s)"
    )
    return line, exact == trials


# --- fuzz --------------------------------------------------------------------------------------


def damaged(data: bytes, rng: random.Random) -> bytes:
    kind = rng.choice(["flip", "cut", "zeros", "junk"])
    at = rng.randrange(len(data))
    if kind == "flip":
        out = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
        return bytes(out)
    if kind == "cut":
        return data[:at]
    if kind == "zeros":
        return data[:at] + bytes(rng.randint(1, 64)) + data[at + 64 :]
    return data + rng.randbytes(rng.randint(1, 4096))


def sample_images(folder: Path) -> list[Path]:
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (40, 30, 3), dtype=np.uint8)
    paths = []
    for suffix, mode in (
        (".png", "RGB"),
        (".png", "L"),
        (".jpg", "RGB"),
        (".gif", "P"),
        (".bmp", "RGB"),
        (".tiff", "RGB"),
    ):
        image = Image.fromarray(pixels).convert(mode)
        path = folder / f"sample-{mode}{suffix}"
        image.save(path)
        paths.append(path)
    return paths


def fuzz(work: Path, data: Path, cases: int, rng: random.Random) -> tuple[str, bool, list[str]]:
    run = work / "reference"
    images = sample_images(work)
    results: Counter[str] = Counter()
    failures: list[str] = []

    def attempt(label: str, args: Callable[[int], list[str]], count: int) -> None:
        for i in range(count):
            code, err = cli(*args(i))
            outcome = verdict(code, err)
            results[outcome] += 1
            if outcome == "FAILED":
                failures.append(f"{label} #{i}: exit {code}: {err.strip()[:300]}")

    def image_case(i: int) -> list[str]:
        source = rng.choice(images)
        path = work / f"fuzz-{i}{source.suffix}"
        path.write_bytes(damaged(source.read_bytes(), rng))
        return ["predict", str(run), str(path)]

    def idx_case(i: int) -> list[str]:
        folder = work / f"idx-{i}"
        shutil.copytree(data, folder, dirs_exist_ok=True)
        victim = rng.choice(sorted(folder.iterdir()))
        raw = victim.read_bytes()
        if rng.random() < 0.5:  # the inflated bytes, gzipped again: the IDX parser's turn
            raw = gzip.compress(damaged(gzip.decompress(raw), rng))
        else:
            raw = damaged(raw, rng)
        victim.write_bytes(raw)
        return [
            "train",
            "lenet5_modern",
            *RUN_OPTIONS,
            "--epochs",
            "1",
            "--data-dir",
            str(folder),
            "--out",
            str(work / "idx-runs"),
            "--name",
            f"idx-{i}",
        ]

    def checkpoint_case(i: int) -> list[str]:
        folder = work / f"ckpt-{i}"
        shutil.copytree(run, folder, dirs_exist_ok=True)
        for path in (folder / "checkpoint.pt", folder / "checkpoint.prev.pt"):
            path.write_bytes(damaged(path.read_bytes(), rng))
        return ["eval", str(folder)]

    def metrics_case(i: int) -> list[str]:
        folder = work / f"metrics-{i}"
        shutil.copytree(run, folder, dirs_exist_ok=True)
        log = folder / "metrics.jsonl"
        log.write_bytes(damaged(log.read_bytes(), rng))
        return ["viz", "curves", str(folder), "--output", str(folder / "curves.png")]

    def report_case(i: int) -> list[str]:
        folder = work / f"report-{i}"
        shutil.copytree(run, folder, dirs_exist_ok=True)
        victim = folder / rng.choice(["config.json", "summary.json", "metrics.jsonl"])
        victim.write_bytes(damaged(victim.read_bytes(), rng))
        return ["report", str(folder), "--output", str(folder / "report.html")]

    share = max(1, cases // 5)
    attempt("image", image_case, share)
    attempt("idx", idx_case, share)
    attempt("checkpoint", checkpoint_case, share)
    attempt("metrics", metrics_case, share)
    attempt("report", report_case, share)
    total = sum(results.values())
    line = (
        f"fuzz: {total} damaged files, {results['accepted']} still valid and accepted, "
        f"{results['clear error']} refused in one line, {results['FAILED']} failures "
        "(tracebacks or unclear errors)"
    )
    return line, not failures, failures


# --- malicious pickles -------------------------------------------------------------------------


class _Payload:
    """Unpickled, it opens (and so creates) ``marker``: code run by loading a file."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple[object, ...]:
        return (open, (self.marker, "w"))


def pickles(work: Path, failures: list[str]) -> tuple[str, bool]:
    marker = work / "MARKER"
    run = work / "reference"
    evil = _Payload(marker)
    ran = refused = failed = 0
    tries: list[tuple[str, list[str]]] = []

    def evil_run(name: str, write: Callable[[Path], None]) -> Path:
        folder = work / f"evil-{name}"
        shutil.copytree(run, folder, dirs_exist_ok=True)
        (folder / "checkpoint.prev.pt").unlink(missing_ok=True)
        write(folder / "checkpoint.pt")
        return folder

    folders = {
        "torch.save": evil_run("torch", lambda p: torch.save({"model": evil}, p)),
        "plain pickle": evil_run("plain", lambda p: p.write_bytes(pickle.dumps({"model": evil}))),
    }
    image = work / "photo.png"
    Image.new("L", (28, 28)).save(image)
    for label, folder in folders.items():
        tries += [
            (f"eval ({label})", ["eval", str(folder)]),
            (f"predict ({label})", ["predict", str(folder), str(image)]),
            (f"export ({label})", ["export", str(folder)]),
            (f"train --resume ({label})", ["train", "--resume", str(folder)]),
            (
                f"viz filters ({label})",
                ["viz", "filters", str(folder), "--output", str(folder / "f.png")],
            ),
            (
                f"train --init-from ({label})",
                [
                    "train",
                    "lenet5_modern",
                    *RUN_OPTIONS,
                    "--init-from",
                    str(folder / "checkpoint.pt"),
                    "--out",
                    str(work / "evil-runs"),
                ],
            ),
        ]
    for part in ("data_batch_1", "batches.meta"):
        cifar = work / f"evil-cifar-{part}"
        cifar.mkdir(exist_ok=True)
        (cifar / part).write_bytes(pickle.dumps({b"data": evil, b"labels": evil}, protocol=2))
        tries.append(
            (
                f"train --data cifar10 ({part})",
                [
                    "train",
                    "lenet5_modern",
                    "--data",
                    "cifar10",
                    "--data-dir",
                    str(cifar),
                    "--out",
                    str(work / "evil-runs"),
                ],
            )
        )
    for label, args in tries:
        code, err = cli(*args)
        if marker.exists():
            ran += 1
            marker.unlink()
            failures.append(f"{label}: RAN CODE")
        elif verdict(code, err) == "clear error":
            refused += 1
        else:
            failed += 1
            failures.append(f"{label}: exit {code}: {err.strip()[:300]}")
    line = (
        f"malicious pickles: {len(tries)} files to {len({a[0] for _, a in tries})} commands, "
        f"{ran} ran code, {refused} refused in one line, {failed} other failures"
    )
    return line, ran == failed == 0


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=10, help="kill -9 trials")
    parser.add_argument("--fuzz", type=int, default=60, help="damaged files in all")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    print(machine_line(), flush=True)
    with tempfile.TemporaryDirectory(prefix="cnnzoo-soak-") as scratch:
        work = Path(scratch)
        data = write_idx(work / "data")
        kills, kills_ok = kill_trials(work, data, args.kills, rng)
        print(kills, flush=True)
        fuzzed, fuzz_ok, failures = fuzz(work, data, args.fuzz, rng)
        print(fuzzed, flush=True)
        picked, pickles_ok = pickles(work, failures)
        print(picked, flush=True)
    for failure in failures:
        print(f"  {failure}")
    return 0 if kills_ok and fuzz_ok and pickles_ok else 1


if __name__ == "__main__":
    sys.exit(run())
