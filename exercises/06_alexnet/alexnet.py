"""06_alexnet: the notes' 2012 AlexNet, its size arithmetic, the homework's small AlexNet, and fine-tuning.

Fill in every part marked TODO; `pytest exercises/06_alexnet` checks your work. See README.md.

The two classes build as they are (with no layers yet), so that this file imports; their forward() raises
until you write it. Replace the empty nn.Sequential placeholders in __init__ with the real layers.
"""

import torch  # noqa: F401
import torch.nn.functional as F  # noqa: F401
from torch import nn


class AlexNet(nn.Module):
    """The notes' AlexNet for 3x224x224 images: five conv stages (96-256-384-384-256 channels), then
    dropout, Linear 9216->4096, ReLU, dropout, Linear 4096->4096, ReLU, Linear 4096->num_classes.

    The layer table is in README.md. 62,378,344 parameters with 1000 classes.
    """

    def __init__(self, num_classes=1000):
        super().__init__()
        # TODO: Implement for 06_alexnet.
        # Build the five conv stages (conv, ReLU, LocalResponseNorm, overlapping MaxPool2d as in README.md)
        # and the classifier, then call self._initialize_weights(). The empty containers below only let the
        # untouched file build; replace them.
        self.features = nn.Sequential()
        self.classifier = nn.Sequential()

    def _initialize_weights(self):
        """The notes' initialisation, for every layer of the model (loop over self.modules()):

        nn.Conv2d: weight ~ He normal, nn.init.kaiming_normal_(mode="fan_out", nonlinearity="relu"),
                   i.e. N(0, 2 / (out_channels * kernel_height * kernel_width)); bias = 0.
        nn.Linear: weight ~ N(0, 0.01**2) (standard deviation 0.01); bias = 0.
        """
        # TODO: Implement for 06_alexnet.
        raise NotImplementedError("06_alexnet: implement AlexNet._initialize_weights")

    def forward(self, x):
        """x (N, 3, 224, 224) -> logits (N, num_classes): the conv stages, flatten to (N, 9216), the classifier.

        No softmax at the end: nn.CrossEntropyLoss applies it.
        """
        # TODO: Implement for 06_alexnet.
        raise NotImplementedError("06_alexnet: implement AlexNet.forward")


def alexnet_feature_shapes(input_size=224):
    """The (C, H, W) after each of AlexNet's five conv stages, for an input_size x input_size image.

    A list of five tuples of ints; for 224: [(96, 27, 27), (256, 13, 13), (384, 13, 13), (384, 13, 13),
    (256, 6, 6)]. A stage ends after its ReLU, its LRN and its max-pool where it has them. Compute the sizes
    with the formula from 05 (floor((size + 2*padding - kernel_size) / stride) + 1, for convolutions and
    max-pools alike); do not run the network. You may add a small helper function for the formula.
    """
    # TODO: Implement for 06_alexnet.
    raise NotImplementedError("06_alexnet: implement alexnet_feature_shapes")


class SmallAlexNet(nn.Module):
    """The homework's AlexNet for 3x224x224 images: 48-128-192-192-128 channels, Linear 1152->2048->1024->
    num_classes, with ReLU after every conv and hidden Linear and dropout before the hidden Linears.

    The layer table is in README.md. 5,303,498 parameters with 10 classes.
    """

    def __init__(self, num_classes=10):
        super().__init__()
        # TODO: Implement for 06_alexnet.
        # Build the layers from README.md; keep PyTorch's default initialisation. Replace the placeholders.
        self.features = nn.Sequential()
        self.classifier = nn.Sequential()

    def forward(self, x):
        """x (N, 3, 224, 224) -> logits (N, num_classes)."""
        # TODO: Implement for 06_alexnet.
        raise NotImplementedError("06_alexnet: implement SmallAlexNet.forward")


def replace_classifier(model, num_classes):
    """Adapt a classification model (e.g. torchvision's vgg16, alexnet, resnet18) to num_classes classes.

    Replace the model's last nn.Linear with a new nn.Linear(same in_features, num_classes) (with a bias if
    the old one had one), on the same device as the old one. Change the model in place and return it; every
    other layer and parameter stays as it was (the same objects, the same values).
    """
    # TODO: Implement for 06_alexnet.
    raise NotImplementedError("06_alexnet: implement replace_classifier")
