"""Run folders someone else made: writes replace links and stay inside, one writer at a time."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cnnzoo.cli import main
from cnnzoo.train import train
from cnnzoo.train.files import (
    RunLock,
    RunLockedError,
    UnsafePathError,
    remove_leftovers,
    write_file,
)
from tests.train.conftest import needs_data, small_config

PRECIOUS = "a user's file\n"


def _plant_links(run: Path, outside: Path, names: list[str]) -> dict[str, Path]:
    """Replace ``names`` in ``run`` by links to files outside it, as a crafted folder would."""
    targets = {}
    for name in names:
        target = outside / f"{name}.target"
        target.write_text(PRECIOUS)
        (run / name).unlink(missing_ok=True)
        (run / name).symlink_to(target)
        targets[name] = target
    return targets


def test_write_file_replaces_a_link_and_refuses_to_leave_its_folder(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text(PRECIOUS)
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").symlink_to(outside)
    write_file(run / "config.json", "{}\n", inside=run)
    assert outside.read_text() == PRECIOUS
    assert not (run / "config.json").is_symlink() and (run / "config.json").read_text() == "{}\n"
    (run / "sub").symlink_to(tmp_path, target_is_directory=True)
    with pytest.raises(UnsafePathError, match="outside the run folder"):
        write_file(run / "sub" / "metrics.jsonl", "x", inside=run)
    assert not (tmp_path / "metrics.jsonl").exists()


@needs_data
def test_resume_eval_export_and_viz_never_write_through_a_planted_link(tmp_path: Path) -> None:
    first = train(small_config(tmp_path, "run", epochs=1), progress=False)
    run = first.run_dir
    outside = tmp_path / "home"
    outside.mkdir()
    names = ["config.json", "metrics.jsonl", "metrics.csv", "summary.json", "confusion.png",
             "model.onnx", "curves.png"]  # fmt: skip
    targets = _plant_links(run, outside, names)
    (run / "tensorboard").symlink_to(outside, target_is_directory=True)
    train(resume=run, epochs=2, progress=False)
    assert main(["eval", str(run)]) == 0
    assert main(["export", str(run), "--format", "onnx", "--no-check"]) == 0
    assert main(["viz", "curves", str(run), "--output", str(run / "curves.png")]) == 0
    for name, target in targets.items():
        assert target.read_text() == PRECIOUS, f"{name} was written through its link"
        assert (run / name).is_file() and not (run / name).is_symlink(), name
    assert sorted(p.name for p in outside.iterdir()) == sorted(f"{n}.target" for n in names)


@needs_data
def test_a_second_writer_is_refused_naming_the_holder(tmp_path: Path) -> None:
    config = small_config(tmp_path, "run", epochs=1)
    with RunLock(tmp_path / "run"), pytest.raises(RunLockedError, match=f"process {os.getpid()}"):
        train(config, progress=False)
    assert not (tmp_path / "run" / "checkpoint.pt").exists()
    # a lock file left by a killed run blocks nothing: the kernel's lock died with it
    (tmp_path / "run" / ".lock").write_text("999999 elsewhere\n")
    assert train(config, progress=False).epochs == 1


def test_the_cli_refuses_a_held_run_in_one_line(tmp_path: Path) -> None:
    run = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; "
         "from cnnzoo.train.files import RunLock; RunLock(Path(sys.argv[1])).acquire(); "
         "print('held', flush=True); time.sleep(60)", str(run)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        out = subprocess.run(
            [sys.executable, "-m", "cnnzoo", "train", "lenet5_modern", "--out", str(tmp_path),
             "--name", "run", "--train-subset", "64", "--epochs", "1"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
    finally:
        holder.kill()
        holder.wait()
    assert out.returncode == 2, out.stderr
    assert f"in use by process {holder.pid}" in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_leftovers_of_killed_writes_are_removed(tmp_path: Path) -> None:
    (tmp_path / ".checkpoint.pt.abc123.tmp").write_bytes(b"half a checkpoint")
    (tmp_path / "checkpoint.pt").write_bytes(b"whole")
    removed = remove_leftovers(tmp_path)
    assert [p.name for p in removed] == [".checkpoint.pt.abc123.tmp"]
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]


# --- checkpoint integrity -------------------------------------------------------------------


@needs_data
def test_flipped_bits_in_tensor_data_and_nan_weights_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import torch

    from cnnzoo.train import CheckpointError, load_checkpoint
    from cnnzoo.train.checkpoint import CHECKPOINT, save_checkpoint

    run = train(small_config(tmp_path, "run", epochs=1), progress=False).run_dir
    path = run / CHECKPOINT
    state = load_checkpoint(path)  # whole: the digest matches
    weight = state["model"]["features.c1.weight"]
    raw = path.read_bytes()
    probe = weight.flatten()[:4].numpy().tobytes()
    at = raw.index(probe)  # tensor data is stored uncompressed: find the first values
    path.write_bytes(raw[:at] + bytes([raw[at] ^ 0x10]) + raw[at + 1 :])
    with pytest.raises(CheckpointError, match="is damaged"):
        load_checkpoint(path)
    assert main(["eval", str(run)]) == 2

    state["model"]["features.c1.weight"] = torch.full_like(weight, float("nan"))
    del state["format"], state["digest"]
    save_checkpoint(state, path)
    capsys.readouterr()
    for command in (["eval", str(run)], ["export", str(run)], ["predict", str(run), "x.png"]):
        assert main(command) == 2, command
        assert "hold NaN or infinite values (features.c1.weight)" in capsys.readouterr().err


# --- the data asked for -----------------------------------------------------------------------


def _folder(root: Path, shade: int = 0) -> Path:
    """Two classes of six small grey images each."""
    import numpy as np
    from PIL import Image

    for c, name in enumerate(("dark", "light")):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(6):
            pixels = np.full((32, 32), 40 + 150 * c + 5 * i + shade, dtype=np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i}.png")
    return root


def test_a_resume_on_other_data_is_refused_unless_asked_for(tmp_path: Path) -> None:
    """The run keeps a fingerprint of its images and labels; the folder changed since."""
    from cnnzoo.train import DataMismatchError, load_checkpoint, resolve_config

    images = _folder(tmp_path / "images")
    config = resolve_config("lenet5_modern", "fast", data=str(images), out=str(tmp_path),
                            name="run", epochs=1, batch_size=4, val_fraction=0.25,
                            threads=1)  # fmt: skip
    run = train(config, progress=False).run_dir
    assert train(resume=run, epochs=1, progress=False).epochs == 1  # the same data: fine
    _folder(images, shade=1)  # every image one grey level lighter
    with pytest.raises(DataMismatchError, match="other data than"):
        train(resume=run, epochs=2, progress=False)
    assert int(load_checkpoint(run)["epoch"]) == 1  # nothing was trained or written
    assert train(resume=run, epochs=2, other_data=True, progress=False).epochs == 2


@needs_data
def test_a_run_refused_before_it_began_leaves_no_folder(tmp_path: Path) -> None:
    from cnnzoo.factory import ModelArgumentError

    with pytest.raises(ModelArgumentError, match="unexpected keyword argument 'foo'"):
        train(small_config(tmp_path, "run", model_args={"foo": 1}), progress=False)
    assert not (tmp_path / "run").exists()


@needs_data
def test_damaged_checkpoints_and_a_shorter_resume_are_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing key, a tensor of another shape, a step beyond the epoch, an empty or zeroed
    file: each a one-line error naming what is wrong (they were tracebacks, or a message about
    a "legacy .tar format"); a resume to fewer epochs than done would rewrite config.json."""
    import torch

    from cnnzoo.train import CheckpointError, load_checkpoint
    from cnnzoo.train.checkpoint import CHECKPOINT, save_checkpoint

    run = train(small_config(tmp_path, "run", epochs=2), progress=False).run_dir
    config = (run / "config.json").read_text()
    with pytest.raises(ValueError, match="has trained 2 epochs already"):
        train(resume=run, epochs=1, progress=False)
    assert (run / "config.json").read_text() == config
    whole = load_checkpoint(run)
    good = (run / CHECKPOINT).read_bytes()

    def damaged(**change: object) -> None:
        state = {k: v for k, v in whole.items() if k not in ("format", "digest")}
        state.update(change)
        for key in [k for k, v in change.items() if v is None]:
            del state[key]
        save_checkpoint(state, run / CHECKPOINT)

    cases = [
        (dict(optimizer=None), "cannot be resumed (no 'optimizer')"),
        (dict(model={**whole["model"], "f6.weight": torch.zeros(3, 3)}), "size mismatch"),
        (dict(step=10**9), "position (epoch 2, step 1000000000)"),
    ]
    for change, message in cases:
        damaged(**change)
        with pytest.raises(CheckpointError, match=re.escape(message)):
            train(resume=run, epochs=3, progress=False)
    for content, message in ((b"", "is empty (0 bytes)"), (b"\0" * 4096, "all zero bytes")):
        (run / CHECKPOINT).write_bytes(content)
        assert main(["eval", str(run)]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1 and "legacy" not in err
    (run / CHECKPOINT).write_bytes(good)
    assert main(["eval", str(run)]) == 0


def test_class_names_reach_the_terminal_written_out() -> None:
    from cnnzoo.cli.train import printable

    assert printable("\x1b[2Jcoat\x07") == "\\x1b[2Jcoat\\x07"
    assert printable("T-shirt/top") == "T-shirt/top"
