"""Threads that follow the free cores: the count a busy machine leaves, read from its own
counters, and a run that gives the cores back when the other program stops."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from cnnzoo.train import train
from cnnzoo.train.threads import CHECK_EVERY_S, ThreadGovernor, machine_busy_s
from tests.helpers import needs_data, small_config


@pytest.fixture(autouse=True)
def _threads_put_back() -> Iterator[None]:
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


class Machine:
    """A machine's counters set by hand: wall clock, busy CPU seconds, this process's."""

    def __init__(self) -> None:
        self.now, self.busy, self.own = 100.0, 5_000.0, 10.0

    def run(self, seconds: float, others: float, own: float) -> None:
        """``seconds`` pass, with ``others`` cores busy elsewhere and ``own`` cores here."""
        self.now += seconds
        self.own += own * seconds
        self.busy += (others + own) * seconds


def test_the_threads_follow_the_cores_other_programs_leave_free() -> None:
    torch.set_num_threads(2)
    machine = Machine()
    governor = ThreadGovernor(
        2, cores=2, busy=lambda: machine.busy, own=lambda: machine.own, clock=lambda: machine.now
    )
    machine.run(CHECK_EVERY_S / 2, others=1.0, own=1.0)
    assert governor.tick() is None  # not yet time to look
    # one busy program beside two spinning threads gets about two thirds of a core
    machine.run(CHECK_EVERY_S, others=0.67, own=1.33)
    assert governor.tick() == 1 and torch.get_num_threads() == 1
    # over the whole interval since it last looked, the early half-interval included
    assert governor.seen == pytest.approx((1.0 * 0.5 + 0.67) / 1.5)
    machine.run(CHECK_EVERY_S, others=1.0, own=1.0)
    assert governor.tick() is None and governor.threads == 1  # unchanged: no message
    # the run's own threads at full speed never count against it
    machine.run(CHECK_EVERY_S, others=0.0, own=2.0)
    assert governor.tick() == 2 and torch.get_num_threads() == 2
    # a little background work (under half a core) leaves both cores to the run
    machine.run(CHECK_EVERY_S, others=0.4, own=1.6)
    assert governor.tick() is None and governor.threads == 2
    # a machine of 8 cores with 5 busy elsewhere: 3, however many the run may use
    torch.set_num_threads(8)
    wide = ThreadGovernor(
        8, cores=8, busy=lambda: machine.busy, own=lambda: machine.own, clock=lambda: machine.now
    )
    machine.run(CHECK_EVERY_S, others=5.2, own=2.8)
    assert wide.tick() == 3


def test_a_machine_that_cannot_say_keeps_the_threads(tmp_path: Path) -> None:
    governor = ThreadGovernor(2, cores=2, busy=lambda: None)
    assert governor.tick() is None and governor.others() is None
    stat = tmp_path / "stat"
    stat.write_text("cpu  100 20 30 4000 50 6 7 8 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n")
    assert machine_busy_s(str(stat)) == pytest.approx(171 / os.sysconf("SC_CLK_TCK"))
    stat.write_text("intr 1 2 3\n")
    assert machine_busy_s(str(stat)) is None
    assert machine_busy_s(str(tmp_path / "missing")) is None


@pytest.mark.skipif(machine_busy_s() is None, reason="the kernel gives no CPU counters here")
def test_a_real_busy_process_takes_a_core_from_the_run() -> None:
    cores = os.cpu_count() or 1
    torch.set_num_threads(cores)
    governor = ThreadGovernor(cores)
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(CHECK_EVERY_S + 0.5)  # this process idle: every busy core is another's
        governor.tick()
    finally:
        spinner.kill()
        spinner.wait()
    assert governor.seen >= 0.5  # the spinner's core, at least half of it
    assert governor.threads <= max(1, cores - 1) == torch.get_num_threads()


@needs_data
def test_a_run_without_a_thread_count_says_it_adapts(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = small_config(tmp_path, "free", epochs=1, train_subset=64, test_subset=64, threads=0)
    config.deterministic = False
    train(config, progress=True)
    first = capsys.readouterr().out.splitlines()[0]
    assert "CPU thread" in first and first.endswith(
        f"(fewer while other programs use the cores), into {tmp_path / 'free'}"
    )
