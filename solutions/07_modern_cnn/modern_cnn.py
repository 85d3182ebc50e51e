"""07_modern_cnn: GoogLeNet's Inception block and ResNet's residual block, as in the notes."""

import torch
import torch.nn.functional as F
from torch import nn


class InceptionA(nn.Module):
    """Four parallel branches, concatenated on the channel dim: 16 + 24 + 24 + 24 = 88 channels."""

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
        branch1x1 = self.branch1x1(x)
        branch5x5 = self.branch5x5_2(self.branch5x5_1(x))
        branch3x3 = self.branch3x3_3(self.branch3x3_2(self.branch3x3_1(x)))
        # Average over each 3x3 neighbourhood (stride 1, padding 1 keeps the size), then mix channels.
        branch_pool = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1))
        outputs = [branch1x1, branch5x5, branch3x3, branch_pool]
        return torch.cat(outputs, dim=1)  # (N, C, H, W): the channels are dim 1


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
        x = F.relu(self.pooling(self.conv1(x)))  # (N, 10, 12, 12)
        x = self.inception1(x)  # (N, 88, 12, 12)
        x = F.relu(self.pooling(self.conv2(x)))  # (N, 20, 4, 4)
        x = self.inception2(x)  # (N, 88, 4, 4)
        return self.fc(x.flatten(1))  # 88 * 4 * 4 = 1408 features -> 10 logits


class ResidualBlock(nn.Module):
    """relu(x + conv2(relu(conv1(x)))): two 3x3 convolutions that keep the shape, plus the input."""

    def __init__(self, channels):
        super().__init__()
        self.channels = channels
        self.conv1 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)

    def forward(self, x):
        y = F.relu(self.conv1(x))
        y = self.conv2(y)
        return F.relu(x + y)  # add the input first, then the activation


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
        x = self.pooling(F.relu(self.conv1(x)))  # (N, 16, 12, 12)
        x = self.block1(x)
        x = self.pooling(F.relu(self.conv2(x)))  # (N, 32, 4, 4)
        x = self.block2(x)
        return self.fc(x.flatten(1))  # 32 * 4 * 4 = 512 features -> 10 logits
