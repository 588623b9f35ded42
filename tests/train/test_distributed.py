"""Two processes under torchrun train the same model as one process with the same global batch."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed

from cnnzoo.train import RunResult, load_checkpoint
from tests.helpers import SMALL, needs_data, options, weights, without_timing

pytestmark = [
    needs_data,
    pytest.mark.skipif(
        not (torch.distributed.is_available() and torch.distributed.is_gloo_available()),
        reason="this PyTorch build has no gloo backend for CPU process groups",
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_two_processes_match_one(tmp_path: Path, reference: RunResult) -> None:
    # One thread makes the CPU kernels deterministic; --deterministic would only add seconds of
    # imports to each process, and the comparison allows for the order of the all-reduce anyway.
    values = {k: v for k, v in SMALL.items() if k != "deterministic"}
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node=2",
        "--master_addr=127.0.0.1",
        f"--master_port={_free_port()}",
        "-m",
        "cnnzoo",
        "train",
        "lenet5_modern",
        *options(values),
        "--device=cpu",
        "--out",
        str(tmp_path),
        "--name",
        "ddp",
    ]
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    run = tmp_path / "ddp"

    # Gradients averaged over 2 x 32 images are the gradients of 64: the same weights, up to the
    # order of the sums.
    single, double = weights(reference.run_dir), weights(run)
    assert single.keys() == double.keys()
    for key in single:
        torch.testing.assert_close(double[key], single[key], rtol=0, atol=1e-5, msg=key)
    state = load_checkpoint(run)
    assert (state["epoch"], state["global_step"]) == (3, 24)  # 8 steps of 64 images an epoch

    # Each of the 255 test images is counted once: 127 on one rank, 128 on the other.
    summary = json.loads((run / "summary.json").read_text())
    assert summary["world_size"] == 2 and summary["test_images"] == 255
    assert summary["test_top1"] == pytest.approx(reference.test.top1, abs=1e-9)
    assert round(summary["test_top1"] * 255 / 100, 6).is_integer()

    # Only rank 0 wrote and printed: one row per epoch, one result line.
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [row["epoch"] for row in rows] == [1, 2, 3]
    for got, want in zip(without_timing(rows), without_timing(reference.history), strict=True):
        assert got == pytest.approx(want, rel=1e-4)
    assert done.stdout.count("test top-1") == 1 and done.stdout.count("epoch 3/3") == 1
    files = {p.name for p in run.iterdir()} - {"tensorboard"}  # when installed
    assert files == {
        ".lock",
        "checkpoint.pt",
        "checkpoint.prev.pt",
        "config.json",
        "metrics.csv",
        "metrics.jsonl",
        "model.safetensors",
        "summary.json",
    }
    assert (run / ".lock").read_text() == ""  # released: it names no holder
