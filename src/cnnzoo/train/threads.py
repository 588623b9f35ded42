"""CPU threads that follow the cores other programs leave free.

OpenMP threads spin-wait for each other at the end of every parallel region. When another
program holds one of two cores, a two-thread step waits for its descheduled half at every
region: training slowed 3-10x beside one busy process on two cores, far below its fair share,
while one thread on the free core ran at nearly its quiet speed. So a run that was given no
``--threads`` counts the cores the rest of the machine used since it last looked and trains
with the others.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import torch

__all__ = ["ThreadGovernor", "machine_busy_s"]

CHECK_EVERY_S = 2.0  # how often the cores are counted (between steps; a read of /proc/stat)


def machine_busy_s(stat: str = "/proc/stat") -> float | None:
    """CPU seconds the whole machine has spent busy since boot (every process and the kernel;
    time a hypervisor gave to other machines counts as busy), or None where the kernel does
    not say (not Linux)."""
    try:
        with open(stat) as file:
            fields = file.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu" or len(fields) < 9:
        return None
    # user nice system idle iowait irq softirq steal [guest guest_nice: inside user and nice]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class ThreadGovernor:
    """``tick()`` between steps; every :data:`CHECK_EVERY_S` it sets torch's thread count to
    the ``cores`` that other processes left free over the last interval, between 1 and ``most``
    (a core counts as taken when they used more than half of it).

    ``busy`` reads the machine's busy CPU seconds and ``own`` this process's (all its threads),
    so that the run's own spinning threads never count against it. Returns the new count from
    ``tick()`` when it changed, else None.
    """

    def __init__(
        self,
        most: int,
        cores: int | None = None,
        busy: Callable[[], float | None] = machine_busy_s,
        own: Callable[[], float] = time.process_time,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.most = max(1, most)
        self.cores = cores or os.cpu_count() or self.most
        self._busy, self._own, self._clock = busy, own, clock
        self._last = self._read()
        self.threads = torch.get_num_threads()
        self.seen = 0.0  # cores the other processes kept busy over the last interval

    def _read(self) -> tuple[float, float, float] | None:
        busy = self._busy()
        return None if busy is None else (self._clock(), busy, self._own())

    def others(self) -> float | None:
        """Cores the rest of the machine kept busy since the last look (restarting the
        interval), or None where the machine cannot say."""
        now, last = self._read(), self._last
        if now is None or last is None or now[0] <= last[0]:
            return None
        self._last = now
        wall, busy, own = (a - b for a, b in zip(now, last, strict=True))
        return max(0.0, (busy - own) / wall)

    def tick(self) -> int | None:
        if self._last is None or self._clock() - self._last[0] < CHECK_EVERY_S:
            return None
        others = self.others()
        if others is None:
            return None
        self.seen = others
        threads = max(1, min(self.most, int(self.cores - others + 0.5)))
        if threads == self.threads:
            return None
        torch.set_num_threads(threads)
        self.threads = threads
        return threads
