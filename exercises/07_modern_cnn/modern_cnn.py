"""07_modern_cnn: GoogLeNet's Inception block and ResNet's residual block, as in the notes.

The layers are built for you in every __init__; write the forward() methods marked TODO.
`pytest exercises/07_modern_cnn` checks your work. See README.md.
"""

import torch  # noqa: F401
import torch.nn.functional as F  # noqa: F401
from torch import nn


class InceptionA(nn.Module):
    """Four parallel branches over the same input, concatenated on the channel dim (dim 1):

        branch1x1:  1x1 conv -> 16 channels
        branch5x5:  1x1 conv -> 16, then 5x5 conv (padding 2) -> 24 channels
        branch3x3:  1x1 conv -> 16, then 3x3 conv (padding 1) -> 24, then 3x3 conv (padding 1) -> 24 channels
        branch_pool: F.avg_pool2d(kernel_size=3, stride=1, padding=1), then 1x1 conv -> 24 channels

    Output (N, 16 + 24 + 24 + 24 = 88, H, W), in that order, with the input's H and W. No activations inside.
    """

    def __init__(self, in_channels):
        super().__init__()
        self.branch1x1 = nn.Conv2d(in_channels, 16, kernel_size=1)

        self.branch5x5_1 = nn.Conv2d(in_channels, 16, kernel_size=1)
        self.branch5x5_2 = nn.Conv2d(16, 24, kernel_size=5, padding=2)

        self.branch3x3_1 = nn.Conv2d(in_channels, 16, kernel_size=1)
        self.branch3x3_2 = nn.Conv2d(16, 24, kernel_size=3, padding=1)
        self.branch3x3_3 = nn.Conv2d(24, 24, kernel_size=3, padding=1)

        self.branch_pool = nn.Conv2d(in_channels, 24, kernel_size=1)

    def forward(self, x):
        """x (N, in_channels, H, W) -> cat([branch1x1, branch5x5, branch3x3, branch_pool], dim=1): (N, 88, H, W)."""
        # TODO: Implement for 07_modern_cnn.
        raise NotImplementedError("07_modern_cnn: implement InceptionA.forward")


class InceptionNet(nn.Module):
    """conv 1->10 k5, maxpool 2, relu, InceptionA(10), conv 88->20 k5, maxpool 2, relu, InceptionA(20), fc 1408->10."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.inception1 = InceptionA(in_channels=10)
        self.conv2 = nn.Conv2d(88, 20, kernel_size=5)
        self.inception2 = InceptionA(in_channels=20)
        self.pooling = nn.MaxPool2d(2)
        self.fc = nn.Linear(1408, 10)

    def forward(self, x):
        """x (N, 1, 28, 28) -> logits (N, 10); 1408 = 88 channels * 4 * 4."""
        # TODO: Implement for 07_modern_cnn.
        raise NotImplementedError("07_modern_cnn: implement InceptionNet.forward")


class ResidualBlock(nn.Module):
    """y = relu(x + conv2(relu(conv1(x)))), both convolutions 3x3 with padding 1, so y has x's shape."""

    def __init__(self, channels):
        super().__init__()
        self.channels = channels
        self.conv1 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)

    def forward(self, x):
        """x (N, channels, H, W) -> relu(x + conv2(relu(conv1(x)))), same shape."""
        # TODO: Implement for 07_modern_cnn.
        raise NotImplementedError("07_modern_cnn: implement ResidualBlock.forward")


class ResNet(nn.Module):
    """conv 1->16 k5, relu, maxpool 2, block(16), conv 16->32 k5, relu, maxpool 2, block(32), fc 512->10."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, kernel_size=5)
        self.block1 = ResidualBlock(16)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=5)
        self.block2 = ResidualBlock(32)
        self.pooling = nn.MaxPool2d(2)
        self.fc = nn.Linear(512, 10)

    def forward(self, x):
        """x (N, 1, 28, 28) -> logits (N, 10); 512 = 32 channels * 4 * 4."""
        # TODO: Implement for 07_modern_cnn.
        raise NotImplementedError("07_modern_cnn: implement ResNet.forward")
