"""`cnnzoo train`'s options: one per config field, bad values refused in one line, recipes."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from cnnzoo.cli import main
from cnnzoo.cli import train as cli_train
from cnnzoo.errors import ConfigError
from cnnzoo.train import RECIPES, RunResult, TrainConfig, resolve_config
from cnnzoo.train.config import CHOICES

FIELDS = [f for f in dataclasses.fields(TrainConfig) if f.name not in ("model", "recipe")]
FIELDS_BY_NAME = {f.name: f for f in FIELDS}


def _other_value(f: dataclasses.Field[Any], default: Any) -> tuple[list[str], Any]:
    """Command-line words that set field ``f`` to a valid value other than ``default``."""
    flag = "--" + f.name.replace("_", "-")
    if isinstance(default, bool):
        if f.name.startswith("no_"):
            return [flag if not default else "--" + flag[5:]], not default
        return [flag if not default else "--no-" + flag[2:]], not default
    if isinstance(default, tuple):
        return [flag, "0.3,0.6"], (0.3, 0.6)
    if isinstance(default, dict):  # values read as JSON where they parse
        return [flag, "act=tanh,pool=2,hidden=[64,32]"], {
            "act": "tanh",
            "pool": 2,
            "hidden": [64, 32],
        }
    if f.name in CHOICES:
        value = next(choice for choice in CHOICES[f.name] if choice != default)
    elif f.name == "device":  # a device the config accepts (whether it exists is the run's)
        value = "cuda:1"
    elif isinstance(default, str):
        value = f"{f.name}-x"
    else:
        value = default + (1 if isinstance(default, int) else 0.125)
    return [flag, str(value)], value


@pytest.fixture
def configs(monkeypatch: pytest.MonkeyPatch) -> list[TrainConfig]:
    """The configs `cnnzoo train` would train, instead of training them."""
    seen: list[TrainConfig] = []

    def fake_train(config: TrainConfig | None = None, **kwargs: Any) -> RunResult:
        assert config is not None
        seen.append(config)
        raise ConfigError("not trained in this test")

    monkeypatch.setattr(cli_train, "train", fake_train)
    return seen


def test_every_config_field_is_an_option(configs: list[TrainConfig]) -> None:
    """Each field set to a value the recipe does not give it: all in one command, but for
    --init-from, which --weights excludes (both give the first weights), given alone."""
    recipe = resolve_config("resnet20", "vgg").to_dict()
    for chosen in ([f for f in FIELDS if f.name != "init_from"], [FIELDS_BY_NAME["init_from"]]):
        argv, expected = ["train", "resnet20", "--recipe", "vgg"], dict(recipe)
        for f in chosen:
            words, value = _other_value(f, recipe[f.name])
            argv += words
            expected[f.name] = value
        assert main(argv) == 2  # the fake train's error
        assert configs.pop().to_dict() == expected
    assert not configs


def test_options_given_override_the_recipe_and_only_those(configs: list[TrainConfig]) -> None:
    main(["train", "resnet20", "--recipe", "resnet-cifar", "--epochs", "20", "--no-flip"])
    main(["train", "resnet20", "--decay-norm"])  # the fast recipe exempts norms; this does not
    paper, fast = resolve_config("resnet20", "resnet-cifar"), resolve_config("resnet20", "fast")
    assert configs == [
        dataclasses.replace(paper, epochs=20, flip=False),
        dataclasses.replace(fast, no_decay_norm=False),
    ]
    assert fast.no_decay_norm


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["--amp", "fp8"], "amp 'fp8': expected one of off, bf16, fp16"),
        (["--epochs", "0"], "epochs must be at least 1, got 0"),
        (["--milestones", "2"], "milestones (2.0,): fractions of training, each in (0, 1)"),
        (["--ema", "1.5"], "ema 1.5: a decay per step, expected 0 <= value < 1"),
        (["--lr", "-0.1"], "lr must be positive, got -0.1"),
        # accepted before, or a traceback
        (["--lr", "nan"], "lr must be a finite number, got nan"),
        (["--lr", "inf"], "lr must be a finite number, got inf"),
        (["--train-subset", "-5"], "train_subset must be 0 or more, got -5"),
        (["--checkpoint-every", "-1"], "checkpoint_every must be 0 or more, got -1"),
        (["--threads", "-3"], "threads must be 0 or more, got -3"),
        (["--step-epochs", "0"], "step_epochs must be at least 1, got 0"),
        (["--erasing", "2"], "erasing 2.0: a probability, expected 0 <= value <= 1"),
        (["--val-fraction", "1.5"], "val_fraction 1.5: the share held out"),
        (["--milestones", "0.9,0.1"], "milestones (0.9, 0.1): expected in increasing order"),
        (["--device", "tpu"], "device 'tpu': expected cpu, cuda, cuda:N, mps or auto"),
        (
            ["--test-views", "10crop", "--crop-padding", "0"],
            "test_views 10crop crops the test images padded by",
        ),
        (["--test-views", "5crop"], "test_views '5crop': expected one of center, flip, 10crop"),
        (["--model-args", "num_classes=3"], "model_args num_classes: set by the run itself"),
        (["--model-args", "device=meta"], "model_args device: set by the run itself"),
        (
            ["--model-args", "foo=1", "--batch-size", "16", "--train-subset", "32"],
            "unexpected keyword argument 'foo'",
        ),
    ],
)
def test_bad_values_exit_2_with_one_line(
    words: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", "lenet5_modern", *words]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("cnnzoo train: error: ") and message in err


def test_model_args_must_be_name_value_pairs(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["train", "convnet4", "--model-args", "act"])
    assert exited.value.code == 2
    assert "'act': expected NAME=VALUE pairs separated by commas" in capsys.readouterr().err


def test_a_resumed_run_keeps_its_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv, named in [
        (["--lr", "0.1", "--epochs", "5"], "--lr"),
        (["--recipe", "vgg"], "--recipe vgg"),
        (["lenet5"], "the model lenet5"),
    ]:
        assert main(["train", "--resume", str(tmp_path), *argv]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "only --epochs and where it runs" in err and named in err
        assert "--device, --threads, --workers" in err
    assert main(["train", "--resume", str(tmp_path)]) == 2
    assert "has no checkpoint.pt" in capsys.readouterr().err
    assert main(["train"]) == 2
    assert "name a model" in capsys.readouterr().err


def test_recipes_lists_each_recipe(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["recipes"]) == 0
    out = capsys.readouterr().out
    for name, recipe in RECIPES.items():
        assert f"│ {name} " in out
        assert " ".join(recipe.source.split()[:3]) in out  # the paper it comes from


def test_config_trains_a_saved_run_again_with_the_options_given(
    configs: list[TrainConfig], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    paper = resolve_config("resnet20", "resnet-cifar")
    (tmp_path / "run").mkdir()
    saved = tmp_path / "run" / "config.json"
    saved.write_text(json.dumps(paper.to_dict()))
    assert main(["train", "--config", str(tmp_path / "run")]) == 2  # the fake train's error
    assert main(["train", "--config", str(saved), "--epochs", "5", "--no-flip"]) == 2
    assert configs == [paper, dataclasses.replace(paper, epochs=5, flip=False)]
    capsys.readouterr()
    refused = [
        (["resnet20", "--config", str(saved)], "not with a model or a --recipe"),
        (["--config", str(saved), "--recipe", "fast"], "not with a model or a --recipe"),
        (["--config", str(saved), "--resume", str(tmp_path)], "leave out --config"),
        (["--config", str(tmp_path / "none")], "none: no such file; give a run folder"),
    ]
    for words, message in refused:
        assert main(["train", *words]) == 2
        assert message in capsys.readouterr().err
    for edit, message in [
        ({"epochs": "ten"}, "epochs 'ten': expected a whole number"),
        ({"flip": 1}, "flip 1: expected true or false"),
        ({"milestones": [0.5, None]}, "milestones None: expected a number"),
        ({"colour": "red"}, "unknown config keys ['colour']"),
    ]:
        saved.write_text(json.dumps({**paper.to_dict(), **edit}))
        assert main(["train", "--config", str(saved)]) == 2
        assert f"{saved}: {message}" in capsys.readouterr().err
    saved.write_text("{")
    assert main(["train", "--config", str(saved)]) == 2
    assert "config.json: not JSON" in capsys.readouterr().err
    assert len(configs) == 2
