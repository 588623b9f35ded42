"""What every zoo model shares: timm's model surface and an up-front input check."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from cnnzoo.errors import ConfigError

__all__ = ["Criterion", "FeatureInfo", "FeatureNet", "InputSizeError", "TrainingStep", "ZooModel"]

# (logits, targets) -> scalar loss: the trainer's criterion (cross-entropy, label smoothing).
Criterion = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class FeatureInfo:
    """One stage's output: its module, channels and stride from the input (timm's feature_info)."""

    module: str  # qualified name of the module whose output is the stage's feature map
    num_chs: int
    reduction: int


class InputSizeError(ConfigError):
    """An input the network cannot take, refused before any layer runs."""


class ZooModel(nn.Module, ABC):
    """Base of the zoo: ``forward = forward_head(forward_features(x))``, always logits.

    Subclasses implement ``_features`` (image to last feature map), ``forward_head`` and
    ``reset_classifier``, and list their stages in ``feature_info``. A network whose paper
    trains it on more than its logits' criterion says so in ``training_loss`` (GoogLeNet's
    auxiliary heads, LeNet-5's eq. 9), and names the modules only training runs in
    ``training_only``. The registry fills in the name and the input sizes the paper's
    geometry allows.
    """

    model_name: str = ""
    min_input_size: tuple[int, int] = (1, 1)
    default_input_size: tuple[int, int] = (224, 224)
    fixed_input_size: bool = False
    pretrained: object = None  # the published weights it was built with (cnnzoo.pretrained)

    def __init__(self, num_classes: int, in_chans: int) -> None:
        super().__init__()
        if num_classes < 0:
            raise ConfigError(
                f"num_classes must be >= 0 (0 drops the classifier), got {num_classes}"
            )
        if in_chans < 1:
            raise ConfigError(f"in_chans must be >= 1 (1 for grey, 3 for RGB), got {in_chans}")
        self.num_classes = num_classes
        self.in_chans = in_chans
        self.feature_info: list[FeatureInfo] = []

    def check_input(self, x: torch.Tensor) -> None:
        """Refuse an input whose layout or size the network cannot take, saying what would fit."""
        name = self.model_name or type(self).__name__
        if x.dim() != 4:
            raise InputSizeError(
                f"{name} takes a batch of images (B, C, H, W); got a tensor of shape "
                f"{tuple(x.shape)}. Add a batch dimension with x.unsqueeze(0)."
            )
        _, c, h, w = x.shape
        if c != self.in_chans:
            raise InputSizeError(
                f"{name} was built for {self.in_chans} input channel(s), got {c}. "
                f"Build it with create_model({name!r}, in_chans={c})."
            )
        min_h, min_w = self.min_input_size
        if self.fixed_input_size and (h, w) != self.default_input_size:
            fh, fw = self.default_input_size
            raise InputSizeError(
                f"{name} takes exactly {fh}x{fw} images (its fully-connected layers are sized "
                f"for them), got {h}x{w}. Pad or resize the images to {fh}x{fw}."
            )
        if h < min_h or w < min_w:
            raise InputSizeError(
                f"{name} needs an input of at least {min_h}x{min_w} pixels, got {h}x{w}: "
                f"smaller images shrink to nothing before the last layer. Resize or pad the "
                f"images to {max(h, min_h)}x{max(w, min_w)} or more "
                f"(the paper uses {self.default_input_size[0]}x{self.default_input_size[1]})."
            )

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Image (B, C, H, W) to the last feature map, before pooling and classifier."""
        self.check_input(x)
        return self._features(x)

    @abstractmethod
    def _features(self, x: torch.Tensor) -> torch.Tensor: ...

    @abstractmethod
    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Last feature map to logits, or to the vector the classifier reads (``pre_logits``)."""

    @abstractmethod
    def reset_classifier(self, num_classes: int) -> None:
        """Replace the classifier for ``num_classes`` classes; 0 leaves pre-logits features."""

    @abstractmethod
    def get_classifier(self) -> nn.Module:
        """The layer that maps pre-logits to class scores."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    def training_loss(
        self, x: torch.Tensor, target: torch.Tensor, criterion: Criterion
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The loss a training step minimises, and the logits it was computed from.

        One place for what a paper adds to the plain criterion, so every trainer (the engine,
        DDP, the experiments, the training-memory probe) trains the network the same way."""
        logits = self(x)
        return criterion(logits, target), logits

    def training_only(self) -> list[str]:
        """Names of the submodules only training runs (auxiliary classifiers): inference
        drops them, so the network's counts leave them out and report them apart."""
        return []

    def num_params(self, norm: bool = True, training: bool = False) -> int:
        """Trainable parameters of the network as inference runs it, as papers count them
        (fixed codes and BN statistics are buffers); ``training=True`` adds the modules only
        training runs; ``norm=False`` leaves out normalisation layers' scale and shift, as
        some papers' counts do."""
        skip = set()
        if not norm:
            norms = (nn.BatchNorm2d, nn.GroupNorm, nn.LayerNorm)
            skip = {id(p) for m in self.modules() if isinstance(m, norms) for p in m.parameters()}
        if not training:
            for name in self.training_only():
                skip |= {id(p) for p in self.get_submodule(name).parameters()}
        return sum(p.numel() for p in self.parameters() if p.requires_grad and id(p) not in skip)


class TrainingStep(nn.Module):
    """A zoo model and a criterion as one module whose ``forward(x, target)`` returns
    ``model.training_loss``: what DistributedDataParallel and ``torch.compile`` wrap, since
    DDP synchronises only the gradients of a forward it runs itself (auxiliary heads too)."""

    def __init__(self, model: ZooModel, criterion: Criterion) -> None:
        super().__init__()
        self.model = model
        self.criterion = criterion

    def forward(self, x: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.model.training_loss(x, target, self.criterion)


def on_meta(model: nn.Module) -> bool:
    """Built on the meta device: shapes only, so initialisation has nothing to fill in (and
    skipping it makes ResNet-1202 build in a tenth of the time)."""
    return next(model.parameters()).is_meta


def he_init(model: nn.Module) -> None:
    """He et al. (2015, "Delving deep into rectifiers") for convolutions, as the ResNet papers
    use; batch norms start as the identity."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def linear_or_identity(in_features: int, num_classes: int) -> nn.Module:
    """A classifier layer, or nothing when ``num_classes`` is 0 (features only)."""
    return nn.Linear(in_features, num_classes) if num_classes > 0 else nn.Identity()


class FeatureNet(nn.Module):
    """A model that returns each stage's feature map instead of logits (timm's features_only).

    ``feature_info`` lists, for each returned map, its channels and its stride from the input.
    """

    def __init__(self, model: ZooModel, out_indices: Sequence[int] | None = None) -> None:
        super().__init__()
        if not model.feature_info:
            raise ConfigError(f"{model.model_name or type(model).__name__} lists no feature stages")
        n = len(model.feature_info)
        indices = list(range(n)) if out_indices is None else list(out_indices)
        bad = [i for i in indices if not -n <= i < n]
        if bad:
            raise ConfigError(
                f"out_indices {bad} out of range: the model has {n} stages (0..{n - 1})"
            )
        model.reset_classifier(0)
        self.model = model
        self.feature_info = [model.feature_info[i] for i in indices]
        self._modules_by_name = dict(model.named_modules())

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        captured: dict[str, torch.Tensor] = {}
        handles = []
        for info in self.feature_info:
            module = self._modules_by_name[info.module]

            def hook(_m: nn.Module, _i: object, out: torch.Tensor, key: str = info.module) -> None:
                captured[key] = out

            handles.append(module.register_forward_hook(hook))
        try:
            self.model.forward_features(x)
        finally:
            for handle in handles:
                handle.remove()
        return [captured[info.module] for info in self.feature_info]


class ConvFCNet(ZooModel):
    """Convolutions, then fully-connected layers: the torchvision layout of AlexNet and VGG
    (``features`` → ``avgpool`` → ``classifier``), whose last classifier layer makes the logits.

    The adaptive pooling is the identity at the paper's input size; it lets other sizes through,
    as torchvision's builds do.
    """

    def __init__(
        self,
        features: nn.Sequential,
        classifier: nn.Sequential,
        pool_size: int,
        num_classes: int,
        in_chans: int,
        feature_info: list[FeatureInfo],
    ) -> None:
        super().__init__(num_classes, in_chans)
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((pool_size, pool_size))
        self.classifier = classifier
        self.feature_info = feature_info

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = torch.flatten(self.avgpool(x), 1)
        return self.classifier[:-1](x) if pre_logits else self.classifier(x)

    def get_classifier(self) -> nn.Module:
        return self.classifier[-1]

    def reset_classifier(self, num_classes: int) -> None:
        hidden = next(m for m in reversed(self.classifier[:-1]) if isinstance(m, nn.Linear))
        self.num_classes = num_classes
        self.classifier[-1] = linear_or_identity(hidden.out_features, num_classes).to(
            hidden.weight.device
        )


def pooling_stages(features: nn.Sequential, in_chans: int) -> list[FeatureInfo]:
    """Stages of a plain conv stack: the input of each max pooling (the last map at that
    resolution), then the stack's output; with the channels and the stride so far."""
    stages: list[FeatureInfo] = []
    channels, stride, previous = in_chans, 1, ""
    for name, module in features.named_children():
        if isinstance(module, nn.MaxPool2d) and previous:
            stages.append(FeatureInfo(f"features.{previous}", channels, stride))
        if isinstance(module, nn.Conv2d):
            channels = module.out_channels
        if isinstance(module, nn.Conv2d | nn.MaxPool2d):
            step = module.stride
            stride *= step if isinstance(step, int) else step[0]
        previous = name
    stages.append(FeatureInfo(f"features.{previous}", channels, stride))
    return stages


def fc_head(
    in_features: int,
    hidden: int,
    num_classes: int,
    dropout: float,
    named: bool,
    dropout_first: bool = False,
) -> nn.Sequential:
    """Two hidden fully-connected layers with ReLU and dropout, then the classifier.

    ``named`` gives the papers' layer names (fc6, relu6, drop6, ...); otherwise the layers are
    numbered as in torchvision. ``dropout_first`` puts dropout before each hidden layer
    (torchvision's AlexNet) rather than after its ReLU (the papers, torchvision's VGG).
    ``hidden`` is 4096 in every paper that uses this head; the builders take a smaller one
    (``hidden=``) for small data sets and quick checks.
    """
    if hidden < 1:
        raise ConfigError(f"hidden: the width of fc6 and fc7 must be >= 1, got {hidden}")
    layers: list[tuple[str, nn.Module]] = []
    width = in_features
    for i in (6, 7):
        drop = (f"drop{i}", nn.Dropout(dropout))
        if dropout_first:
            layers.append(drop)
        layers += [(f"fc{i}", nn.Linear(width, hidden)), (f"relu{i}", nn.ReLU(inplace=True))]
        if not dropout_first:
            layers.append(drop)
        width = hidden
    layers.append(("fc8", linear_or_identity(hidden, num_classes)))
    if named:
        return nn.Sequential(OrderedDict(layers))
    return nn.Sequential(*(module for _, module in layers))


class LinearHeadNet(ZooModel):
    """Networks whose classifier is one linear layer reading ``num_features`` values, under
    the attribute ``classifier_attr`` ("fc" in torchvision's ResNet and GoogLeNet,
    "classifier" in its DenseNet), so parameter keys stay torchvision's."""

    classifier_attr = "fc"
    num_features: int

    def get_classifier(self) -> nn.Module:
        classifier: nn.Module = getattr(self, self.classifier_attr)
        return classifier

    def reset_classifier(self, num_classes: int) -> None:
        self.num_classes = num_classes
        device = next(self.parameters()).device
        setattr(
            self,
            self.classifier_attr,
            linear_or_identity(self.num_features, num_classes).to(device),
        )


class PooledLinearNet(LinearHeadNet):
    """Networks that end in global average pooling, dropout (identity where the paper has
    none) and one linear classifier: NiN's idea, kept by GoogLeNet, ResNet and DenseNet.
    Subclasses set ``avgpool``, ``dropout``, ``num_features`` and the classifier."""

    avgpool: nn.Module
    dropout: nn.Module

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.dropout(torch.flatten(self.avgpool(x), 1))  # (B, num_features)
        return x if pre_logits else self.get_classifier()(x)
