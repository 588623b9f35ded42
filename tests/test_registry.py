"""The registry: lookup, wildcards, helpful errors, and the printed figures it parses."""

from pathlib import Path

import pytest
import torch

import cnnzoo
from cnnzoo import UnknownModelError
from cnnzoo.models._registry import register_model, reported
from cnnzoo.models.lenet import PAPER


def test_wildcards_include_and_exclude() -> None:
    assert cnnzoo.list_models("resnet1*") == [
        "resnet18",
        "resnet101",
        "resnet152",
        "resnet101_tv",
        "resnet152_tv",
        "resnet110",
        "resnet1202",
    ]
    assert cnnzoo.list_models("vgg*", exclude="*_bn") == [
        "vgg11",
        "vgg11_lrn",
        "vgg13",
        "vgg16_c",
        "vgg16",
        "vgg19",
    ]
    assert cnnzoo.list_models(family="densenet-cifar") == ["densenet40_k12", "densenet_bc100_k12"]
    assert cnnzoo.list_models("nothing*") == []


def test_models_are_listed_in_historical_order() -> None:
    years = [cnnzoo.model_info(n).paper.year for n in cnnzoo.list_models()]
    firsts = [
        years[i]
        for i, n in enumerate(cnnzoo.list_models())
        if i == 0
        or cnnzoo.model_info(n).family != cnnzoo.model_info(cnnzoo.list_models()[i - 1]).family
    ]
    assert firsts == sorted(firsts)
    assert cnnzoo.list_models()[0] == "lenet5"


def test_unknown_name_suggests_the_nearest() -> None:
    with pytest.raises(UnknownModelError, match=r"Did you mean: .*resnet50") as caught:
        cnnzoo.create_model("resnet05")
    assert "cnnzoo list" in str(caught.value)


def test_bad_arguments_are_explained() -> None:
    with pytest.raises(ValueError, match="num_classes must be >= 0"):
        cnnzoo.create_model("resnet20", num_classes=-1, device="meta")
    with pytest.raises(ValueError, match="in_chans must be >= 1"):
        cnnzoo.create_model("resnet20", in_chans=0, device="meta")
    with pytest.raises(TypeError, match="cnnzoo info resnet20"):
        cnnzoo.create_model("resnet20", widht=3, device="meta")


def test_options_are_read_from_the_builders_and_their_classes() -> None:
    """A wrong option is named from the signatures before the build, not recognised in the
    text of the TypeError the build raises."""
    for name in cnnzoo.list_models():
        options = cnnzoo.model_info(name).options
        assert {"num_classes", "in_chans"} <= set(options), name
    assert set(cnnzoo.model_info("lenet5").options) == {"in_chans", "modern", "num_classes"}
    assert "aux_logits" in cnnzoo.model_info("googlenet").options
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'bar', 'foo'\."):
        cnnzoo.create_model("lenet5", foo=1, bar=2)


def test_a_name_registers_once() -> None:
    def lenet5() -> cnnzoo.ZooModel:  # the name is taken
        raise AssertionError("never built")

    with pytest.raises(ValueError, match="registered twice"):
        register_model(family="LeNet", paper=PAPER, input_size=(1, 32, 32), min_input_size=32)(
            lenet5
        )


@pytest.mark.parametrize(
    ("text", "value", "tolerance"),
    [
        ("133M", 133e6, 0.5e6),
        ("0.27M", 0.27e6, 5e3),
        ("60,000", 60_000, 0.5),
        ("3.8G", 3.8e9, 0.05e9),
        ("7.46%", 7.46, 0.005),
    ],
)
def test_printed_figures_carry_their_rounding(text: str, value: float, tolerance: float) -> None:
    figure = reported(text, "somewhere")
    assert figure.value == pytest.approx(value)
    assert figure.tolerance == pytest.approx(tolerance)
    assert figure.holds(value + 0.99 * tolerance)
    assert not figure.holds(value + 1.01 * tolerance + 1e-6 * value)


def test_unreadable_figure() -> None:
    with pytest.raises(ValueError, match="cannot read the figure"):
        reported("about sixty", "nowhere")


def test_create_model_on_a_device_and_for_grey_images() -> None:
    model = cnnzoo.create_model("lenet5_modern", num_classes=10, in_chans=1)
    assert model(torch.randn(3, 1, 32, 32)).shape == (3, 10)
    meta = cnnzoo.create_model("vgg19", device="meta")
    assert next(meta.parameters()).is_meta


def test_readme_lists_every_model_with_its_count() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    for name in cnnzoo.list_models():
        count = cnnzoo.create_model(name, device="meta").num_params()
        assert f"| `{name}` |" in readme, name
        assert f"| {count:,} |" in readme, f"{name}: README lacks its count {count:,}"
