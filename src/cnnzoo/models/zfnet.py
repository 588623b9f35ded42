"""ZFNet (Zeiler & Fergus 2013): AlexNet revised by looking at what its layers learn.

Fig. 3: 224x224x3 → conv1 7x7/2 110x110x96 → pool 55x55x96 → conv2 5x5/2 26x26x256 → pool
13x13x256 → conv3 13x13x384 → conv4 13x13x384 → conv5 13x13x256 → pool 6x6x256 → 4096 → 4096.
The paper gives sizes, not paddings: padding 1 on conv1 and Caffe's ceil-mode pooling reproduce
them (``(224 - 7 + 2·1)/2 + 1 = 110.5`` floors to 110, ``(110 - 3)/2 + 1 = 54.5`` ceils to 55).
"""

from __future__ import annotations

from cnnzoo.models._base import ConvFCNet, fc_head, pooling_stages
from cnnzoo.models._registry import Paper, register_model, reported
from cnnzoo.models.alexnet import ConvLayer, init_gaussian, make_features

__all__ = ["zfnet"]

PAPER = Paper(
    title="Visualizing and Understanding Convolutional Networks",
    authors="M. D. Zeiler, R. Fergus",
    year=2013,
    url="https://arxiv.org/abs/1311.2901",
)

# Fig. 3. The 7x7/2 first layer (AlexNet: 11x11/4) and the 2-strided conv2 keep more
# mid-frequency information (§4.1); layers 3-5 are dense, not split across GPUs. Each of the
# first two layers is followed by ReLU, 3x3/2 max pooling and contrast normalisation across maps.
LAYERS = (
    ConvLayer(96, 7, stride=2, padding=1, after=("pool", "lrn")),
    ConvLayer(256, 5, stride=2, after=("pool", "lrn")),
    ConvLayer(384, 3, padding=1),
    ConvLayer(384, 3, padding=1),
    ConvLayer(256, 3, padding=1, after=("pool",)),
)


@register_model(
    family="ZFNet",
    paper=PAPER,
    input_size=(3, 224, 224),
    min_input_size=47,
    top5_error=reported("14.8%", "Table 2: ILSVRC-2012 test, 6 convnets (one convnet: 16.5% val)"),
    assumptions=(
        "conv1 padding 1 and ceil-mode pooling, which the paper does not give: inferred to "
        "reproduce Fig. 3's map sizes (110, 55, 26, 13)",
        "the contrast normalisation's constants, which the paper does not give (§3: "
        "'contrast normalized across feature maps'): AlexNet's LRN, k=2, n=5, α=1e-4, β=0.75",
        "§3's 'all weights are initialized to 10^-2' read as N(0, 0.01²); biases 0",
    ),
)
def zfnet(
    num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5, hidden: int = 4096
) -> ConvFCNet:
    """ZFNet: 7x7/2 conv1, stride-2 conv2, dense conv3-5; AlexNet's LRN as the contrast norm."""
    features = make_features(LAYERS, in_chans, named=True, ceil_mode=True)
    classifier = fc_head(256 * 6 * 6, hidden, num_classes, dropout, named=True)
    model = ConvFCNet(
        features, classifier, 6, num_classes, in_chans, pooling_stages(features, in_chans)
    )
    init_gaussian(model, 0.01)  # §3: "All weights are initialized to 10^-2 and biases set to 0"
    return model
