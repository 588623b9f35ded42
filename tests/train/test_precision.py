"""Mixed precision and memory format: they change how a step is computed, not what it learns."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from cnnzoo.train import resolve_config, train
from tests.helpers import needs_data, small_config, weights


@needs_data
def test_bf16_and_channels_last_train_to_the_same_place(tmp_path: Path) -> None:
    base = train(small_config(tmp_path, "fp32", epochs=1), progress=False)
    fast = train(
        small_config(tmp_path, "bf16", epochs=1, amp="bf16", channels_last=True), progress=False
    )
    a, b = weights(base.run_dir), weights(fast.run_dir)
    start = weights(
        train(small_config(tmp_path, "start", epochs=1, lr=1e-12), progress=False).run_dir
    )
    for key in a:
        moved = (a[key] - start[key]).norm()
        gap = (a[key] - b[key]).norm()
        assert gap < 0.2 * moved + 1e-6, (
            f"{key}: bf16 strays {gap:.3g} against a step of {moved:.3g}"
        )
    assert abs(base.test.top1 - fast.test.top1) < 8.0


def test_fp16_needs_a_gpu(tmp_path: Path) -> None:
    if torch.cuda.is_available():
        pytest.skip("a GPU is present: fp16 is allowed")
    config = resolve_config("lenet5_modern", amp="fp16", device="cpu", out=str(tmp_path))
    with pytest.raises(
        ValueError, match="fp16 mixed precision needs a GPU; on the CPU use --amp bf16"
    ):
        train(config, progress=False)
