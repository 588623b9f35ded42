"""The command line: what a person sees, and one clear line on a mistake."""

import json
import subprocess
import sys

import matplotlib.pyplot as plt
import pytest

from cnnzoo.cli import main
from cnnzoo.cli.commands import parse_size


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cnnzoo.cli", *args],
        capture_output=True,
        text=True,
        env={"COLUMNS": "160", "PATH": ""},
        check=False,
    )


def test_list_shows_names_papers_and_counts() -> None:
    out = run("list", "resnet*")
    assert out.returncode == 0, out.stderr
    assert "resnet1202" in out.stdout and "19.42M" in out.stdout and "19.4M" in out.stdout
    assert "lenet5" not in out.stdout


def test_list_everything(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "52 models" in out and "60.97M" in out and "60M" in out


def test_info_shows_paper_deviations_and_layers(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "googlenet_tv"]) == 0
    out = capsys.readouterr().out
    assert "Going Deeper with Convolutions" in out
    assert "3x3 convolutions in the branch the paper gives 5x5" in out
    assert "inception5b" in out and "1024x7x7" in out


def test_info_counts_training_extras_apart_and_lists_assumptions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["info", "googlenet"]) == 0
    out = capsys.readouterr().out
    assert "6,998,552 (7.00M); +6,379,728 (6.38M) in training (aux1, aux2)" in out
    assert "deviations none" in out and "assumptions" in out and "bvlc_googlenet" in out
    assert main(["list", "googlenet"]) == 0
    assert "7.00M; +6.38M in training (aux1, aux2)" in capsys.readouterr().out


def test_info_at_another_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "resnet18", "--input", "1x64x64", "--depth", "1"]) == 0
    assert "512x2x2" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["info", "resnt50"], "Did you mean: resnet50"),
        (["info", "alexnet", "--input", "3x32x32"], "at least 67x67"),
        (["info", "alexnet", "--input", "3by224"], "write CxHxW like 3x224x224"),
        (["list", "zz*"], "no model matches 'zz*'"),
        (["compare", "alexnet", "nosuchnet"], "unknown model 'nosuchnet'"),
        (["list", "--family", "Foo"], "no family 'Foo'; the families: AlexNet, ConvNet-4"),
        (["predict", "RUN", "x.png", "--top-k", "0"], "--top-k 0: show at least"),
        (["report", "RUN", "--output", "r.pdf"], "the report is an HTML page"),
    ],
)
def test_mistakes_get_one_line_and_exit_2(args: list[str], message: str) -> None:
    out = run(*args)
    assert out.returncode == 2
    assert message in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_an_image_and_a_test_index_together_are_refused() -> None:
    """Both name the input: one would silently win."""
    out = run("viz", "cam", "RUN", "--index", "3", "--image", "x.png")
    assert out.returncode == 2 and "--image: not allowed with argument --index" in out.stderr


def test_parse_size() -> None:
    assert parse_size("224") == (3, 224, 224)
    assert parse_size("1x28x28") == (1, 28, 28)


def test_summary_explains_and_totals(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", "alexnet", "--explain", "--depth", "2"]) == 0
    out = capsys.readouterr().out
    assert "(227 - 11 + 2·0)/4 + 1 = 55" in out and "11·11·3·96 + 96 = 34,944" in out
    assert "195x195 pixels, jump 32" in out and "MACs = multiply-accumulates" in out


@pytest.mark.parametrize("fmt", ["json", "csv", "md"])
def test_summary_formats_to_a_file(fmt: str, tmp_path: pytest.TempPathFactory) -> None:
    path = tmp_path / f"vgg16.{fmt}"  # type: ignore[operator]
    assert main(["summary", "vgg16", "--format", fmt, "--output", str(path), "--depth", "1"]) == 0
    text = path.read_text()
    if fmt == "json":
        data = json.loads(text)
        assert data["totals"]["params"] == 138_357_544 and data["totals"]["depth"] == 16
    elif fmt == "csv":
        assert text.splitlines()[1].startswith("features,Sequential,1,1x512x7x7,14714688")
    else:
        assert "| classifier | Sequential | 1000 | 123,642,856 |" in text


def test_summary_training_memory_options(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["summary", "resnet18", "--batch-size", "32", "--optimizer", "adam", "--depth", "1"]
    assert main(args) == 0
    assert "at batch 32 with adam" in capsys.readouterr().out


def test_conv_calculator(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["conv", "--input", "3x227x227", "--filters", "96", "--kernel", "11", "--stride", "4"])
        == 0
    )
    out = capsys.readouterr().out
    assert "(227 - 11 + 2·0)/4 + 1 = 55" in out and "96x55x55" in out


def test_design_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["design", "stack", "--input", "64x56x56", "--kernel", "7"]) == 0
    out = capsys.readouterr().out
    assert "3 stacked 3x3" in out and "9·D·N + 18·N²" in out
    assert main(["design", "bottleneck"]) == 0
    out = capsys.readouterr().out
    assert "854,196,224" in out and "271,351,808" in out and "69,632" in out
    assert main(["design", "head"]) == 0
    assert "123,642,856" in capsys.readouterr().out


def test_compare_table_and_chart(tmp_path: pytest.TempPathFactory) -> None:
    png = tmp_path / "depth.png"  # type: ignore[operator]
    out = run("compare", "alexnet", "vgg16", "resnet152", "--plot", str(png))
    assert out.returncode == 0, out.stderr
    assert "15.3%" in out.stdout and "1507" in out.stdout and "152" in out.stdout
    image = plt.imread(png)
    assert image.shape[0] > 400 and image.shape[1] > 800
    assert image[..., :3].std() > 0.05  # not blank
    out = run("compare", "alexnet", "googlenet")
    assert "60.97M" in out.stdout and "7.00M +6.38M training" in out.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["conv", "--input", "3x7", "--filters", "8", "--kernel", "3"], "is not a size"),
        (
            ["conv", "--input", "3x7x7", "--filters", "8", "--kernel", "3", "--stride", "-2"],
            "must be >= 1",
        ),
        (
            ["conv", "--input", "3x7x7", "--filters", "8", "--kernel", "9"],
            "a window of 9 does not fit an input of 7",
        ),
        (
            [
                "conv",
                "--input",
                "3x7x7",
                "--filters",
                "8",
                "--kernel",
                "3",
                "--stride",
                "3",
                "--strict",
            ],
            "fits with padding 1",
        ),
        (["summary", "resnet50", "--batch-size", "0"], "give 1 or more"),
        (["summary", "resnet50", "--input", "3x0x2"], "must all be >= 1"),
        (["summary", "resnet5"], "Did you mean"),
        (["design", "stack", "--kernel", "4"], "odd kernel of 5 or more"),
        (["design", "head", "--input", "512x7x5"], "square inputs"),
        (["summary", "lenet5", "--input", "1x99999999999999999999x32"], "at most 65,536"),
        (
            ["conv", "--input", "3x99999999999999999999x5", "--filters", "3", "--kernel", "3"],
            "at most 65,536",
        ),
        (["summary", "resnet50", "--batch-size", "99999999999999999999"], "at most 1,048,576"),
        (["viz", "curves", "."], "has no metrics.jsonl"),
        (["compare", "lenet5", "--plot", "x.png"], "has a published ILSVRC top-5"),
    ],
)
def test_bad_arguments_get_one_line(args: list[str], message: str) -> None:
    out = run(*args)
    assert out.returncode == 2
    assert message in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_design_options_belong_to_their_comparison() -> None:
    out = run("design", "head", "--kernel", "5")  # was silently ignored
    assert out.returncode == 2 and "unrecognized arguments: --kernel 5" in out.stderr


def test_a_reader_that_stops_early_ends_the_command_quietly() -> None:
    """`cnnzoo info densenet264 --depth 9 | head -1`: 90 KB in several writes into a pipe closed
    after the first line. rich exited with status 1 (a traceback without it); now silence and
    141, as shells report a writer stopped by SIGPIPE."""
    command = [sys.executable, "-m", "cnnzoo.cli", "info", "densenet264", "--depth", "9"]
    reader = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert reader.stdout is not None and reader.stderr is not None
    assert reader.stdout.readline().startswith(b"densenet264")
    reader.stdout.close()  # the reader goes away while the command still writes
    err = reader.stderr.read().decode()
    assert reader.wait() == 141 and err == ""


def test_ctrl_c_while_the_commands_load_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Ctrl-C during `import torch` (the first second of every command) was a traceback."""

    class Interrupting:
        def find_spec(self, name: str, *args: object) -> None:
            if name == "cnnzoo.cli.commands":
                raise KeyboardInterrupt

    monkeypatch.delitem(sys.modules, "cnnzoo.cli.commands")
    monkeypatch.setattr(sys, "meta_path", [Interrupting(), *sys.meta_path])
    assert main(["list"]) == 130
    assert capsys.readouterr().err == "cnnzoo: interrupted (nothing was half-written)\n"


def test_the_command_line_starts_without_loading_torch() -> None:
    code = "import sys, cnnzoo.cli; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_list_and_help_answer_without_loading_torch() -> None:
    """`cnnzoo list` reads the zoo's table and each command imports only what it needs: the
    listing and the help take a fraction of a second instead of PyTorch's two."""
    code = (
        "import sys, contextlib, io\n"
        "from cnnzoo.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    assert main(['list', 'resnet*']) == 0\n"
        "    assert main(['list', '--family', 'VGG']) == 0\n"
        "    try:\n"
        "        main(['--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('torch' in sys.modules, 'resnet1202' in out.getvalue(), 'report' in out.getvalue())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True", "True"]


def test_mistakes_are_one_line_and_bugs_are_tracebacks(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every ValueError was printed as a user's mistake, hiding bugs; now only CnnzooError."""
    from cnnzoo.cli import commands
    from cnnzoo.errors import CnnzooError, ConfigError

    def buggy(args: object, console: object) -> int:
        raise ValueError("a bug")

    monkeypatch.setattr(commands, "cmd_list", buggy)
    with pytest.raises(ValueError, match="a bug"):
        main(["list"])

    def mistaken(args: object, console: object) -> int:
        raise ConfigError("--x 3: give 1 or 2")

    monkeypatch.setattr(commands, "cmd_list", mistaken)
    assert main(["list"]) == 2
    assert capsys.readouterr().err == "cnnzoo list: error: --x 3: give 1 or 2\n"
    assert issubclass(ConfigError, ValueError) and issubclass(ConfigError, CnnzooError)


def test_every_error_a_user_can_cause_is_a_cnnzoo_error() -> None:
    import cnnzoo.anatomy.geometry as geometry
    import cnnzoo.data.catalogue as catalogue
    import cnnzoo.factory as factory
    import cnnzoo.train.checkpoint as checkpoint
    import cnnzoo.train.engine as engine
    import cnnzoo.train.files as files
    from cnnzoo import InputSizeError, UnknownModelError
    from cnnzoo.cli.commands import UsageError
    from cnnzoo.errors import CnnzooError

    expected = {
        UnknownModelError: ValueError,
        InputSizeError: ValueError,
        UsageError: ValueError,
        geometry.GeometryError: ValueError,
        factory.ModelArgumentError: TypeError,
        catalogue.DataNotFoundError: FileNotFoundError,
        catalogue.DataIntegrityError: ValueError,
        engine.DataMismatchError: ValueError,
        engine.NonFiniteLossError: RuntimeError,
        engine.RunStorageError: OSError,
        files.UnsafePathError: ValueError,
        files.RunLockedError: RuntimeError,
        files.RunFileError: ValueError,
        checkpoint.CheckpointError: ValueError,
    }
    for error, builtin in expected.items():
        assert issubclass(error, CnnzooError) and issubclass(error, builtin), error
