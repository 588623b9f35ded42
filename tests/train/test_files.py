"""Run folders someone else made: writes replace links and stay inside, one writer at a time."""

from __future__ import annotations

import os
import re
import shutil
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
from tests.helpers import needs_data, small_config

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
    names = [
        "config.json",
        "metrics.jsonl",
        "metrics.csv",
        "summary.json",
        "confusion.png",
        "model.onnx",
        "curves.png",
    ]
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
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; "
            "from cnnzoo.train.files import RunLock; RunLock(Path(sys.argv[1])).acquire(); "
            "print('held', flush=True); time.sleep(60)",
            str(run),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "cnnzoo",
                "train",
                "lenet5_modern",
                "--out",
                str(tmp_path),
                "--name",
                "run",
                "--train-subset",
                "64",
                "--epochs",
                "1",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
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
    config = resolve_config(
        "lenet5_modern",
        "fast",
        data=str(images),
        out=str(tmp_path),
        name="run",
        epochs=1,
        batch_size=4,
        val_fraction=0.25,
        threads=1,
    )
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


# --- an older checkpoint, a full disk ---------------------------------------------------------


def _flip_a_weight_bit(path: Path, key: str = "features.c1.weight") -> None:
    from cnnzoo.train import load_checkpoint

    probe = load_checkpoint(path)["model"][key].flatten()[:4].numpy().tobytes()
    raw = path.read_bytes()
    at = raw.index(probe)  # tensor data is stored uncompressed: find the first values
    path.write_bytes(raw[:at] + bytes([raw[at] ^ 0x10]) + raw[at + 1 :])


@needs_data
def test_a_damaged_checkpoint_offers_the_intact_one_before_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each save keeps the checkpoint it replaces; when the newest is damaged the error names
    the older one, and resuming from it repeats the lost epoch exactly."""
    from cnnzoo.train import load_checkpoint
    from cnnzoo.train.checkpoint import CHECKPOINT, previous_of
    from tests.helpers import assert_same_weights, weights

    run = train(small_config(tmp_path, "run", epochs=2), progress=False).run_dir
    older = previous_of(run / CHECKPOINT)
    assert older.name == "checkpoint.prev.pt" and int(load_checkpoint(older)["epoch"]) == 1
    final = weights(run)
    _flip_a_weight_bit(run / CHECKPOINT)
    capsys.readouterr()
    assert main(["eval", str(run)]) == 2
    err = capsys.readouterr().err
    assert "is damaged" in err and err.count("\n") == 1
    assert "The checkpoint before it, after epoch 1, is intact: continue from it with " in err
    assert f"`cnnzoo train --resume {older}`" in err
    resumed = train(resume=older, epochs=2, progress=False)
    assert resumed.epochs == 2 and resumed.run_dir == run
    assert_same_weights(weights(run), final)  # epoch 2 again, bit for bit
    # The damaged checkpoint was replaced without being kept: the older one is still epoch 1.
    assert int(load_checkpoint(older)["epoch"]) == 1
    _flip_a_weight_bit(older)
    _flip_a_weight_bit(run / CHECKPOINT)
    assert main(["eval", str(run)]) == 2
    assert "no intact older checkpoint is kept" in capsys.readouterr().err
    # An older checkpoint that is a link to a file elsewhere is not the run's own: not offered.
    elsewhere = tmp_path / "elsewhere.pt"
    train(small_config(tmp_path, "intact", epochs=1), progress=False)
    shutil.copyfile(tmp_path / "intact" / CHECKPOINT, elsewhere)
    older.unlink()
    older.symlink_to(elsewhere)
    assert int(load_checkpoint(elsewhere)["epoch"]) == 1  # intact, read on its own
    assert main(["eval", str(run)]) == 2
    assert "no intact older checkpoint is kept" in capsys.readouterr().err


@needs_data
def test_a_full_disk_keeps_the_last_checkpoint_and_says_how_to_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """ENOSPC while the second epoch's checkpoint is written: a traceback before; now one line
    naming the file, the checkpoint kept and the command that continues, and the continued run
    equals one never interrupted."""
    import errno

    from cnnzoo.train import engine, load_checkpoint
    from tests.helpers import assert_same_weights, weights

    whole = train(small_config(tmp_path, "whole", epochs=2), progress=False).run_dir
    real = engine.save_checkpoint
    calls = []

    def full_disk(state: dict[str, object], path: Path, **options: object) -> Path:
        calls.append(path)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real(state, path, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "save_checkpoint", full_disk)
    args = [
        "train",
        "lenet5_modern",
        "--recipe",
        "fast",
        "--out",
        str(tmp_path),
        "--name",
        "run",
        "--epochs",
        "2",
        "--train-subset",
        "512",
        "--test-subset",
        "255",
        "--batch-size",
        "64",
        "--lr",
        "0.05",
        "--deterministic",
        "--threads",
        "1",
    ]
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err
    run = tmp_path / "run"
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{run / 'checkpoint.pt'}: No space left on device; free some space" in err
    assert f"after epoch 1, is kept in {run}" in err
    assert f"continue with `cnnzoo train --resume {run}`" in err
    assert int(load_checkpoint(run)["epoch"]) == 1
    monkeypatch.setattr(engine, "save_checkpoint", real)
    assert main(["train", "--resume", str(run)]) == 0
    assert_same_weights(weights(run), weights(whole))


def test_a_read_only_folder_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import errno
    import tempfile

    def read_only(*args: object, dir: str, **kwargs: object) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), dir)

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    out = tmp_path / "summary.md"
    assert main(["summary", "lenet5", "--format", "md", "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"cnnzoo summary: error: {tmp_path}: Read-only file system; the folder is not "
        "writable, choose another\n"
    )


@needs_data
def test_an_input_spec_beyond_bounds_is_refused_before_anything_is_allocated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A crafted checkpoint whose spec says 100,000 x 100,000 pixels: predict tried to allocate
    40 GB. Its digest is recomputed, as a forger would."""
    from cnnzoo.train import load_checkpoint
    from cnnzoo.train.checkpoint import CHECKPOINT, save_checkpoint

    run = train(small_config(tmp_path, "run", epochs=1), progress=False).run_dir
    state = load_checkpoint(run)
    image = tmp_path / "x.png"
    from PIL import Image

    Image.new("L", (28, 28)).save(image)
    for change, message in (
        ({"stored_size": [100_000, 100_000]}, "more than the 67,108,864 pixels"),
        ({"std": [0.0]}, "expected positive numbers"),
        ({"mean": [0.1, 0.2]}, "expected 1 finite numbers"),
        ({"mode": "stretch"}, "expected 'resize' or 'pad'"),
        ({"extra": 1}, "expected the keys"),
    ):
        crafted = {k: v for k, v in state.items() if k not in ("format", "digest")}
        crafted["input"] = {**state["input"], **change}
        save_checkpoint(crafted, run / CHECKPOINT)
        assert main(["predict", str(run), str(image)]) == 2
        err = capsys.readouterr().err
        assert message in err and "not a usable cnnzoo run" in err and err.count("\n") == 1


@pytest.mark.parametrize("links", ["allowed", "refused", "disk full"])
def test_keep_copy_keeps_the_old_bytes_by_link_or_copy_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, links: str
) -> None:
    """The previous checkpoint is kept by a hard link; where links are refused (EPERM), by a
    copy written straight to its name; a full disk is the disk's error, with nothing left."""
    import errno

    from cnnzoo.train.files import keep_copy

    path, copy = tmp_path / "checkpoint.pt", tmp_path / "checkpoint.prev.pt"
    path.write_bytes(b"epoch 1")
    if links != "allowed":
        code = errno.EPERM if links == "refused" else errno.ENOSPC

        def no_link(*args: object, **kwargs: object) -> None:
            raise OSError(code, os.strerror(code))

        monkeypatch.setattr(os, "link", no_link)
    if links == "disk full":
        with pytest.raises(OSError, match=os.strerror(errno.ENOSPC)):
            keep_copy(path, copy)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt"]
        return
    keep_copy(path, copy)
    write_file(path, b"epoch 2")
    assert (copy.read_bytes(), path.read_bytes()) == (b"epoch 1", b"epoch 2")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.prev.pt", "checkpoint.pt"]
