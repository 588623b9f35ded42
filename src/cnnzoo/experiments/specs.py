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
from cnnzoo.models.lenet import PAPER as LENET
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
# 0.02 trains every seed. channels_last (NHWC) trains ConvNet-4 1.3-1.5x faster on two CPU
# cores without changing what is compared; the quick scales measured before it was added keep
# the default memory format, so that their README figures stand as measured.
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


def _normalisations(pixel_std: float) -> tuple[Arm, ...]:
    """No normalisation, AlexNet's LRN, LRN at the paper's input scale, and batch norm.

    AlexNet's α = 1e-4 was set for pixels 0-255 less the mean; on standardised inputs every
    activation is ``pixel_std`` (the data set's pixel spread in 0-255 units) times smaller at
    the same weights, and α·Σa² with it by its square: α·pixel_std² keeps the response term
    the paper's size."""
    return _arms(
        ("none", "convnet4", {}),
        ("LRN", "convnet4", {"norm": "lrn"}),
        (
            "LRN, alpha scaled",
            "convnet4",
            {"norm": "lrn", "lrn_alpha": round(1e-4 * pixel_std**2, 2)},
        ),
        ("batch norm", "convnet4", {"norm": "bn"}),
    )


# The pixels' standard deviation in 0-255 units, as channel_stats measures it on the training
# set: Fashion-MNIST 90.0; CIFAR-10 64.0, the root mean square of its channels' 0.2470, 0.2435
# and 0.2616 (x 255).
FASHION_PIXEL_STD, CIFAR_PIXEL_STD = 90.0, 64.0
# VGG trained its deep nets from shallower ones' weights, then found Glorot's initialisation
# does as well (§3.1): every arm starts from it. Batch norm is today's way to let the
# twice-as-deep stack train in a few epochs, so both kinds are compared.
STACKINGS = _arms(
    ("5x5", "convnet4", {"init": "glorot"}),
    ("2 x 3x3", "convnet4", {"stack": True, "init": "glorot"}),
    ("5x5, BN", "convnet4", {"norm": "bn", "init": "glorot"}),
    ("2 x 3x3, BN", "convnet4", {"stack": True, "norm": "bn", "init": "glorot"}),
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
# Twenty layers without batch norm, three activations (the notes' argument is about the chain
# rule alone); then plain against residual at three depths, with batch norm as the paper has.
GRADIENT_ARMS = _arms(
    ("sigmoid, no BN", "plain20", {"act": "sigmoid", "batch_norm": False}),
    ("tanh, no BN", "plain20", {"act": "tanh", "batch_norm": False}),
    ("ReLU, no BN", "plain20", {"batch_norm": False}),
    *(
        (f"{kind}-{depth}", f"{kind}{depth}", {})
        for depth in (20, 56, 110)
        for kind in ("plain", "resnet")
    ),
)
# A short run at one constant rate: the trained gradients are those of a network that has
# started to learn, not of one that has converged. The clip binds only where the gradient
# explodes at initialisation (its global norm on 64 images: plain-56 1,030, plain-110 3.7
# million, against resnet-110's 24): unclipped, plain-110's first step leaves it NaN.
GRADIENT_RUN = dict(
    PLAIN_SGD, batch_size=64, lr=0.02, schedule="constant", warmup_epochs=0.0, clip_grad=50.0
)
CNN_AND_MLP = _arms(
    ("LeNet-5", "lenet5_modern", {}),
    ("MLP 78 (LeNet-5's budget)", "mlp", {"hidden": [78]}),
    ("MLP 300-100", "mlp", {}),
)
CIFAR_IMAGE = (3, 32, 32)
DEPTH_LIMIT = (
    Arm("resnet-110", "resnet110", train=False, input_size=CIFAR_IMAGE),
    Arm("resnet-1202", "resnet1202", train=False, input_size=CIFAR_IMAGE),
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
                seeds=3,
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
                dict(
                    QUICK_CONVNET,
                    channels_last=True,
                    epochs=8,
                    train_subset=6000,
                    test_subset=3000,
                    eval_train=True,
                ),
                seeds=5,
                arms=_arms(
                    ("3x3/2 (overlapping)", "convnet4", {"pool": 3, "hidden": [256]}),
                    ("2x2/2", "convnet4", {"pool": 2, "hidden": [256]}),
                ),
                note="ConvNet-4 with one hidden fully-connected layer, not AlexNet on ImageNet; "
                "8 epochs on 6,000 images, 5 seeds, for a difference the paper puts at 0.4 "
                "points: the medium scale's 60,000 images are for telling it from the seeds' "
                "spread",
            ),
            medium=Scale(
                "fashion-mnist",
                dict(QUICK_CONVNET, channels_last=True, epochs=10, eval_train=True),
                seeds=5,
                arms=_arms(
                    ("3x3/2 (overlapping)", "convnet4", {"pool": 3, "hidden": [256]}),
                    ("2x2/2", "convnet4", {"pool": 2, "hidden": [256]}),
                ),
                note="all 60,000 training images for 10 epochs, 5 seeds: the paper's difference "
                "is 0.4 points, within the quick scale's seed-to-seed spread; about 35 minutes "
                "on two CPU cores",
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
                    "LRN with α scaled to the standardised inputs lowers the test error",
                    "test_error",
                    "LRN, alpha scaled",
                    "none",
                    "13% -> 11% (AlexNet §3.3), with α = 1e-4 on pixels 0-255 less the mean; "
                    "here α·s² for the pixels' spread s in those units (Fashion-MNIST 90: "
                    "α = 0.81; CIFAR-10 64: 0.41), the response term the paper's size",
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
                dict(
                    QUICK_CONVNET,
                    channels_last=True,
                    epochs=6,
                    train_subset=5000,
                    test_subset=2000,
                ),
                seeds=3,
                arms=_normalisations(FASHION_PIXEL_STD),
                note="ConvNet-4 for 6 epochs on 5,000 images, 3 seeds, at one learning rate for "
                "all four, where the paper tuned LRN's constants on a validation set for its "
                "net. The inputs are standardised, so AlexNet's α = 1e-4 leaves the response "
                "term near 1e-4 of k = 2 and LRN acts as a constant scale of 2^-0.75 (its "
                "denominator within 0.3% of 2^0.75 on the test images, before and after "
                "training); the paper's pixels were 0-255 less the mean, 90 times larger on "
                "Fashion-MNIST, where the same α normalises: the arm 'LRN, alpha scaled' "
                "gives it α·90² = 0.81",
            ),
            medium=Scale(
                "fashion-mnist",
                dict(QUICK_CONVNET, channels_last=True, epochs=10, train_subset=30000),
                seeds=3,
                arms=_normalisations(FASHION_PIXEL_STD),
                note="30,000 training images for 10 epochs, 3 seeds, where the quick scale's 6 "
                "epochs leave the LRN net behind because it learns slower; about 35 minutes "
                "on two CPU cores",
            ),
            full=Scale(
                "cifar10",
                dict(QUICK_CONVNET, fit="auto", epochs=60),
                seeds=3,
                arms=(
                    *_normalisations(CIFAR_PIXEL_STD),
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
                    batch_size=32,
                    epochs=30,
                    train_subset=1000,
                    test_subset=2000,
                    eval_train=True,
                ),
                seeds=3,
                arms=_arms(
                    ("no dropout", "convnet4", {"hidden": [512, 512]}),
                    ("dropout 0.5", "convnet4", {"hidden": [512, 512], "dropout": 0.5}),
                ),
                note="1,000 training images for 30 epochs (940 steps of 32) and no weight "
                "decay, so that the network over-fits within minutes; 3 seeds",
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
                dict(QUICK_CONVNET, epochs=6, train_subset=4000, test_subset=3000),
                seeds=3,
                arms=STACKINGS,
                note="ConvNet-4's three 5x5 layers against pairs of 3x3, not VGG on ImageNet; "
                "6 epochs on 4,000 images, 3 seeds; Glorot's initialisation for every arm (VGG "
                "§3.1), without which one seed of the twice-as-deep stack without batch norm "
                "fell far behind (22.88 ± 5.85%, 2 seeds); with it the stack still trains "
                "slower than 6 epochs allow, which --scale medium's 10 epochs on 30,000 "
                "images is for",
            ),
            medium=Scale(
                "fashion-mnist",
                dict(QUICK_CONVNET, channels_last=True, epochs=10, train_subset=30000),
                seeds=3,
                arms=STACKINGS,
                note="30,000 training images for 10 epochs, 3 seeds: time for the "
                "twice-as-deep stack without batch norm to catch up; about 25 minutes on two CPU "
                "cores",
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
                    "a bottleneck ResNet with as many blocks gives a lower test error than a "
                    "basic one",
                    "test_error",
                    "bottleneck (29 layers)",
                    "basic (20 layers)",
                    "ResNet-50 vs 34: 22.85% vs 24.52% top-1 (Table 3, 10-crop)",
                ),
            ),
            quick=Scale(
                "fashion-mnist",
                dict(QUICK_RESNET, epochs=4, train_subset=4000, test_subset=2000),
                seeds=3,
                arms=BOTTLENECKS,
                note="the ImageNet networks are measured at 224x224 without training; the CIFAR "
                "ResNets train 4 epochs on 4,000 Fashion-MNIST images, 3 seeds, where the "
                "paper's ResNet-50 against ResNet-34 trained 600,000 iterations on ImageNet",
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
                dict(QUICK_RESNET, epochs=4, train_subset=2000, test_subset=1000),
                seeds=3,
                arms=PLAIN_AND_RESIDUAL,
                note="4 epochs on 2,000 images (64 steps), 3 seeds, where the paper trains 64k "
                "iterations on 50,000: the training error shows plain-56 falling behind from "
                "the first steps, as Fig. 6 does, but the test error of resnet-56 needs far "
                "longer to pass resnet-20's (--scale medium)",
            ),
            medium=Scale(
                "fashion-mnist",
                dict(QUICK_RESNET, epochs=20),
                seeds=3,
                arms=PLAIN_AND_RESIDUAL,
                note="all 60,000 training images for 20 epochs (9,400 steps of the paper's 64k), "
                "3 seeds: minutes a run on a GPU, about a day on two CPU cores",
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
                dict(QUICK_RESNET, batch_size=64, epochs=3, train_subset=1500, test_subset=1000),
                seeds=3,
                arms=DEPTHS,
                note="3 epochs on 1,500 images (72 steps of 64), 3 seeds, the most that fits "
                "three resnet-110 runs in 10 minutes on two CPU cores: far too short for a "
                "deeper ResNet to pass a shallower one, which takes the paper 64k iterations; "
                "these claims need --scale medium (a GPU's minutes) or the full scale",
            ),
            medium=Scale(
                "fashion-mnist",
                dict(QUICK_RESNET, epochs=20),
                seeds=3,
                arms=DEPTHS,
                note="all 60,000 training images for 20 epochs, 3 seeds: minutes a run on a "
                "GPU, more than a day on two CPU cores (resnet-110 trains about 50 images a "
                "second there)",
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
                dict(
                    QUICK_RESNET,
                    batch_size=64,
                    epochs=3,
                    train_subset=2500,
                    test_subset=1500,
                    lr=0.1,
                ),
                seeds=3,
                arms=_arms(
                    ("k=12", "densenet40_k12", {"depth": 16, "growth_rate": 12}),
                    ("k=24", "densenet40_k12", {"depth": 16, "growth_rate": 24}),
                ),
                note="DenseNet of 16 layers (3 blocks of 4) instead of 40 or 100, 3 epochs on "
                "2,500 images in the paper's batches of 64 (117 steps), 3 seeds of the two "
                "growth rates the claims compare",
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
                    QUICK_CONVNET, epochs=10, train_subset=4000, test_subset=3000, eval_train=True
                ),
                seeds=3,
                arms=_augmentations(crop_padding=2),
                note="grey images: PCA lighting has one component, a brightness shift; "
                "Fashion-MNIST's items are centred in every test image, so random crops teach "
                "a variation the test never shows (on the speed route 2-pixel crops cost 0.9 "
                "points), and 10 epochs on 4,000 images over-fit too little for augmentation to "
                "pay: --scale medium trains 30 epochs",
            ),
            medium=Scale(
                "fashion-mnist",
                dict(
                    QUICK_CONVNET,
                    channels_last=True,
                    epochs=30,
                    train_subset=10000,
                    eval_train=True,
                ),
                seeds=3,
                arms=_augmentations(crop_padding=2),
                note="10,000 training images for 30 epochs, 3 seeds, long enough to over-fit "
                "without augmentation; Fashion-MNIST's items are centred in the test images "
                "too, so random crops may cost more than they give (they did on the speed "
                "route); about 15 minutes on two CPU cores",
            ),
            full=Scale(
                "cifar10",
                dict(FULL_CONVNET, crop_padding=0, flip=False, eval_train=True),
                seeds=3,
                arms=_augmentations(crop_padding=4),
            ),
        ),
        Experiment(
            name="gradient-flow",
            title="Gradients through depth: sigmoid, tanh, ReLU; plain and residual",
            paper=RESNET,
            source="§3.2 eq. (1)-(2), §4.1 'healthy norms'; the notes' chain-rule argument",
            question="How much weaker (or stronger) is the gradient at a network's first layer "
            "than at its last, with each activation, and with and without shortcuts?",
            metrics=("grad_decades_init", "grad_decades_trained", "train_error", "train_time_s"),
            claims=(
                Claim(
                    "ReLU's gradient reaches the first layer nearer the last's strength than "
                    "sigmoid's (20 layers, no batch norm, at initialisation)",
                    "grad_decades_init",
                    "ReLU, no BN",
                    "sigmoid, no BN",
                    "the notes: sigmoid's slope is at most 1/4, so each layer shrinks the "
                    "gradient at least 4x; ReLU's is 1 (no figure)",
                ),
                Claim(
                    "tanh's gradient reaches the first layer nearer the last's than sigmoid's",
                    "grad_decades_init",
                    "tanh, no BN",
                    "sigmoid, no BN",
                    "the notes: tanh's slope is at most 1, sigmoid's at most 1/4 (no figure)",
                ),
                *(
                    Claim(
                        f"resnet-{depth}'s gradients span fewer decades than plain-{depth}'s, "
                        "at initialisation",
                        "grad_decades_init",
                        f"resnet-{depth}",
                        f"plain-{depth}",
                        "x_L = x_l + Σ F(x_i): the gradient reaches every layer through a path "
                        "of gradient 1 (He et al. 2016, 'Identity mappings', eq. 5; no figure)",
                    )
                    for depth in (20, 56, 110)
                ),
                Claim(
                    "resnet-110's gradients span fewer decades than plain-110's, trained",
                    "grad_decades_trained",
                    "resnet-110",
                    "plain-110",
                    "§4.1 says plain nets with BN 'exhibit healthy norms' (ImageNet plain-34; "
                    "no figure), so their degradation is not vanishing gradients",
                ),
            ),
            quick=Scale(
                "fashion-mnist",
                dict(GRADIENT_RUN, epochs=1, train_subset=1280, test_subset=500),
                seeds=3,
                arms=GRADIENT_ARMS,
                note="the gradient of one fixed batch of 64 training images, at initialisation "
                "and after 20 steps of training (the global gradient norm clipped at 50, which "
                "binds only for the plain nets that explode); He initialisation for every "
                "activation, as the ResNet builder has it, and Fashion-MNIST at 28x28; 20 "
                "steps are a probe, not training: a net still at chance after them is not a "
                "failed run",
                judge_learning=False,
            ),
            full=Scale(
                "cifar10",
                dict(GRADIENT_RUN, epochs=1, batch_size=128),
                seeds=3,
                arms=GRADIENT_ARMS,
                note="trained gradients after one epoch of CIFAR-10 (390 steps), a probe: a net "
                "still at chance after it is not a failed run",
                judge_learning=False,
            ),
        ),
        Experiment(
            name="cnn-vs-mlp",
            title="Convolutions against a fully-connected net on pixels (LeCun et al. 1998)",
            paper=LENET,
            source="§II.A, §III.C, Fig. 9; the handwritten note on CNN against MLP",
            question="With the same parameter budget, does a convolutional network beat a "
            "fully-connected one on flattened pixels, and which loses more when the test "
            "images move a few pixels?",
            metrics=("test_error", "shift_error", "shift_rise", "params", "train_time_s"),
            claims=(
                Claim(
                    "LeNet-5 gives a lower test error than an MLP of the same budget",
                    "test_error",
                    "LeNet-5",
                    "MLP 78 (LeNet-5's budget)",
                    "MNIST: LeNet-5 0.95% (Fig. 9); no MLP of its size is reported",
                ),
                Claim(
                    "LeNet-5 gives a lower test error than the paper's 300-100 MLP",
                    "test_error",
                    "LeNet-5",
                    "MLP 300-100",
                    "MNIST: 0.95% vs 3.05% for the 3-layer NN, 300+100 hidden units (Fig. 9)",
                ),
                Claim(
                    "the 300-100 MLP needs several times LeNet-5's parameters",
                    "params",
                    "LeNet-5",
                    "MLP 300-100",
                    "the note: an MLP has many more parameters (no figure); 60,000 for "
                    "LeNet-5 (§II.B)",
                    ratio=True,
                ),
                Claim(
                    "shifted test images cost LeNet-5 fewer points than the MLP of its budget",
                    "shift_rise",
                    "LeNet-5",
                    "MLP 78 (LeNet-5's budget)",
                    "§II.A: weight sharing and subsampling give 'some degree of shift ... "
                    "invariance'; the note: flattening loses the spatial information",
                ),
                Claim(
                    "shifted test images cost LeNet-5 fewer points than the 300-100 MLP",
                    "shift_rise",
                    "LeNet-5",
                    "MLP 300-100",
                    "(as above; no figure)",
                ),
            ),
            quick=Scale(
                "fashion-mnist",
                dict(QUICK_CONVNET, fit="auto", lr=0.05, epochs=8),
                seeds=3,
                arms=CNN_AND_MLP,
                note="Fashion-MNIST (all 60,000 training images, 8 epochs), not MNIST; "
                "LeNet-5 as courses build it (ReLU, max pooling, a softmax output) so that "
                "both nets train on the same loss and recipe; the test images shift on their "
                "28x28 field, before LeNet-5's padding",
            ),
            full=Scale(
                "mnist",
                dict(QUICK_CONVNET, fit="auto", lr=0.05, epochs=20),
                seeds=5,
                arms=CNN_AND_MLP,
                note="MNIST, the paper's data, with one recipe for all three nets",
            ),
        ),
        Experiment(
            name="depth-limit",
            title="Beyond a thousand layers: ResNet-1202 (ResNet, §4.2, Table 6)",
            paper=RESNET,
            source="§4.2 'Exploring over 1000 layers', Table 6",
            question="Does a residual network of 1202 layers still train, and does it test "
            "better or worse than one of 110?",
            metrics=("test_error", "train_error", "params", "macs", "train_time_s"),
            claims=(
                Claim(
                    "resnet-1202 has a higher test error than resnet-110 (it over-fits)",
                    "test_error",
                    "resnet-110",
                    "resnet-1202",
                    "7.93% vs 6.43% (best of 5; 6.61±0.16) on CIFAR-10 (Table 6)",
                ),
                Claim(
                    "resnet-1202 costs several times resnet-110's parameters",
                    "params",
                    "resnet-110",
                    "resnet-1202",
                    "19.4M vs 1.7M (Table 6)",
                    ratio=True,
                ),
            ),
            quick=Scale(
                "fashion-mnist",
                {},
                seeds=1,
                arms=DEPTH_LIMIT,
                note="counted, not trained: the over-fitting claim needs the paper's 64k "
                "iterations on CIFAR-10, and one training step of 128 images through "
                "resnet-1202 takes about 20 s on two CPU cores (64k of them: two weeks); "
                "`--full` on a GPU trains both",
            ),
            full=Scale(
                "cifar10",
                {},
                seeds=3,
                recipe="resnet-cifar",
                arms=_arms(("resnet-110", "resnet110", {}), ("resnet-1202", "resnet1202", {})),
                note="the paper reports one run of resnet-1202 and the best of five of "
                "resnet-110; three seeds each here",
            ),
        ),
    ]
}
