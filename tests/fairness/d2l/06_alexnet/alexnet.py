"""d2l-zh style (the book's AlexNet chapter, with the notes' layer plan and initialisation).

Idioms reproduced: both networks are `nn.Sequential` subclasses built from one flat list of layers with
`nn.Flatten()` inside (no `features`/`classifier` attributes, no `forward` of their own); local response
normalisation written out as a small layer that loops over the output channels and fills a `torch.zeros`
buffer, the way the book's `corr2d` loops over output pixels (float32 buffer, PyTorch's alpha/n convention);
the initialisation as a `init_weights(m)` function passed to `net.apply`, testing `type(m) == nn.Conv2d`,
drawing with `m.weight.data.normal_(0, std)` (He's std `sqrt(2 / fan_out)` computed by hand) and
`m.bias.data.fill_(0)`; the book's size formula `floor((n - k + p + s) / s)` with `p` the padding of both
sides together; `replace_classifier` as in the book's fine-tuning section (a fresh `nn.Linear` with the old
`in_features`, then `nn.init.xavier_uniform_` on its weight), reaching the parent with `getattr` along the
dotted name.
"""

import math

import torch
from torch import nn


class LRN(nn.Module):
    """b[c] = a[c] / (k + alpha / n * sum of a[c']^2 over the n channels around c) ** beta."""

    def __init__(self, size=5, alpha=1e-4, beta=0.75, k=2.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, X):
        c, half = X.shape[1], self.size // 2
        Y = torch.zeros(X.shape, device=X.device)
        for i in range(c):
            window = X[:, max(0, i - half): min(c, i + half + 1)]
            Y[:, i] = X[:, i] / (self.k + self.alpha / self.size * (window ** 2).sum(dim=1)) ** self.beta
        return Y


def init_weights(m):
    """The notes' scheme: He normal (fan_out) for convolutions, N(0, 0.01^2) for Linear layers, biases 0."""
    if type(m) == nn.Conv2d:
        fan_out = m.out_channels * m.kernel_size[0] * m.kernel_size[1]
        m.weight.data.normal_(0, math.sqrt(2 / fan_out))
        m.bias.data.fill_(0)
    elif type(m) == nn.Linear:
        m.weight.data.normal_(0, 0.01)
        m.bias.data.fill_(0)


class AlexNet(nn.Sequential):
    """The notes' AlexNet for 3x224x224 images, as one nn.Sequential."""

    def __init__(self, num_classes=1000):
        super().__init__(
            nn.Conv2d(3, 96, kernel_size=11, stride=4, padding=2), nn.ReLU(),
            LRN(), nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(96, 256, kernel_size=5, padding=2), nn.ReLU(),
            LRN(), nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(256, 384, kernel_size=3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 384, kernel_size=3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Flatten(),
            nn.Dropout(p=0.5), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(),
            nn.Dropout(p=0.5), nn.Linear(4096, 4096), nn.ReLU(),
            nn.Linear(4096, num_classes))
        self._initialize_weights()

    def _initialize_weights(self):
        self.apply(init_weights)


def out_size(n, k, p=0, s=1):
    """The book's output size: floor((n - k + p + s) / s), p the padding of both sides together."""
    return (n - k + p + s) // s


# (out_channels, kernel, stride, padding on each side, pooled) of AlexNet's five conv stages.
STAGES = [(96, 11, 4, 2, True), (256, 5, 1, 2, True), (384, 3, 1, 1, False), (384, 3, 1, 1, False),
          (256, 3, 1, 1, True)]


def alexnet_feature_shapes(input_size=224):
    """(C, H, W) after each conv stage (conv, ReLU, LRN, max-pool 3 stride 2 where the stage has them)."""
    shapes, n = [], input_size
    for c, k, s, p, pooled in STAGES:
        n = out_size(n, k, 2 * p, s)
        if pooled:
            n = out_size(n, 3, 0, 2)
        shapes.append((c, n, n))
    return shapes


class SmallAlexNet(nn.Sequential):
    """The homework's AlexNet, with ReLU after every conv and hidden Linear, dropout before the hidden Linears."""

    def __init__(self, num_classes=10):
        super().__init__(
            nn.Conv2d(3, 48, kernel_size=5, stride=4), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(48, 128, kernel_size=3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(128, 192, kernel_size=3), nn.ReLU(),
            nn.Conv2d(192, 192, kernel_size=3), nn.ReLU(),
            nn.Conv2d(192, 128, kernel_size=3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Dropout(p=0.5), nn.Linear(128 * 3 * 3, 2048), nn.ReLU(),
            nn.Dropout(p=0.5), nn.Linear(2048, 1024), nn.ReLU(),
            nn.Linear(1024, num_classes))


def replace_classifier(model, num_classes):
    """Put a fresh nn.Linear(in_features, num_classes) where the model's last nn.Linear was."""
    name = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)][-1]
    *path, last = name.split('.')
    parent = model
    for p in path:
        parent = getattr(parent, p)
    old = getattr(parent, last)
    new = nn.Linear(old.in_features, num_classes, bias=old.bias is not None).to(old.weight.device)
    nn.init.xavier_uniform_(new.weight)
    setattr(parent, last, new)
    return model
