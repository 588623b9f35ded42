"""Training configuration as one typed dataclass, and each paper's recipe as a set of its values.

Every field is a command-line option of ``cnnzoo train`` (``--batch-size 256``, ``--no-flip``);
a recipe sets defaults, the command line overrides them, and the resolved config is saved with
the run (``config.json``) and inside every checkpoint.
"""

from __future__ import annotations

import math
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Literal, TypeVar, get_args

from cnnzoo.errors import ConfigError

__all__ = ["RECIPES", "Recipe", "TrainConfig", "default_recipe", "resolve_config"]

Optimizer = Literal["sgd", "adamw"]
ScheduleKind = Literal["constant", "step", "multistep", "cosine", "onecycle", "plateau"]
Precision = Literal["off", "bf16", "fp16"]
FitMode = Literal["auto", "resize", "pad"]
Channels = Literal["data", "model"]
Keep = Literal["last", "best"]
# How each test image is seen: as given, with its mirror, or as AlexNet's ten crops.
Protocol = Literal["center", "flip", "10crop"]
# The accepted values of each choice, from the types above (a config read from a file or the
# command line is checked against them at run time).
CHOICES: dict[str, tuple[str, ...]] = {
    "optimizer": get_args(Optimizer),
    "schedule": get_args(ScheduleKind),
    "amp": get_args(Precision),
    "fit": get_args(FitMode),
    "channels": get_args(Channels),
    "keep": get_args(Keep),
    "test_views": get_args(Protocol),
}

_T = TypeVar("_T")


def _doc(text: str, default: _T) -> _T:
    """A field with its help text (the command line's), typed as its default for mypy."""
    return field(default=default, metadata={"help": text})


# Where and how fast a run trains, not what it learns.
RUNTIME_FIELDS = frozenset({"data_dir", "workers", "device", "threads", "out", "checkpoint_every"})
# Those a resumed run may change: all but the run folder, which is where its checkpoint is.
MOVABLE_FIELDS = RUNTIME_FIELDS - {"out"}
# create_model's own arguments, which a run sets from its data and device
MODEL_ARGS_SET_BY_RUN = frozenset(
    {"num_classes", "in_chans", "device", "features_only", "out_indices"}
)


@dataclass
class TrainConfig:
    """Everything that decides a training run. Units are in the help texts."""

    model: str = _doc("zoo model name", "lenet5")
    model_args: dict[str, Any] = field(
        default_factory=dict,
        metadata={
            "help": "builder arguments of the model, e.g. act=tanh,pool=2 (none: the paper's)"
        },
    )
    recipe: str = _doc("recipe the defaults came from", "fast")
    # Data
    data: str = _doc(
        "data set: fashion-mnist, mnist, cifar10, cifar100, or an image folder", "fashion-mnist"
    )
    data_dir: str = _doc("where the data set's files are (default: search the usual places)", "")
    train_subset: int = _doc("train on the first N training images only (0: all)", 0)
    test_subset: int = _doc("evaluate on the first N test images only (0: all)", 0)
    val_fraction: float = _doc("share of an image folder held out for validation", 0.1)
    image_size: int = _doc(
        "model input side in pixels (0: the data's, or the paper's when the model needs it)", 0
    )
    fit: FitMode = _doc(
        "how images reach the input size: resize, pad (LeNet-5's 32x32 field), or auto", "auto"
    )
    channels: Channels = _doc(
        "'data': build the model for the data's channels; 'model': convert images to the paper's",
        "data",
    )
    # Augmentation (training only)
    crop_padding: int = _doc("random crop after zero padding, pixels per side (0: off)", 0)
    flip: bool = _doc("random horizontal flips", False)
    lighting: float = _doc("std of AlexNet's PCA colour noise (paper: 0.1; 0: off)", 0.0)
    erasing: float = _doc("probability of random erasing per image (0: off)", 0.0)
    # Optimisation
    epochs: int = _doc("passes over the training set", 10)
    batch_size: int = _doc("global batch size, across all processes", 128)
    optimizer: Optimizer = _doc("sgd or adamw", "sgd")
    lr: float = _doc("peak learning rate", 0.1)
    momentum: float = _doc("SGD momentum (adamw: beta1)", 0.9)
    nesterov: bool = _doc("Nesterov momentum", False)
    weight_decay: float = _doc("L2 weight decay (SGD) or decoupled decay (AdamW)", 5e-4)
    no_decay_norm: bool = _doc("exempt biases and norm scales from weight decay", False)
    schedule: ScheduleKind = _doc(
        "learning-rate schedule: constant, step, multistep, cosine, onecycle, plateau", "onecycle"
    )
    milestones: tuple[float, ...] = _doc(
        "multistep: decay points as fractions of training", (0.5, 0.75)
    )
    step_epochs: int = _doc("step: epochs between decays", 8)
    gamma: float = _doc("step/multistep/plateau: factor per decay", 0.1)
    patience: int = _doc("plateau: epochs without a better test loss before decaying", 2)
    warmup_epochs: float = _doc("linear warm-up from lr/100, epochs (onecycle: the rise)", 0.0)
    label_smoothing: float = _doc("label smoothing of the cross-entropy target", 0.0)
    clip_grad: float = _doc("clip the global gradient L2 norm to this (0: off)", 0.0)
    ema: float = _doc(
        "decay of an exponential moving average of the weights per step (0: off)", 0.0
    )
    # Speed
    amp: Precision = _doc(
        "mixed precision: off, bf16 (CPU and GPU) or fp16 (GPU, with loss scaling)", "off"
    )
    channels_last: bool = _doc("NHWC memory format (faster convolutions on recent GPUs)", False)
    compile: bool = _doc("torch.compile the model", False)
    workers: int = _doc("DataLoader workers for image folders", 4)
    device: str = _doc("cpu, cuda, cuda:N or auto", "auto")
    threads: int = _doc(
        "CPU threads per process (0: the cores other programs leave free, counted every 2 s; "
        "PyTorch's default under --deterministic or torchrun)",
        0,
    )
    # Bookkeeping
    seed: int = _doc("seed of initialisation, shuffling, augmentation and dropout", 0)
    deterministic: bool = _doc("deterministic algorithms only (bit-exact resume on CPU)", False)
    out: str = _doc("folder that holds the run folders", "runs")
    name: str = _doc("run folder name (default: model-data-recipe)", "")
    init_from: str = _doc("start from a checkpoint or torchvision-format state_dict file", "")
    weights: str = _doc(
        "fine-tune the model's published weights (DEFAULT, IMAGENET1K_V1, ...): a new "
        "classifier for the data's classes, the weights' normalisation",
        "",
    )
    freeze: bool = _doc("with --weights: train the new classifier only", False)
    backbone_lr: float = _doc(
        "with --weights: the pretrained layers' learning rate, as a fraction of --lr", 0.1
    )
    test_views: Protocol = _doc(
        "test-time views of the evaluation after each epoch, their softmax averaged: center "
        "(the image as given), flip (with its mirror) or 10crop (of the image padded by "
        "--crop-padding)",
        "center",
    )
    eval_train: bool = _doc(
        "also evaluate on the training images, unaugmented, after each epoch (train/test gap)",
        False,
    )
    checkpoint_every: int = _doc("also checkpoint every N steps within an epoch (0: per epoch)", 0)
    keep: Keep = _doc(
        "best: also keep the checkpoint of the epoch with the best test top-1 as best.pt (an "
        "image folder's test images are its held-out validation split)",
        "last",
    )

    def __post_init__(self) -> None:
        for key, allowed in CHOICES.items():
            value = getattr(self, key)
            if value not in allowed:
                raise ConfigError(f"{key} {value!r}: expected one of {', '.join(allowed)}")
        for key in ("epochs", "batch_size", "step_epochs"):
            if getattr(self, key) < 1:
                raise ConfigError(f"{key} must be at least 1, got {getattr(self, key)}")
        for key in (
            "train_subset",
            "test_subset",
            "image_size",
            "crop_padding",
            "patience",
            "workers",
            "threads",
            "checkpoint_every",
        ):
            if getattr(self, key) < 0:
                raise ConfigError(f"{key} must be 0 or more, got {getattr(self, key)}")
        for key in (
            "lr",
            "momentum",
            "weight_decay",
            "gamma",
            "warmup_epochs",
            "clip_grad",
            "lighting",
        ):
            if not math.isfinite(getattr(self, key)):
                raise ConfigError(f"{key} must be a finite number, got {getattr(self, key)}")
        if self.lr <= 0:
            raise ConfigError(f"lr must be positive, got {self.lr}")
        for key in ("momentum", "weight_decay", "warmup_epochs", "clip_grad", "lighting"):
            if getattr(self, key) < 0:
                raise ConfigError(f"{key} must be 0 or more, got {getattr(self, key)}")
        if not 0 <= self.erasing <= 1:
            raise ConfigError(f"erasing {self.erasing}: a probability, expected 0 <= value <= 1")
        if not 0 < self.val_fraction < 1:
            raise ConfigError(
                f"val_fraction {self.val_fraction}: the share held out, expected 0 < value < 1"
            )
        if self.device.split(":")[0] not in ("auto", "cpu", "cuda", "mps"):
            raise ConfigError(f"device {self.device!r}: expected cpu, cuda, cuda:N, mps or auto")
        reserved = sorted(set(self.model_args) & MODEL_ARGS_SET_BY_RUN)
        if reserved:
            raise ConfigError(
                f"model_args {', '.join(reserved)}: set by the run itself (the data's classes and "
                "channels, where it trains); give the builder's own options only"
            )
        if self.test_views == "10crop" and not self.crop_padding:
            raise ConfigError(
                "test_views 10crop crops the test images padded by --crop-padding, which is 0: "
                "give --crop-padding, or --test-views flip"
            )
        if not 0 <= self.label_smoothing < 1:
            raise ConfigError(f"label_smoothing {self.label_smoothing}: expected 0 <= value < 1")
        if self.freeze and not self.weights:
            raise ConfigError("--freeze keeps pretrained layers as they are: give --weights too")
        if self.weights and self.init_from:
            raise ConfigError("--weights and --init-from both give the first weights: give one")
        if not 0 <= self.backbone_lr <= 1:
            raise ConfigError(
                f"backbone_lr {self.backbone_lr}: a fraction of --lr, expected 0 <= value <= 1"
            )
        if not 0 <= self.ema < 1:
            raise ConfigError(
                f"ema {self.ema}: a decay per step, expected 0 <= value < 1 (e.g. 0.999)"
            )
        if self.milestones and not all(0 < m < 1 for m in self.milestones):
            raise ConfigError(
                f"milestones {self.milestones}: fractions of training, each in (0, 1)"
            )
        if list(self.milestones) != sorted(self.milestones):
            raise ConfigError(f"milestones {self.milestones}: expected in increasing order")
        self.milestones = tuple(float(m) for m in self.milestones)
        self.model_args = dict(self.model_args)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def trained_as(self) -> dict[str, Any]:
        """The values that decide what is learned, without where or how fast (device, threads,
        workers, data folder, output folder): two runs that agree here are the same run."""
        return {k: v for k, v in self.to_dict().items() if k not in RUNTIME_FIELDS}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown config keys {unknown}; known: {sorted(known)}")
        factories: dict[str, Any] = {f.name: f.default_factory for f in fields(cls)}
        defaults = {
            f.name: factories[f.name]() if f.default is MISSING else f.default for f in fields(cls)
        }
        return cls(**{k: _typed(k, v, defaults[k]) for k, v in values.items()})


def _typed(key: str, value: Any, default: Any) -> Any:
    """``value`` as the type of the field's default, or a :class:`ConfigError` naming it: a
    config file may be edited by hand (``"epochs": "10"``, ``"flip": 1``)."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = number and float(value).is_integer()
        value = int(value) if ok else value
    elif isinstance(default, float):
        ok = number
    elif isinstance(default, tuple):
        ok = isinstance(value, list | tuple) and all(_typed(key, v, 0.0) == v for v in value)
        value = tuple(value) if ok else value
    else:
        ok = isinstance(value, type(default))
    if not ok:
        kind = {bool: "true or false", int: "a whole number", float: "a number"}.get(
            type(default), "a list of numbers" if isinstance(default, tuple) else None
        )
        raise ConfigError(f"{key} {value!r}: expected {kind or type(default).__name__}")
    return value


@dataclass(frozen=True)
class Recipe:
    """A paper's training setup, as the config values that express it."""

    name: str
    source: str  # the paper and section the values come from
    values: dict[str, Any]
    note: str = ""  # where the recipe departs from the paper, and why


# The fast recipe's values, which the speed route's recipe starts from.
FAST: dict[str, Any] = dict(
    epochs=10,
    batch_size=256,
    lr=0.2,
    momentum=0.9,
    nesterov=True,
    weight_decay=5e-4,
    no_decay_norm=True,
    schedule="onecycle",
    warmup_epochs=1.0,
    label_smoothing=0.1,
    crop_padding=2,
    flip=True,
)

RECIPES: dict[str, Recipe] = {
    recipe.name: recipe
    for recipe in [
        Recipe(
            "fast",
            "cnnzoo's modern default: one-cycle SGD with Nesterov momentum and label smoothing",
            FAST,
            "not a paper's: the quickest route to a good model on a small machine",
        ),
        Recipe(
            "speed",
            "the CIFAR-10 speedruns' recipe (airbench, Jordan 2024; David Page's ResNet-9): "
            "Nesterov SGD on a triangular rate, label smoothing, flips, the mirror averaged in "
            "at test time",
            # fast's optimizer and schedule, over 8 epochs with a fifth of them warming up
            dict(
                FAST,
                epochs=8,
                warmup_epochs=1.6,
                crop_padding=0,
                channels_last=True,
                test_views="flip",
            ),
            "not a paper's: the speed route, tuned on Fashion-MNIST for the speedrun net on two "
            "CPU cores. No translation, unlike airbench's: Fashion-MNIST's items are centred, "
            "and in 10 epochs 2-pixel crops cost 0.9 points (92.61% against 93.48%); "
            "airbench's Lookahead, whitening and test-time translations are left out",
        ),
        Recipe(
            "finetune",
            "fine-tuning published weights, as torchvision's transfer-learning tutorial and "
            "timm do: SGD with momentum, a cosine decay, the pretrained layers at a tenth of "
            "the new classifier's rate",
            dict(
                epochs=5,
                batch_size=32,
                lr=0.01,
                momentum=0.9,
                nesterov=True,
                weight_decay=1e-4,
                no_decay_norm=True,
                schedule="cosine",
                warmup_epochs=0.5,
                label_smoothing=0.1,
                crop_padding=0,
                flip=True,
                backbone_lr=0.1,
            ),
            "not a paper's: starting points for a small data set; --freeze trains the head alone",
        ),
        Recipe(
            "lenet5",
            "LeCun et al. 1998, §II.C and App. C: 20 passes, learning rate decreasing in steps",
            dict(
                epochs=15,
                batch_size=32,
                optimizer="sgd",
                lr=0.003,
                momentum=0.9,
                weight_decay=0.0,
                schedule="step",
                step_epochs=4,
                gamma=0.4,
                fit="pad",
            ),
            "the paper updates after every image with a diagonal Levenberg-Marquardt step over "
            "20 passes; this uses SGD with momentum on batches of 32 over 15, the rate divided "
            "by 2.5 every 4 (its 5e-4 -> 1e-5 over 20 passes, in fewer steps). The loss is the "
            "model's own: eq. 9 for lenet5",
        ),
        Recipe(
            "alexnet",
            "Krizhevsky et al. 2012, §5: batch 128, momentum 0.9, decay 5e-4, lr 0.01 /10 on "
            "plateau, 90 epochs",
            dict(
                epochs=90,
                batch_size=128,
                lr=0.01,
                momentum=0.9,
                weight_decay=5e-4,
                schedule="plateau",
                gamma=0.1,
                patience=2,
                crop_padding=4,
                flip=True,
                lighting=0.1,
            ),
            "random 224 crops of 256 images become crops after padding on small data sets; "
            "the plateau is watched on the test loss (Fashion-MNIST has no validation split)",
        ),
        Recipe(
            "vgg",
            "Simonyan & Zisserman 2015, §3.1: batch 256, momentum 0.9, decay 5e-4, lr 0.01 /10 on "
            "plateau, 74 epochs",
            dict(
                epochs=74,
                batch_size=256,
                lr=0.01,
                momentum=0.9,
                weight_decay=5e-4,
                schedule="plateau",
                gamma=0.1,
                patience=2,
                crop_padding=4,
                flip=True,
                lighting=0.1,
            ),
            "scale jittering and 224 crops become crops after padding; the plateau is watched "
            "on the test loss",
        ),
        Recipe(
            "googlenet",
            "Szegedy et al. 2015, §6: momentum 0.9, lr decreased 4% every 8 epochs, "
            "Polyak averaging",
            dict(
                epochs=80,
                batch_size=128,
                lr=0.01,
                momentum=0.9,
                weight_decay=2e-4,
                schedule="step",
                step_epochs=8,
                gamma=0.96,
                ema=0.9999,
                crop_padding=4,
                flip=True,
            ),
            "the paper gives no batch size, base rate or decay; Polyak averaging is an EMA",
        ),
        Recipe(
            "resnet-cifar",
            "He et al. 2016, §4.2: batch 128, lr 0.1 /10 at 32k and 48k of 64k "
            "iterations, decay 1e-4",
            dict(
                epochs=164,
                batch_size=128,
                lr=0.1,
                momentum=0.9,
                weight_decay=1e-4,
                schedule="multistep",
                milestones=(0.5, 0.75),
                gamma=0.1,
                crop_padding=4,
                flip=True,
            ),
            "64k iterations of 128 on CIFAR-10's 45k/50k images is 164 epochs; "
            "milestones are kept as fractions, so --epochs shortens the schedule in proportion",
        ),
        Recipe(
            "resnet-imagenet",
            "He et al. 2016, §3.4: batch 256, lr 0.1 /10 on plateau, decay 1e-4, 600k iterations",
            dict(
                epochs=120,
                batch_size=256,
                lr=0.1,
                momentum=0.9,
                weight_decay=1e-4,
                schedule="plateau",
                gamma=0.1,
                patience=2,
                crop_padding=4,
                flip=True,
                lighting=0.1,
            ),
            "scale augmentation and 224 crops become crops after padding; the plateau is "
            "watched on the test loss",
        ),
        Recipe(
            "densenet",
            "Huang et al. 2017, §4.2: batch 64, 300 epochs, lr 0.1 /10 at 50% and 75%, "
            "decay 1e-4, Nesterov",
            dict(
                epochs=300,
                batch_size=64,
                lr=0.1,
                momentum=0.9,
                nesterov=True,
                weight_decay=1e-4,
                schedule="multistep",
                milestones=(0.5, 0.75),
                gamma=0.1,
                crop_padding=4,
                flip=True,
            ),
        ),
    ]
}


# Models whose paper recipe is also quick on a CPU train with it by default.
_PAPER_DEFAULT = {"lenet5": "lenet5", "speedrun": "speed"}


def default_recipe(model: str) -> str:
    """The paper's recipe where it is quick (LeNet-5), else the fast one: the other papers'
    recipes run for days on a CPU; choose them with ``--recipe``."""
    return _PAPER_DEFAULT.get(model, "fast")


def resolve_config(model: str, recipe: str | None = None, **overrides: Any) -> TrainConfig:
    """The recipe's values over the dataclass defaults, then ``overrides`` over the recipe."""
    name = recipe or ("finetune" if overrides.get("weights") else default_recipe(model))
    if name not in RECIPES:
        raise ConfigError(f"unknown recipe {name!r}; known: {', '.join(RECIPES)}")
    values = {**RECIPES[name].values, **{k: v for k, v in overrides.items() if v is not None}}
    return TrainConfig.from_dict({"model": model, "recipe": name, **values})
