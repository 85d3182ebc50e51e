"""05_cnn: convolution and pooling by hand, and the notes' small CNN on digits.

Fill in every function marked TODO; `pytest exercises/05_cnn` checks your work. See README.md.
"""

import math  # noqa: F401  (you may need it)

import torch  # noqa: F401
import torch.nn.functional as F  # noqa: F401
from torch import nn


def conv2d_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    """Output length along one dimension of a convolution: floor((size + 2p - d(k-1) - 1) / s) + 1."""
    # TODO: Implement for 05_cnn.
    raise NotImplementedError("05_cnn: implement conv2d_output_size")


def pool2d_output_size(size, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Output length along one dimension of a pooling layer (stride defaults to kernel_size).

    With ceil_mode=True round up instead of down, but drop a last window that would start in the padding.
    """
    # TODO: Implement for 05_cnn.
    raise NotImplementedError("05_cnn: implement pool2d_output_size")


def conv2d(input, weight, bias=None, stride=1, padding=0):
    """Cross-correlation by hand: input (N, C_in, H, W), weight (C_out, C_in, kH, kW), bias (C_out,).

    Returns (N, C_out, H_out, W_out), in the input's dtype. Do not call F.conv2d or nn.Conv2d.
    """
    # TODO: Implement for 05_cnn.
    raise NotImplementedError("05_cnn: implement conv2d")


def max_pool2d(input, kernel_size, stride=None):
    """The largest value in each kernel_size x kernel_size window (stride defaults to kernel_size).

    Returns (N, C, H_out, W_out), in the input's dtype.
    """
    # TODO: Implement for 05_cnn.
    raise NotImplementedError("05_cnn: implement max_pool2d")


class SimpleCNN(nn.Module):
    """conv 1->10 k5, maxpool 2, relu, conv 10->20 k5, maxpool 2, relu, fc 320->10."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.pooling = nn.MaxPool2d(2)
        self.fc = nn.Linear(320, 10)

    def forward(self, x):
        """x (N, 1, 28, 28) -> logits (N, 10): no softmax, CrossEntropyLoss applies it."""
        # TODO: Implement for 05_cnn.
        raise NotImplementedError("05_cnn: implement SimpleCNN.forward")


def train(model, loader, epochs, lr):
    """Train with nn.CrossEntropyLoss and torch.optim.SGD(lr=lr, momentum=0.5); return the model."""
    # TODO: Implement for 05_cnn.
    raise NotImplementedError("05_cnn: implement train")
