"""Data parallelism through ``torchrun``: one process per device, gloo on CPU, NCCL on GPUs.

``torchrun --nproc_per_node=N cnnzoo train ...`` sets ``RANK``, ``WORLD_SIZE`` and
``LOCAL_RANK``; multi-node runs add ``--nnodes`` and a rendezvous endpoint. Without them the run is
a single process and nothing here costs anything.
"""

from __future__ import annotations

import contextlib
import datetime
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from cnnzoo.data.loader import Shard
from cnnzoo.errors import ConfigError

__all__ = ["Distributed", "setup_distributed"]


@dataclass(frozen=True)
class Distributed:
    """This process's rank and device; the collectives are no-ops for a single process."""

    rank: int
    world_size: int
    device: torch.device

    @property
    def main(self) -> bool:
        """Only the main process writes files and prints."""
        return self.rank == 0

    @property
    def shard(self) -> Shard:
        return Shard(self.rank, self.world_size)

    def sum(self, tensor: torch.Tensor) -> torch.Tensor:
        if self.world_size > 1:
            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor

    def max(self, tensor: torch.Tensor) -> torch.Tensor:
        if self.world_size > 1:
            dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
        return tensor

    def barrier(self) -> None:
        if self.world_size > 1:
            dist.barrier()

    def close(self) -> None:
        if self.world_size > 1 and dist.is_initialized():
            # All ranks leave together: rank 0 writes the run's last files while the others
            # are done, and a rank that tears down its gloo connections meanwhile can abort
            # ("terminate called without an active exception", seen once under load in CI).
            # A rank that never arrives (it failed) stops the wait after five minutes.
            with contextlib.suppress(RuntimeError):
                if dist.get_backend() == "gloo":
                    dist.monitored_barrier(timeout=datetime.timedelta(minutes=5))
                else:
                    dist.barrier()
            dist.destroy_process_group()


def pick_device(name: str, local_rank: int = 0) -> torch.device:
    """``auto`` takes this process's GPU when there is one, else the CPU."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(  # the user's choice, refused in one line like the others
                "--device cuda was asked for, but PyTorch sees no GPU; use --device cpu"
            )
        if device.index is None:
            device = torch.device("cuda", local_rank)
    return device


def setup_distributed(device: str = "auto") -> Distributed:
    """Join the process group that ``torchrun`` describes in the environment, if any."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    chosen = pick_device(device, local_rank)
    if world_size > 1 and not dist.is_initialized():
        if chosen.type == "cuda":
            torch.cuda.set_device(chosen)
        backend = "nccl" if chosen.type == "cuda" else "gloo"
        dist.init_process_group(backend, rank=rank, world_size=world_size)
    return Distributed(rank, world_size, chosen)
