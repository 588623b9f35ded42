"""The papers' claims, one experiment each.

Quick scales run on Fashion-MNIST on two CPU cores in a few minutes: a slice of the training
set, few epochs, small networks of the same design. Full scales follow the papers' setups on
CIFAR-10 (where the paper used it) and are meant for a GPU. Every number a paper reports is
quoted with where it is printed.
"""

from __future__ import annotations

from typing import Any

from cnnzoo.experiments.spec import Arm, Claim, Experiment, Scale
from cnnzoo.models import Paper
from cnnzoo.models.alexnet import PAPER as ALEXNET
from cnnzoo.models.densenet import PAPER as DENSENET
from cnnzoo.models.googlenet import PAPER as GOOGLENET
from cnnzoo.models.resnet import PAPER as RESNET
from cnnzoo.models.vgg import PAPER as VGG

__all__ = ["EXPERIMENTS"]

BATCHNORM = Paper(
    title="Batch Normalization: Accelerating Deep Network Training by Reducing Internal "
    "Covariate Shift",
    authors="S. Ioffe, C. Szegedy",
    year=2015,
    url="https://arxiv.org/abs/1502.03167",
)

# Shared settings. ConvNet-4 reads Fashion-MNIST padded to its 32x32 field; no augmentation or
# label smoothing unless the experiment is about them, so each arm differs in one thing only.
# Without batch norm, one seed in three of ConvNet-4 collapsed to chance at a peak rate of 0.05;
# 0.02 trains every seed.
PLAIN_SGD = dict(
    optimizer="sgd",
    momentum=0.9,
    nesterov=False,
    weight_decay=0.0,
    label_smoothing=0.0,
    crop_padding=0,
    flip=False,
    no_decay_norm=False,
)
QUICK_CONVNET = dict(
    PLAIN_SGD,
    batch_size=128,
    lr=0.02,
    schedule="onecycle",
    warmup_epochs=1.0,
    weight_decay=5e-4,
    fit="pad",
)
FULL_CONVNET = dict(QUICK_CONVNET, fit="auto", epochs=60, crop_padding=4, flip=True)
QUICK_RESNET = dict(
    PLAIN_SGD,
    batch_size=128,
    lr=0.05,
    schedule="onecycle",
    warmup_epochs=1.0,
    weight_decay=5e-4,
    crop_padding=2,
    flip=True,
)
CIFAR = "CIFAR-10, the paper's data"
FASHION = "Fashion-MNIST slice, CPU-sized"


def _arms(*arms: tuple[str, str, dict[str, Any]]) -> tuple[Arm, ...]:
    return tuple(Arm(label, model, args) for label, model, args in arms)


def _augmentations(crop_padding: int) -> tuple[Arm, ...]:
    """AlexNet §4.1's two forms, added one after the other to the same network."""
    crops = {"crop_padding": crop_padding, "flip": True}
    return (
        Arm("none", "convnet4", {"hidden": [256]}),
        Arm("crops + flips", "convnet4", {"hidden": [256]}, crops),
        Arm("crops + flips + lighting", "convnet4", {"hidden": [256]}, {**crops, "lighting": 0.1}),
    )


# The arms that quick and full scales share.
ACTIVATIONS = _arms(("ReLU", "convnet4", {"act": "relu"}), ("tanh", "convnet4", {"act": "tanh"}))
NORMALISATIONS = _arms(
    ("none", "convnet4", {}),
    ("LRN", "convnet4", {"norm": "lrn"}),
    ("batch norm", "convnet4", {"norm": "bn"}),
)
# VGG trained its deep nets from shallower ones' weights; batch norm is today's way to let the
# twice-as-deep stack train in a few epochs, so both kinds are compared.
STACKINGS = _arms(
    ("5x5", "convnet4", {}),
    ("2 x 3x3", "convnet4", {"stack": True}),
    ("5x5, BN", "convnet4", {"norm": "bn"}),
    ("2 x 3x3, BN", "convnet4", {"stack": True, "norm": "bn"}),
)
IMAGENET = (3, 224, 224)
BOTTLENECKS = (  # the ImageNet networks are counted, not trained
    Arm("GoogLeNet", "googlenet", train=False, input_size=IMAGENET),
    Arm(
        "GoogLeNet, naive modules",
        "googlenet",
        {"reductions": False},
        train=False,
        input_size=IMAGENET,
    ),
    Arm("ResNet-34 (basic)", "resnet34", train=False, input_size=IMAGENET),
    Arm("ResNet-50 (bottleneck)", "resnet50", train=False, input_size=IMAGENET),
    *_arms(
        ("basic (20 layers)", "resnet20", {}),
        ("bottleneck (29 layers)", "resnet20", {"block": "bottleneck"}),
    ),
)
PLAIN_AND_RESIDUAL = _arms(
    ("plain-20", "plain20", {}),
    ("plain-56", "plain56", {}),
    ("resnet-20", "resnet20", {}),
    ("resnet-56", "resnet56", {}),
)
DEPTHS = _arms(
    ("resnet-20", "resnet20", {}), ("resnet-56", "resnet56", {}), ("resnet-110", "resnet110", {})
)

EXPERIMENTS: dict[str, Experiment] = {
    e.name: e
    for e in [
        Experiment(
            name="relu-vs-tanh",
            title="ReLU against tanh (AlexNet, Fig. 1)",
            paper=ALEXNET,
            source="§3.1, Fig. 1",
            question="How many epochs does the same four-layer network need to reach a training "
            "error with ReLU units, and with tanh units?",
            metrics=("epochs_to_target", "train_error", "test_error", "train_time_s"),
            claims=(
                Claim(
                    "ReLU reaches the target training error in fewer epochs than tanh",
                    "epochs_to_target",
                    "ReLU",
                    "tanh",
                    "6x (25% training error on CIFAR-10, Fig. 1)",
                    ratio=True,
                ),
            ),
            quick=Scale(
                "fashion-mnist",
                dict(
                    QUICK_CONVNET,
                    schedule="constant",
                    lr=0.01,
                    warmup_epochs=0.0,
                    weight_decay=0.0,
                    epochs=15,
                    train_subset=5000,
                    test_subset=2000,
                ),
                seeds=2,
                arms=ACTIVATIONS,
                target_error=12.0,
                note="Fashion-MNIST is easier than CIFAR-10, so the target is 12% training error "
                "rather than 25%; one learning rate (0.01) for both where the paper tuned each; "
                "no regularisation, as in the paper",
            ),
            full=Scale(
                "cifar10",
                dict(PLAIN_SGD, batch_size=128, lr=0.01, schedule="constant", epochs=40),
                seeds=3,
                arms=ACTIVATIONS,
                target_error=25.0,
                note="one learning rate for both where the paper tuned each",
            ),
        ),
        Experiment(
            name="overlapping-pooling",
            title="Overlapping pooling (AlexNet, §3.4)",
            paper=ALEXNET,
            source="§3.4",
            question="Does 3x3 max pooling with stride 2 beat 2x2 with stride 2 in the same "
            "network?",
            metrics=("test_error", "fitted_error", "gap", "params"),
            claims=(
                Claim(
                    "overlapping 3x3/2 pooling gives a lower test error than 2x2/2",
                    "test_error",
                    "3x3/2 (overlapping)",
                    "2x2/2",
                    "0.4 points top-1, 0.3 top-5 (ImageNet)",
                ),
                Claim(
                    "overlapping pooling over-fits less (smaller train/test gap)",
                    "gap",
                    "3x3/2 (overlapping)",
                    "2x2/2",
                    "'slightly more difficult to overfit' (no figure)",
                ),
            ),
            quick=Scale(
                "fashion-mnist",
                dict(QUICK_CONVNET, epochs=6, train_subset=8000, test_subset=5000, eval_train=True),
                seeds=3,
                arms=_arms(
                    ("3x3/2 (overlapping)", "convnet4", {"pool": 3, "hidden": [256]}),
                    ("2x2/2", "convnet4", {"pool": 2, "hidden": [256]}),
                ),
                note="ConvNet-4 with one hidden fully-connected layer, not AlexNet on ImageNet",
            ),
            full=Scale(
                "cifar10",
                dict(FULL_CONVNET, eval_train=True),
                seeds=5,
                arms=_arms(
                    ("3x3/2 (overlapping)", "convnet4", {"pool": 3, "hidden": [256]}),
                    ("2x2/2", "convnet4", {"pool": 2, "hidden": [256]}),
                ),
                note="ConvNet-4 on CIFAR-10, not AlexNet on ImageNet",
            ),
        ),
        Experiment(
            name="normalization",
            title="Local response normalisation against batch norm (AlexNet §3.3, VGG Table 3)",
            paper=ALEXNET,
            source="AlexNet §3.3; VGG §4.1 Table 3; Ioffe & Szegedy 2015",
            question="Does LRN lower the error of a four-layer network, and how does batch "
            "normalisation compare?",
            metrics=("test_error", "train_error", "train_time_s"),
            claims=(
                Claim(
                    "LRN lowers the test error of a four-layer CNN",
                    "test_error",
                    "LRN",
                    "none",
                    "13% -> 11% on CIFAR-10 (AlexNet §3.3, for cuda-convnet's "
                    "layers-conv-local-13pct/11pct, a net with locally-connected layers, not "
                    "this one); VGG-A: 29.6% vs 29.7% top-1 with LRN, 'does not improve' "
                    "(VGG Table 3)",
                ),
                Claim(
                    "batch normalisation lowers the test error more than LRN",
                    "test_error",
                    "batch norm",
                    "LRN",
                    f"BN replaced LRN and trained Inception 14x faster ({BATCHNORM.authors} "
                    f"{BATCHNORM.year}, §4.2)",
                ),
            ),
            quick=Scale(
                "fashion-mnist",
                dict(QUICK_CONVNET, epochs=5, train_subset=6000, test_subset=5000),
                seeds=2,
                arms=NORMALISATIONS,
                note="ConvNet-4 for 5 epochs at one learning rate for all three, where the paper "
                "tuned LRN's constants on a validation set for its net",
            ),
            full=Scale(
                "cifar10",
                dict(QUICK_CONVNET, fit="auto", epochs=60),
                seeds=3,
                arms=(
                    *NORMALISATIONS,
                    Arm("VGG-A", "vgg11", {}, {"lr": 0.01}),
                    Arm("VGG-A-LRN", "vgg11_lrn", {}, {"lr": 0.01}),
                ),
                note="VGG-A and A-LRN at CIFAR-10's 32x32, not ImageNet's 224x224",
            ),
        ),
        Experiment(
            name="dropout",
            title="Dropout against over-fitting (AlexNet §4.2)",
            paper=ALEXNET,
            source="§4.2",
            question="How far apart are training and test error with and without dropout in "
            "the fully-connected layers?",
            metrics=("gap", "test_error", "fitted_error", "train_error"),
            claims=(
                Claim(
                    "dropout narrows the gap between training and test error",
                    "gap",
                    "dropout 0.5",
                    "no dropout",
                    "'Without dropout, our network exhibits substantial overfitting' (no figure)",
                ),
                Claim(
                    "dropout slows fitting of the training set",
                    "train_error",
                    "no dropout",
                    "dropout 0.5",
                    "'roughly doubles the number of iterations required to converge'",
                ),
            ),
            quick=Scale(
                "fashion-mnist",
                dict(
                    QUICK_CONVNET,
                    weight_decay=0.0,
                    epochs=15,
                    train_subset=3000,
                    test_subset=5000,
                    eval_train=True,
                ),
                seeds=2,
                arms=_arms(
                    ("no dropout", "convnet4", {"hidden": [512, 512]}),
                    ("dropout 0.5", "convnet4", {"hidden": [512, 512], "dropout": 0.5}),
                ),
                note="3,000 training images and no weight decay, so the network can over-fit",
            ),
            full=Scale(
                "cifar10",
                dict(FULL_CONVNET, crop_padding=0, flip=False, eval_train=True),
                seeds=3,
                arms=_arms(
                    ("no dropout", "convnet4", {"hidden": [1024, 1024]}),
                    ("dropout 0.5", "convnet4", {"hidden": [1024, 1024], "dropout": 0.5}),
                ),
            ),
        ),
        Experiment(
            name="kernel-stacking",
            title="Stacked 3x3 against one 5x5 convolution (VGG §2.3)",
            paper=VGG,
            source="§2.3, §4.1",
            question="With the same receptive field, are stacked 3x3 layers (more "
            "non-linearities, fewer weights per layer) better than one 5x5 layer?",
            metrics=("test_error", "params", "macs", "train_time_s"),
            claims=(
                Claim(
                    "stacked 3x3 layers give a lower test error than single 5x5 layers",
                    "test_error",
                    "2 x 3x3",
                    "5x5",
                    "a net with 5x5 in place of B's 3x3 pairs: 7 points higher top-1 (§4.1)",
                ),
                Claim(
                    "with batch norm, stacked 3x3 layers give a lower test error than 5x5",
                    "test_error",
                    "2 x 3x3, BN",
                    "5x5, BN",
                    "(VGG had no batch norm; the same 7 points, §4.1)",
                ),
            ),
            quick=Scale(
                "fashion-mnist",
                dict(QUICK_CONVNET, epochs=6, train_subset=8000, test_subset=5000),
                seeds=2,
                arms=STACKINGS,
                note="ConvNet-4's three 5x5 layers against pairs of 3x3, not VGG on ImageNet; "
                "6 epochs, in which the twice-as-deep stack without batch norm trains slower",
            ),
            full=Scale(
                "cifar10",
                FULL_CONVNET,
                seeds=3,
                arms=(
                    *STACKINGS,
                    *_arms(
                        ("7x7", "convnet4", {"kernel": 7}),
                        ("3 x 3x3", "convnet4", {"kernel": 7, "stack": True}),
                    ),
                ),
            ),
        ),
        Experiment(
            name="bottleneck",
            title="1x1 bottlenecks cut the cost (GoogLeNet Fig. 2, ResNet Fig. 5)",
            paper=GOOGLENET,
            source="GoogLeNet §4, Fig. 2; ResNet §4.1, Fig. 5, Table 1",
            question="What do 1x1 reductions save, and what does a bottleneck block cost "
            "against a basic block?",
            metrics=("params", "macs", "test_error", "train_time_s"),
            claims=(
                Claim(
                    "1x1 reductions make GoogLeNet several times cheaper than naive inception",
                    "macs",
                    "GoogLeNet",
                    "GoogLeNet, naive modules",
                    "'even a modest number of 5x5 convolutions can be prohibitively expensive' "
                    "(§4; no figure)",
                    ratio=True,
                ),
                Claim(
                    "ResNet-50's bottlenecks keep ResNet-34's cost with 16 more layers",
                    "macs",
                    "ResNet-34 (basic)",
                    "ResNet-50 (bottleneck)",
                    "3.6 vs 3.8 GFLOPs (Table 1)",
                    ratio=True,
                ),
                Claim(
                    "a bottleneck ResNet of the same blocks is as accurate at the same cost",
                    "test_error",
                    "bottleneck (29 layers)",
                    "basic (20 layers)",
                    "ResNet-50 vs 34: 22.85% vs 24.52% top-1 (Table 3, 10-crop)",
                ),
            ),
            quick=Scale(
                "fashion-mnist",
                dict(QUICK_RESNET, epochs=4, train_subset=4000, test_subset=5000),
                seeds=2,
                arms=BOTTLENECKS,
                note="the ImageNet networks are measured at 224x224 without training; the CIFAR "
                "ResNets train on a Fashion-MNIST slice",
            ),
            full=Scale(
                "cifar10",
                {},
                seeds=3,
                recipe="resnet-cifar",
                arms=BOTTLENECKS,
            ),
        ),
        Experiment(
            name="degradation",
            title="The degradation problem (ResNet, Fig. 1 and Fig. 6)",
            paper=RESNET,
            source="§4.2, Fig. 6",
            question="Does a deeper plain network train worse than a shallower one, and does "
            "the residual version of the same depth train better?",
            metrics=("train_error", "test_error", "params", "train_time_s"),
            claims=(
                Claim(
                    "plain-56 has a higher training error than plain-20",
                    "train_error",
                    "plain-20",
                    "plain-56",
                    "higher training error throughout training (Fig. 6 left)",
                ),
                Claim(
                    "resnet-56 has a lower training error than plain-56",
                    "train_error",
                    "resnet-56",
                    "plain-56",
                    "Fig. 6 left vs middle",
                ),
                Claim(
                    "resnet-56 has a lower test error than resnet-20",
                    "test_error",
                    "resnet-56",
                    "resnet-20",
                    "6.97% vs 8.75% (Table 6)",
                ),
            ),
            quick=Scale(
                "fashion-mnist",
                dict(QUICK_RESNET, epochs=5, train_subset=3000, test_subset=5000),
                seeds=1,
                arms=PLAIN_AND_RESIDUAL,
                note="5 epochs on 3,000 images where the paper trains 64k iterations on 50,000: "
                "enough for plain-56 to fall behind, too short for resnet-56 to pass resnet-20",
            ),
            full=Scale(
                "cifar10",
                {},
                seeds=3,
                recipe="resnet-cifar",
                arms=PLAIN_AND_RESIDUAL,
            ),
        ),
        Experiment(
            name="depth",
            title="Deeper residual networks (ResNet, Table 6)",
            paper=RESNET,
            source="§4.2, Table 6",
            question="Does the test error keep falling from 20 to 110 layers, and at 1202?",
            metrics=("test_error", "train_error", "params", "macs", "train_time_s"),
            claims=(
                Claim(
                    "resnet-56 beats resnet-20",
                    "test_error",
                    "resnet-56",
                    "resnet-20",
                    "6.97% vs 8.75% (Table 6)",
                ),
                Claim(
                    "resnet-110 beats resnet-56",
                    "test_error",
                    "resnet-110",
                    "resnet-56",
                    "6.43% (best of 5; 6.61±0.16) vs 6.97% (Table 6)",
                ),
            ),
            quick=Scale(
                "fashion-mnist",
                dict(QUICK_RESNET, epochs=4, train_subset=3000, test_subset=5000),
                seeds=1,
                arms=DEPTHS,
                note="4 epochs on 3,000 images: a deeper ResNet needs more steps than that to "
                "pass a shallower one; the full scale trains the paper's 164 epochs",
            ),
            full=Scale(
                "cifar10",
                {},
                seeds=5,
                recipe="resnet-cifar",
                arms=(*DEPTHS, Arm("resnet-1202", "resnet1202")),
                note="the paper reports 7.93% for ResNet-1202 (worse than 110, over-fitting)",
            ),
        ),
        Experiment(
            name="growth-rate",
            title="DenseNet's growth rate sets its cost (DenseNet, Table 2)",
            paper=DENSENET,
            source="§3 'Growth rate', Table 2",
            question="How do parameters, cost and error change with the growth rate k?",
            metrics=("params", "macs", "test_error", "train_time_s"),
            claims=(
                Claim(
                    "k=24 costs more than k=12",
                    "macs",
                    "k=12",
                    "k=24",
                    "L=100: 7.0M -> 27.2M parameters (Table 2)",
                    ratio=True,
                ),
                Claim(
                    "k=24 gives a lower test error than k=12",
                    "test_error",
                    "k=24",
                    "k=12",
                    "L=100: 4.10% -> 3.74% on C10+ (Table 2)",
                ),
            ),
            quick=Scale(
                "fashion-mnist",
                dict(QUICK_RESNET, epochs=3, train_subset=3000, test_subset=5000, lr=0.1),
                seeds=1,
                arms=_arms(
                    ("k=6", "densenet40_k12", {"depth": 16, "growth_rate": 6}),
                    ("k=12", "densenet40_k12", {"depth": 16, "growth_rate": 12}),
                    ("k=24", "densenet40_k12", {"depth": 16, "growth_rate": 24}),
                ),
                note="DenseNet of 16 layers (3 blocks of 4) instead of 40 or 100",
            ),
            full=Scale(
                "cifar10",
                {},
                seeds=3,
                recipe="densenet",
                arms=_arms(
                    ("k=12", "densenet40_k12", {}), ("k=24", "densenet40_k12", {"growth_rate": 24})
                ),
                note="L=40; the paper's L=100 k=24 (27.2M) is the same spec with depth=100",
            ),
        ),
        Experiment(
            name="augmentation",
            title="Data augmentation (AlexNet §4.1)",
            paper=ALEXNET,
            source="§4.1",
            question="What do random crops and flips, and then PCA colour lighting, do to the "
            "test error and the over-fitting?",
            metrics=("test_error", "gap", "fitted_error"),
            claims=(
                Claim(
                    "crops and flips lower the test error",
                    "test_error",
                    "crops + flips",
                    "none",
                    "'Without this scheme, our network suffers from substantial overfitting'",
                ),
                Claim(
                    "crops and flips narrow the train/test gap",
                    "gap",
                    "crops + flips",
                    "none",
                    "(no figure)",
                ),
                Claim(
                    "PCA lighting lowers the test error further",
                    "test_error",
                    "crops + flips + lighting",
                    "crops + flips",
                    "over 1 point top-1 (§4.1)",
                ),
            ),
            quick=Scale(
                "fashion-mnist",
                dict(
                    QUICK_CONVNET, epochs=10, train_subset=4000, test_subset=5000, eval_train=True
                ),
                seeds=2,
                arms=_augmentations(crop_padding=2),
                note="grey images: PCA lighting has one component, a brightness shift",
            ),
            full=Scale(
                "cifar10",
                dict(FULL_CONVNET, crop_padding=0, flip=False, eval_train=True),
                seeds=3,
                arms=_augmentations(crop_padding=4),
            ),
        ),
    ]
}
