"""06_alexnet: the 2012 AlexNet from the notes, its size arithmetic, the homework's small AlexNet, fine-tuning."""

import torch
from torch import nn


class AlexNet(nn.Module):
    """The notes' AlexNet for 3x224x224 images: five conv stages, then three fully connected layers."""

    def __init__(self, num_classes=1000):
        super().__init__()
        self.features = nn.Sequential(
            # Stage 1: big strided kernels, then LRN and an overlapping max-pool (kernel 3 > stride 2).
            nn.Conv2d(3, 96, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0),
            nn.MaxPool2d(kernel_size=3, stride=2),
            # Stage 2
            nn.Conv2d(96, 256, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0),
            nn.MaxPool2d(kernel_size=3, stride=2),
            # Stages 3 to 5: 3x3 convolutions that keep the 13x13 size, one pool at the end.
            nn.Conv2d(256, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.classifier = nn.Sequential(
            nn.Dropout(p=0.5),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=0.5),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )
        self._initialize_weights()

    def _initialize_weights(self):
        """The notes' scheme: He-normal (fan_out) conv weights, N(0, 0.01) linear weights, zero biases."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, mean=0.0, std=0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.features(x)  # (N, 256, 6, 6) for 224x224 input
        x = torch.flatten(x, 1)  # (N, 9216)
        return self.classifier(x)


def _size(size, kernel_size, stride=1, padding=0):
    """05's formula, for a convolution or a max-pool: floor((size + 2p - k) / s) + 1."""
    return (size + 2 * padding - kernel_size) // stride + 1


def alexnet_feature_shapes(input_size=224):
    """(C, H, W) after each of AlexNet's five conv stages for a square input_size x input_size image."""
    s = _size(_size(input_size, 11, stride=4, padding=2), 3, stride=2)  # conv1, pool
    shapes = [(96, s, s)]
    s = _size(_size(s, 5, padding=2), 3, stride=2)  # conv2, pool
    shapes.append((256, s, s))
    s = _size(s, 3, padding=1)  # conv3
    shapes.append((384, s, s))
    s = _size(s, 3, padding=1)  # conv4
    shapes.append((384, s, s))
    s = _size(_size(s, 3, padding=1), 3, stride=2)  # conv5, pool
    shapes.append((256, s, s))
    return shapes


class SmallAlexNet(nn.Module):
    """The homework's AlexNet for 224x224 images, with ReLU after every layer but the last, and dropout."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 48, kernel_size=5, stride=4),  # 55x55
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=2),  # 27x27
            nn.Conv2d(48, 128, kernel_size=3),  # 25x25
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=2),  # 12x12
            nn.Conv2d(128, 192, kernel_size=3),  # 10x10
            nn.ReLU(inplace=True),
            nn.Conv2d(192, 192, kernel_size=3),  # 8x8
            nn.ReLU(inplace=True),
            nn.Conv2d(192, 128, kernel_size=3),  # 6x6
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=2),  # 3x3
        )
        self.classifier = nn.Sequential(
            nn.Dropout(p=0.5),
            nn.Linear(128 * 3 * 3, 2048),
            nn.ReLU(inplace=True),
            nn.Dropout(p=0.5),
            nn.Linear(2048, 1024),
            nn.ReLU(inplace=True),
            nn.Linear(1024, num_classes),
        )

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def replace_classifier(model, num_classes):
    """Swap the model's last nn.Linear for a fresh one with num_classes outputs; return the same model."""
    name, last = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear)][-1]
    parent_name, _, attribute = name.rpartition(".")
    parent = model.get_submodule(parent_name)  # "" is the model itself
    new = nn.Linear(last.in_features, num_classes, bias=last.bias is not None)
    setattr(parent, attribute, new.to(last.weight.device))
    return model
