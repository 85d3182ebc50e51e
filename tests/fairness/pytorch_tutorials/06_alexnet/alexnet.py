"""PyTorch tutorials / torchvision style (torchvision's `models/alexnet.py` and `vgg.py`, the transfer-learning
and fine-tuning tutorials), with the notes' layer plan.

Idioms reproduced: `features` / `avgpool` / `classifier` as in torchvision, including its
`nn.AdaptiveAvgPool2d((6, 6))` (an identity for the 224 to 227 pixel inputs this network takes), with
`torch.flatten(x, 1)` before the classifier; `nn.ReLU(inplace=True)`; torchvision's `_initialize_weights`
loop over `self.modules()` with `isinstance`, `if m.bias is not None` and `nn.init.constant_(m.bias, 0)`;
the feature sizes from the `nn.Conv2d` / `nn.MaxPool2d` documentation's shape formula (with dilation,
`math.floor`), driven by a config list of layers; `replace_classifier` in the fine-tuning tutorial's way
(`num_ftrs = old.in_features`, a new `nn.Linear(num_ftrs, num_classes)`), built directly on the old layer's
device and dtype with factory keyword arguments and put in place with `model.get_submodule`, after the
tutorial's `set_parameter_requires_grad(model, feature_extracting=True)` has frozen every other parameter.
"""

import math

import torch
import torch.nn as nn


class AlexNet(nn.Module):
    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 96, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(96, 256, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(256, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
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

    def _initialize_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.constant_(m.bias, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        x = self.classifier(x)
        return x


# AlexNet's feature extractor as a config: ("C", out_channels, kernel_size, stride, padding) or ("M",) for a
# max-pool of kernel 3, stride 2; "|" closes a stage.
CFG = [("C", 96, 11, 4, 2), ("M",), "|", ("C", 256, 5, 1, 2), ("M",), "|", ("C", 384, 3, 1, 1), "|",
       ("C", 384, 3, 1, 1), "|", ("C", 256, 3, 1, 1), ("M",), "|"]


def _out(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """H_out of nn.Conv2d and nn.MaxPool2d, as their documentation writes it."""
    return math.floor((size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1)


def alexnet_feature_shapes(input_size: int = 224) -> list[tuple[int, int, int]]:
    shapes = []
    size, channels = input_size, 3
    for layer in CFG:
        if layer == "|":
            shapes.append((channels, size, size))
        elif layer[0] == "C":
            _, channels, kernel_size, stride, padding = layer
            size = _out(size, kernel_size, stride, padding)
        else:
            size = _out(size, kernel_size=3, stride=2)
    return shapes


class SmallAlexNet(nn.Module):
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 48, kernel_size=5, stride=4),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=2),
            nn.Conv2d(48, 128, kernel_size=3),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=2),
            nn.Conv2d(128, 192, kernel_size=3),
            nn.ReLU(inplace=True),
            nn.Conv2d(192, 192, kernel_size=3),
            nn.ReLU(inplace=True),
            nn.Conv2d(192, 128, kernel_size=3),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=2),
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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = torch.flatten(x, 1)
        x = self.classifier(x)
        return x


def set_parameter_requires_grad(model: nn.Module, feature_extracting: bool) -> None:
    if feature_extracting:
        for param in model.parameters():
            param.requires_grad = False


def replace_classifier(model: nn.Module, num_classes: int) -> nn.Module:
    set_parameter_requires_grad(model, True)  # feature extraction: only the new layer will be trained
    name, old = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear)][-1]
    parent_name, _, child_name = name.rpartition(".")
    num_ftrs = old.in_features
    new = nn.Linear(num_ftrs, num_classes, bias=old.bias is not None,
                    device=old.weight.device, dtype=old.weight.dtype)
    setattr(model.get_submodule(parent_name), child_name, new)
    return model
