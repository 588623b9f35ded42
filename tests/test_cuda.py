"""The CUDA paths, on a GPU: data held on the device, fp16 with loss scaling, bf16,
channels-last, torch.compile, NCCL, and a GPU checkpoint resumed on the CPU.

Marked ``cuda``: without a GPU they skip (CI has none); ``scripts/gpu-check`` runs them on a GPU
machine. Each trains LeNet-5's modern build or the speed route's net on a slice of
Fashion-MNIST, as the CPU tests do, and checks what the path changes.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from cnnzoo.data.loader import InMemoryLoader
from cnnzoo.models import model_info
from cnnzoo.train import load_checkpoint, train
from cnnzoo.train.distributed import Distributed
from cnnzoo.train.setup import run_data
from tests.helpers import SMALL, needs_data, options, small_config

pytestmark = [
    pytest.mark.cuda,
    needs_data,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU"),
]

GPU = {**SMALL, "deterministic": False, "device": "cuda"}


def _config(tmp_path: Path, name: str, **changes: Any) -> Any:
    return small_config(tmp_path, name, **{**GPU, **changes})


def test_small_data_sets_are_held_and_augmented_on_the_gpu(tmp_path: Path) -> None:
    config = _config(tmp_path, "data")
    data = run_data(config, model_info(config.model), Distributed(0, 1, torch.device("cuda")))
    assert isinstance(data.train, InMemoryLoader)
    assert data.train.images.device.type == "cuda"
    images, labels = next(iter(data.train))
    assert images.device.type == "cuda" and labels.device.type == "cuda"


@pytest.mark.parametrize(
    "changes",
    [
        {"amp": "fp16"},
        {"amp": "bf16"},
        {"channels_last": True},
        {"compile": True},
    ],
    ids=["fp16", "bf16", "channels_last", "compile"],
)
def test_each_speed_path_trains_to_where_fp32_does(tmp_path: Path, changes: dict) -> None:
    base = train(_config(tmp_path, "fp32"), progress=False)
    fast = train(_config(tmp_path, "fast", **changes), progress=False)
    assert fast.epochs == base.epochs
    assert all(torch.isfinite(torch.tensor(row["train_loss"])) for row in fast.history)
    assert abs(fast.test.top1 - base.test.top1) < 8.0
    state = load_checkpoint(fast.run_dir)
    if changes.get("amp") == "fp16":  # loss scaling: the scaler's state is checkpointed
        assert state["scaler"]["scale"] > 0
    else:
        assert state["scaler"] == {}  # no scaler: its state is empty


def test_a_gpu_checkpoint_resumes_on_the_cpu(tmp_path: Path) -> None:
    first = train(_config(tmp_path, "moved", epochs=1), progress=False)
    resumed = train(resume=first.run_dir, epochs=2, runtime={"device": "cpu"}, progress=False)
    assert resumed.epochs == 2 and [row["epoch"] for row in resumed.history] == [1, 2]
    summary = json.loads((first.run_dir / "summary.json").read_text())
    assert summary["device"] == "cpu"


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="NCCL needs two GPUs for two ranks")
def test_two_gpus_train_through_nccl(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    values = {k: v for k, v in GPU.items() if k != "device"}
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2"]
    command += ["--master_addr=127.0.0.1", f"--master_port={port}", "-m", "cnnzoo", "train"]
    command += ["lenet5_modern", *options(values), "--device=cuda", "--out", str(tmp_path)]
    command += ["--name", "nccl"]
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((tmp_path / "nccl" / "summary.json").read_text())
    assert summary["world_size"] == 2 and summary["test_images"] == SMALL["test_subset"]
