"""The engine's promises: exact resume, Ctrl-C, divergence, crash-safe checkpoints."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors import safe_open

from cnnzoo import create_model
from cnnzoo.cli import main
from cnnzoo.data.catalogue import DATASETS
from cnnzoo.data.inputs import InputSpec
from cnnzoo.errors import ConfigError
from cnnzoo.train import (
    CheckpointError,
    NonFiniteLossError,
    RunResult,
    TrainingInterrupted,
    load_checkpoint,
    save_checkpoint,
    train,
)
from cnnzoo.train.checkpoint import CHECKPOINT, FORMAT
from tests.helpers import (
    SMALL,
    assert_same_weights,
    needs_data,
    options,
    small_config,
    weights,
    without_timing,
)

StopAt = Callable[..., None]


def _metrics(run: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def _same_run(a: RunResult, b: RunResult) -> None:
    """Same final weights bit for bit, same history, same final evaluation."""
    assert_same_weights(weights(a.run_dir), weights(b.run_dir))
    assert without_timing(a.history) == without_timing(b.history)
    assert without_timing(_metrics(a.run_dir)) == without_timing(_metrics(b.run_dir))
    assert (a.test.loss, a.test.top1, a.test.count) == (b.test.loss, b.test.top1, b.test.count)


# --- resume --------------------------------------------------------------------------------


@needs_data
def test_resuming_after_a_whole_epoch_is_exact(tmp_path: Path) -> None:
    # A step schedule does not depend on the total epochs, so 1 epoch and then 2 more follow the
    # same rates as 3 at once (one-cycle would stretch its fall over the new total).
    schedule: dict[str, Any] = dict(schedule="step", step_epochs=1, gamma=0.5)
    whole = train(small_config(tmp_path, "whole", **schedule), progress=False)
    first = train(small_config(tmp_path, "parts", epochs=1, **schedule), progress=False)
    assert first.epochs == 1 and len(_metrics(first.run_dir)) == 1
    resumed = train(resume=first.run_dir, epochs=3, progress=False)
    assert resumed.epochs == 3
    _same_run(resumed, whole)
    assert [row["epoch"] for row in _metrics(resumed.run_dir)] == [1, 2, 3]  # no duplicates
    assert [row["lr"] for row in whole.history][1:] == pytest.approx([0.05 * 0.5, 0.05 * 0.25])


@needs_data
def test_a_resumed_run_may_move_to_other_threads_and_workers(tmp_path: Path) -> None:
    schedule: dict[str, Any] = dict(schedule="step", step_epochs=1, gamma=0.5)
    whole = train(small_config(tmp_path, "whole", **schedule), progress=False)
    first = train(small_config(tmp_path, "parts", epochs=1, **schedule), progress=False)
    elsewhere = {"threads": 2, "workers": 0, "device": "cpu"}
    resumed = train(resume=first.run_dir, epochs=3, runtime=elsewhere, progress=False)
    # two threads sum in another order: the same run up to rounding, not bit for bit
    assert [row["epoch"] for row in _metrics(resumed.run_dir)] == [1, 2, 3]
    assert resumed.test.top1 == pytest.approx(whole.test.top1, abs=1.0)
    moved = weights(resumed.run_dir)
    for key, tensor in weights(whole.run_dir).items():
        assert torch.allclose(moved[key].float(), tensor.float(), atol=1e-3), key
    saved = json.loads((resumed.run_dir / "config.json").read_text())
    assert {k: saved[k] for k in elsewhere} == elsewhere
    with pytest.raises(ValueError, match=r"runtime \['lr'\]: a resumed run may change only"):
        train(resume=first.run_dir, runtime={"lr": 1.0}, progress=False)


@needs_data
@pytest.mark.parametrize("ema", [0.0, 0.9], ids=["plain", "ema"])
def test_ctrl_c_mid_epoch_then_resume_is_exact(
    tmp_path: Path, reference: RunResult, stop_at: StopAt, ema: float
) -> None:
    whole = train(small_config(tmp_path, "whole", ema=ema), progress=False) if ema else reference
    stop_at(11)  # a real SIGINT in epoch 2, step 3 of 8
    with pytest.raises(TrainingInterrupted, match=r"epoch 2, step 3.*--resume"):
        train(small_config(tmp_path, "stopped", ema=ema), progress=False)
    state = load_checkpoint(tmp_path / "stopped")
    assert (state["epoch"], state["step"], state["global_step"]) == (1, 3, 11)
    assert len(state["history"]) == 1 and len(_metrics(tmp_path / "stopped")) == 1
    resumed = train(resume=tmp_path / "stopped", progress=False)
    _same_run(resumed, whole)
    if ema:
        final = load_checkpoint(resumed.run_dir)
        assert_same_weights(final["ema"], load_checkpoint(whole.run_dir)["ema"])
        assert int(final["ema"]["n_averaged"]) == 24
        # The EMA is what was evaluated and exported, and it is not the raw weights.
        assert not torch.equal(
            final["ema"]["module.output.weight"], final["model"]["output.weight"]
        )


@needs_data
def test_ctrl_c_after_an_epochs_last_step_resumes_to_its_evaluation(
    tmp_path: Path, reference: RunResult, stop_at: StopAt
) -> None:
    """A stop between the last step of an epoch and its evaluation keeps step 8 of 8: the
    resumed run evaluates that epoch and goes on (the lab's stop once landed there, and the
    resume refused the checkpoint as damaged)."""
    stop_at(8)
    with pytest.raises(TrainingInterrupted, match=r"epoch 1, step 8"):
        train(small_config(tmp_path, "stopped"), progress=False)
    state = load_checkpoint(tmp_path / "stopped")
    assert (state["epoch"], state["step"], state["global_step"]) == (0, 8, 8)
    assert _metrics(tmp_path / "stopped") == []
    _same_run(train(resume=tmp_path / "stopped", progress=False), reference)


@needs_data
def test_sigterm_stops_like_ctrl_c(tmp_path: Path, stop_at: StopAt) -> None:
    stop_at(5, signum=signal.SIGTERM)  # what a cluster scheduler sends before it kills a job
    handler = signal.getsignal(signal.SIGTERM)
    with pytest.raises(TrainingInterrupted, match=r"epoch 1, step 5"):
        train(small_config(tmp_path, "term"), progress=False)
    state = load_checkpoint(tmp_path / "term")
    assert (state["epoch"], state["step"]) == (0, 5)
    assert signal.getsignal(signal.SIGTERM) == handler  # put back


@needs_data
def test_a_crash_keeps_the_steps_done_and_resumes_exactly(
    tmp_path: Path, reference: RunResult, stop_at: StopAt
) -> None:
    stop_at(14, RuntimeError("simulated out-of-memory"))
    with pytest.raises(RuntimeError, match="simulated"):
        train(small_config(tmp_path, "crashed"), progress=False)
    state = load_checkpoint(tmp_path / "crashed")
    assert (state["epoch"], state["step"], state["global_step"]) == (1, 5, 13)
    _same_run(train(resume=tmp_path / "crashed", progress=False), reference)


@needs_data
def test_a_batch_norm_model_resumes_exactly(tmp_path: Path, stop_at: StopAt) -> None:
    tiny: dict[str, Any] = dict(
        model="resnet20", train_subset=128, test_subset=64, batch_size=32, epochs=1
    )
    whole = train(small_config(tmp_path, "whole", **tiny), progress=False)
    stop_at(2)
    with pytest.raises(TrainingInterrupted):
        train(small_config(tmp_path, "stopped", **tiny), progress=False)
    resumed = train(resume=tmp_path / "stopped", progress=False)
    _same_run(resumed, whole)
    final = weights(resumed.run_dir)
    assert int(final["bn1.num_batches_tracked"]) == 4  # the running statistics were resumed too
    assert final["bn1.running_var"].ne(1).all()


@needs_data
def test_ctrl_c_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """SIGINT to `cnnzoo train`: exit 130, a resume hint, a checkpoint that loads with
    weights_only, and `--resume` ends where an uninterrupted run ends."""
    values = {**SMALL, "train_subset": 1024, "epochs": 6, "checkpoint_every": 2}
    run = tmp_path / "cli"
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cnnzoo",
            "train",
            "lenet5_modern",
            *options(values),
            "--out",
            str(tmp_path),
            "--name",
            "cli",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Waits on events, not a clock (a busy machine may be 40x slower): the first checkpoint
    # written, then the process gone.
    while not (run / CHECKPOINT).exists():
        assert child.poll() is None, "the run ended before its first checkpoint"
        time.sleep(0.005)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate()
    assert child.returncode == 130, err
    assert err.count("\n") == 1 and f"cnnzoo train --resume {run}" in err
    state = torch.load(run / CHECKPOINT, weights_only=True)
    assert state["format"] == FORMAT and 2 <= state["global_step"] < 6 * 16
    assert list(run.glob(".*.tmp")) == []

    assert main(["train", "--resume", str(run)]) == 0  # in this process: faster to start
    assert "after 6 epochs" in capsys.readouterr().out
    whole = train(small_config(tmp_path, "whole", **values), progress=False)
    assert_same_weights(weights(run), weights(whole.run_dir))
    assert without_timing(_metrics(run)) == without_timing(whole.history)


# --- divergence ----------------------------------------------------------------------------


@needs_data
def test_divergence_stops_and_keeps_the_last_good_checkpoint(tmp_path: Path) -> None:
    run = tmp_path / "nan"
    train(small_config(tmp_path, "nan", epochs=1), progress=False)
    state = load_checkpoint(run)
    state["config"]["lr"] = 1e6  # the second epoch diverges
    save_checkpoint(state, run / CHECKPOINT)
    before, mtime = (run / CHECKPOINT).read_bytes(), (run / CHECKPOINT).stat().st_mtime_ns
    files = sorted(p.name for p in run.iterdir())
    with pytest.raises(
        NonFiniteLossError, match=r"epoch 2, step \d+ .*checkpoint, after epoch 1, is kept"
    ):
        train(resume=run, epochs=2, progress=False)
    assert (run / CHECKPOINT).read_bytes() == before
    assert (run / CHECKPOINT).stat().st_mtime_ns == mtime
    assert sorted(p.name for p in run.iterdir()) == files  # no summary, no temporary files
    assert len(_metrics(run)) == 1


@needs_data
def test_divergence_on_the_command_line_exits_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "train",
            "lenet5_modern",
            *options(SMALL),
            "--lr",
            "1e6",
            "--out",
            str(tmp_path),
            "--name",
            "nan",
        ]
    )
    err = capsys.readouterr().err
    assert code == 3, err
    assert err.count("\n") == 1 and err.startswith("cnnzoo train: error: the loss became ")
    assert "epoch 1, step " in err and "--lr" in err
    assert "no checkpoint" in err  # it diverged before the first: none is claimed
    assert not (tmp_path / "nan" / CHECKPOINT).exists()


@needs_data
def test_an_epoch_that_ends_diverged_is_not_checkpointed(tmp_path: Path) -> None:
    # Two steps an epoch: both losses are finite, but the second update leaves the weights
    # useless, and the test loss of the epoch is not a number.
    with pytest.raises(NonFiniteLossError, match="test loss"):
        train(small_config(tmp_path, "late", batch_size=256, lr=1e6), progress=False)
    assert not (tmp_path / "late" / CHECKPOINT).exists()
    assert _metrics(tmp_path / "late") == []


# --- checkpoints ---------------------------------------------------------------------------


def test_a_failed_write_leaves_the_old_checkpoint_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = save_checkpoint({"step": 1, "w": torch.ones(3)}, tmp_path / CHECKPOINT)
    before = path.read_bytes()

    def disk_full(obj: Any, f: Any, *args: Any, **kwargs: Any) -> None:
        f.write(b"half a checkpoint")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", disk_full)
    with pytest.raises(OSError, match="No space"):
        save_checkpoint({"step": 2, "w": torch.zeros(3)}, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [CHECKPOINT]  # the temporary file is gone
    monkeypatch.undo()
    assert load_checkpoint(path)["step"] == 1


class _Exploit:
    """Pickles to a call that creates a file: what weights_only loading must never run."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.target,))


def test_load_checkpoint_refuses_what_is_not_a_checkpoint(tmp_path: Path) -> None:
    plain = tmp_path / "weights.pt"
    torch.save(create_model("lenet5_modern").state_dict(), plain)
    with pytest.raises(CheckpointError, match=r"not a cnnzoo checkpoint.*--init-from"):
        load_checkpoint(plain)
    text = tmp_path / "notes.txt"
    text.write_text("not a checkpoint\n")
    with pytest.raises(CheckpointError, match=r"cannot read .*notes.txt as a checkpoint"):
        load_checkpoint(text)
    pickled = tmp_path / "exploit.pt"
    torch.save({"format": FORMAT, "model": _Exploit(tmp_path / "ran")}, pickled)
    with pytest.raises(CheckpointError, match="cannot read"):
        load_checkpoint(pickled)
    assert not (tmp_path / "ran").exists()
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pt")
    with pytest.raises(CheckpointError, match=r"no checkpoint.pt: is it a cnnzoo run folder"):
        load_checkpoint(tmp_path)


@needs_data
def test_a_run_checkpoint_loads_with_weights_only(reference: RunResult) -> None:
    state = torch.load(reference.run_dir / CHECKPOINT, weights_only=True)
    # The model is named once, in the config (version 1 also stored it beside the config).
    assert state["format"] == FORMAT == "cnnzoo-checkpoint-2" and "model_name" not in state
    assert state["config"]["model"] == "lenet5_modern"
    assert (state["epoch"], state["step"], state["global_step"]) == (3, 0, 24)
    assert len(state["history"]) == 3 and state["config"]["epochs"] == 3
    assert state["classes"] == list(DATASETS["fashion-mnist"].classes)


def _rewrite_as(path: Path, version_tag: str, **extra: Any) -> None:
    """Rewrite a checkpoint under another format tag, its digest recomputed."""
    from cnnzoo.train.checkpoint import _digest

    state = {k: v for k, v in torch.load(path, weights_only=True).items() if k != "digest"}
    state.update(extra, format=version_tag)
    torch.save({**state, "digest": _digest(state)}, path)


@needs_data
def test_a_version_1_checkpoint_still_evaluates_and_resumes(tmp_path: Path) -> None:
    """Checkpoints written before the typed checkpoint (tag ``cnnzoo-checkpoint-1``, the model
    name stored twice) load as version 2: evaluation, and a resume to the same weights as a
    run never interrupted."""
    from cnnzoo.train.checkpoint import Checkpoint
    from cnnzoo.train.inference import load_trained

    whole = train(small_config(tmp_path, "whole", epochs=2), progress=False)
    train(small_config(tmp_path, "old", epochs=1), progress=False)
    old = tmp_path / "old"
    _rewrite_as(old / CHECKPOINT, "cnnzoo-checkpoint-1", model_name="lenet5_modern")
    saved = Checkpoint.read(old)
    assert (saved.config.model, saved.epoch, len(saved.history)) == ("lenet5_modern", 1, 1)
    assert load_trained(old).epoch == 1
    resumed = train(resume=old, epochs=2, progress=False)
    _same_run(whole, resumed)
    assert torch.load(old / CHECKPOINT, weights_only=True)["format"] == FORMAT


@needs_data
def test_a_checkpoint_of_a_newer_version_is_refused_by_its_version(
    reference: RunResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    run = tmp_path / "newer"
    shutil.copytree(reference.run_dir, run)
    _rewrite_as(run / CHECKPOINT, "cnnzoo-checkpoint-3")
    with pytest.raises(CheckpointError, match=r"newer cnnzoo \(checkpoint version 3; this one"):
        load_checkpoint(run)
    assert main(["eval", str(run)]) == 2
    err = capsys.readouterr().err
    assert "reads versions 1 to 2): upgrade cnnzoo" in err and err.count("\n") == 1
    _rewrite_as(run / CHECKPOINT, "cnnzoo-checkpoint-x")
    with pytest.raises(CheckpointError, match="is not a cnnzoo checkpoint"):
        load_checkpoint(run)


@needs_data
def test_final_weights_go_out_as_safetensors_with_metadata(reference: RunResult) -> None:
    with safe_open(str(reference.run_dir / "model.safetensors"), "pt") as f:
        meta = f.metadata()
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (not a dict)
    assert_same_weights(tensors, weights(reference.run_dir))
    assert json.loads(meta["model_name"]) == "lenet5_modern"
    assert json.loads(meta["classes"]) == list(DATASETS["fashion-mnist"].classes)
    spec = InputSpec.from_dict(json.loads(meta["input"]))
    # LeNet-5's 32x32 field: 28x28 images are padded, not stretched (§III.A).
    assert (spec.size, spec.channels, spec.mode, spec.stored_size) == ((32, 32), 1, "pad", (28, 28))
    assert json.loads(meta["config"])["test_subset"] == 255
    summary = json.loads((reference.run_dir / "summary.json").read_text())
    assert summary["test_images"] == 255 and summary["epochs"] == 3
    assert summary["test_top1"] == reference.test.top1 == reference.history[-1]["test_top1"]


@needs_data
def test_keep_best_keeps_the_epoch_of_the_best_test_accuracy(
    reference: RunResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """At a rate too high to hold on to, the first epoch is the best: ``best.pt`` keeps it
    while ``checkpoint.pt`` goes on; eval and export take it as any checkpoint."""
    config = small_config(tmp_path, "best", keep="best", lr=0.3, schedule="constant")
    result = train(config, progress=False)
    run = result.run_dir
    accuracy = [row["test_top1"] for row in result.history]
    assert accuracy[0] > max(accuracy[1:])  # the set-up this test needs
    assert load_checkpoint(run / "best.pt")["epoch"] == 1
    assert load_checkpoint(run / "checkpoint.pt")["epoch"] == 3
    summary = json.loads((run / "summary.json").read_text())
    assert summary["best_epoch"] == 1 and summary["best_top1"] == accuracy[0]
    figures = tmp_path / "best.json"
    assert main(["eval", str(run / "best.pt"), "--json", str(figures)]) == 0
    assert json.loads(figures.read_text())["top1"] == pytest.approx(accuracy[0], abs=1e-9)
    final = (run / "model.safetensors").read_bytes()
    assert main(["export", str(run / "best.pt")]) == 0
    assert f"wrote {run / 'best.safetensors'}" in capsys.readouterr().out
    assert (run / "model.safetensors").read_bytes() == final
    assert not (reference.run_dir / "best.pt").exists()  # --keep last, the default


@needs_data
def test_a_saved_config_trains_the_same_run_again(reference: RunResult, tmp_path: Path) -> None:
    assert main(["train", "--config", str(reference.run_dir), "--out", str(tmp_path)]) == 0
    again = tmp_path / reference.run_dir.name
    assert_same_weights(weights(again), weights(reference.run_dir))
    assert without_timing(_metrics(again)) == without_timing(reference.history)


@needs_data
def test_train_leaves_torch_settings_as_it_found_them(tmp_path: Path) -> None:
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        train(
            small_config(tmp_path, "quiet", train_subset=64, test_subset=64, epochs=1),
            progress=False,
        )
        assert torch.get_num_threads() == 2
        assert not torch.are_deterministic_algorithms_enabled()
    finally:
        torch.set_num_threads(threads)


@needs_data
def test_a_warm_up_that_fills_the_run_is_warned_of(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--recipe fast --epochs 1` spent the whole run in the fast recipe's one-epoch warm-up and
    ended below chance without a word."""
    args = [
        "train",
        "lenet5_modern",
        "--recipe",
        "fast",
        "--out",
        str(tmp_path),
        "--epochs",
        "1",
        "--train-subset",
        "256",
        "--test-subset",
        "64",
        "--threads",
        "1",
    ]
    assert main([*args, "--name", "long"]) == 0
    out = capsys.readouterr().out
    assert "WARNING: the warm-up takes 1 of 1 epochs" in out and "--warmup-epochs 0.1" in out
    assert main([*args, "--name", "short", "--warmup-epochs", "0.1"]) == 0
    assert "WARNING" not in capsys.readouterr().out


def test_a_piped_run_says_what_it_starts_and_shows_it_is_alive_within_an_epoch(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Off a terminal: the first line at once, then a step line at least every ``every_s``
    (30 s in runs; 0 here, so every step), then the epoch line."""
    from cnnzoo.train.metrics import Progress

    bar = Progress(2, 3, every_s=0.0)
    bar.message("training x")
    bar.start_epoch(0)
    for _ in range(3):
        bar.step(1.5, 0.1)
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["training x"] + [
        f"epoch 1/2  step {i}/3  loss 1.5000  lr 0.1" for i in (1, 2, 3)
    ]
    quiet = Progress(2, 3)  # 30 s: no step line in a short epoch
    quiet.start_epoch(0)
    quiet.step(1.5, 0.1)
    assert capsys.readouterr().out == ""


@needs_data
def test_a_run_prints_what_it_trains_before_its_first_epoch(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = small_config(tmp_path, "said", epochs=1, train_subset=128, test_subset=64)
    train(config, progress=True)
    first = capsys.readouterr().out.splitlines()[0]
    assert first == (
        "training lenet5_modern on fashion-mnist (10 classes, 32x32 inputs): 1 epoch of 2 "
        f"steps (batch 64), 1 CPU thread, into {tmp_path / 'said'}"
    )


@needs_data
def test_each_epoch_is_tested_with_the_runs_views_as_eval_tests_it(tmp_path: Path) -> None:
    """``--test-views flip``: the softmax of each test image and its mirror averaged, after
    each epoch and by ``cnnzoo eval`` of the run (its own views unless told otherwise)."""
    result = train(small_config(tmp_path, "flip", epochs=1, test_views="flip"), progress=False)
    for protocol, name in ((None, "own"), ("center", "center")):
        words = ["--protocol", protocol] if protocol else []
        assert main(["eval", str(result.run_dir), *words, "--json", str(tmp_path / name)]) == 0
    own, center = (json.loads((tmp_path / name).read_text()) for name in ("own", "center"))
    row = result.history[-1]
    assert own["protocol"] == "flip" and own["count"] == 255
    assert own["top1"] == pytest.approx(row["test_top1"]) and own["loss"] == pytest.approx(
        row["test_loss"]
    )
    assert center["protocol"] == "center" and center["loss"] != pytest.approx(own["loss"])
    with pytest.raises(ConfigError, match="crops the test images padded by --crop-padding"):
        small_config(tmp_path, "x", test_views="10crop", crop_padding=0)


@needs_data
def test_a_run_from_before_rows_recorded_threads_resumes(tmp_path: Path) -> None:
    """Rows a checkpoint of an older version holds lack ``threads``: the CSV leaves it empty
    there instead of refusing the new rows."""
    from cnnzoo.train.checkpoint import CHECKPOINT, save_checkpoint

    run = train(small_config(tmp_path, "old", epochs=1), progress=False).run_dir
    state = load_checkpoint(run)
    for row in state["history"]:
        del row["threads"]
    save_checkpoint(state, run / CHECKPOINT)
    resumed = train(resume=run, epochs=2, progress=False)
    assert resumed.epochs == 2 and resumed.history[1]["threads"] == 1
    header, first, second = (run / "metrics.csv").read_text().splitlines()
    assert header.endswith(",threads") and first.endswith(",") and second.endswith(",1")
