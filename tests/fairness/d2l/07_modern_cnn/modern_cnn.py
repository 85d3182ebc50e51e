"""d2l-zh style (the book's GoogLeNet and ResNet sections), on the notes' layers.

Idioms reproduced: the branches named `p1` to `p4` and joined with `torch.cat((p1, p2, p3, p4), dim=1)`
(a tuple, as the book writes it); the pool branch's pooling kept as a layer of its own,
`self.p4_1 = nn.AvgPool2d(kernel_size=3, stride=1, padding=1)`, beside the given convolutions (the book's
`p4_1`, average instead of its max since the notes average); capital `X` / `Y` names; the residual sum
written in place, `Y += X`, before the last `F.relu(Y)` as in the book's `Residual`; flattening with
`X.reshape(X.shape[0], -1)`.
"""

import torch
from torch import nn
from torch.nn import functional as F


class InceptionA(nn.Module):
    """Four paths over the same input, joined on the channel dim: 16 + 24 + 24 + 24 = 88 channels."""

    def __init__(self, in_channels):
        super().__init__()
        self.branch1x1 = nn.Conv2d(in_channels, 16, kernel_size=1)

        self.branch5x5_1 = nn.Conv2d(in_channels, 16, kernel_size=1)
        self.branch5x5_2 = nn.Conv2d(16, 24, kernel_size=5, padding=2)

        self.branch3x3_1 = nn.Conv2d(in_channels, 16, kernel_size=1)
        self.branch3x3_2 = nn.Conv2d(16, 24, kernel_size=3, padding=1)
        self.branch3x3_3 = nn.Conv2d(24, 24, kernel_size=3, padding=1)

        self.p4_1 = nn.AvgPool2d(kernel_size=3, stride=1, padding=1)
        self.branch_pool = nn.Conv2d(in_channels, 24, kernel_size=1)

    def forward(self, X):
        p1 = self.branch1x1(X)
        p2 = self.branch5x5_2(self.branch5x5_1(X))
        p3 = self.branch3x3_3(self.branch3x3_2(self.branch3x3_1(X)))
        p4 = self.branch_pool(self.p4_1(X))
        return torch.cat((p1, p2, p3, p4), dim=1)


class InceptionNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.inception1 = InceptionA(in_channels=10)
        self.conv2 = nn.Conv2d(88, 20, kernel_size=5)
        self.inception2 = InceptionA(in_channels=20)
        self.pooling = nn.MaxPool2d(2)
        self.fc = nn.Linear(1408, 10)

    def forward(self, X):
        X = F.relu(self.pooling(self.conv1(X)))
        X = self.inception1(X)
        X = F.relu(self.pooling(self.conv2(X)))
        X = self.inception2(X)
        return self.fc(X.reshape(X.shape[0], -1))


class ResidualBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.channels = channels
        self.conv1 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)

    def forward(self, X):
        Y = F.relu(self.conv1(X))
        Y = self.conv2(Y)
        Y += X
        return F.relu(Y)


class ResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, kernel_size=5)
        self.block1 = ResidualBlock(16)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=5)
        self.block2 = ResidualBlock(32)
        self.pooling = nn.MaxPool2d(2)
        self.fc = nn.Linear(512, 10)

    def forward(self, X):
        X = self.block1(self.pooling(F.relu(self.conv1(X))))
        X = self.block2(self.pooling(F.relu(self.conv2(X))))
        return self.fc(X.reshape(X.shape[0], -1))
