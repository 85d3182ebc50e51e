"""Course-notes style (the notes' AlexNet section and the "搭建alexnet" homework).

Idioms reproduced: `super(AlexNet, self).__init__()`; the notes' `features` / `classifier` Sequentials with
one comment per conv stage and `nn.init.normal_(m.weight, 0, 0.01)` / `nn.init.constant_(m.bias, 0)` in
`_initialize_weights`; the homework's network as one `self.model = nn.Sequential(...)` ending in
`nn.Flatten()` and Linear layers, with `y = self.model(x); return y`; the feature sizes from the notes' table
formula `H_out = (H + 2*padding - kernel_size) / stride + 1`, "rounded down" with `int(...)`, one size per
line; `replace_classifier` as in Chinese fine-tuning notes: remember the name of the last `nn.Linear` in a
`for name, module in model.named_modules()` loop, walk `_modules[...]` down to its parent and assign the new
layer into `parent._modules[...]`, then `.to(device)`.
"""

import torch
import torch.nn as nn


class AlexNet(nn.Module):
    def __init__(self, num_classes=1000):
        super(AlexNet, self).__init__()
        self.features = nn.Sequential(
            # conv1: 3x224x224 -> 96x55x55 -> pool -> 96x27x27
            nn.Conv2d(3, 96, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.LocalResponseNorm(size=5, alpha=0.0001, beta=0.75, k=2.0),
            nn.MaxPool2d(kernel_size=3, stride=2),
            # conv2: -> 256x27x27 -> pool -> 256x13x13
            nn.Conv2d(96, 256, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.LocalResponseNorm(size=5, alpha=0.0001, beta=0.75, k=2.0),
            nn.MaxPool2d(kernel_size=3, stride=2),
            # conv3
            nn.Conv2d(256, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            # conv4
            nn.Conv2d(384, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            # conv5: -> 256x13x13 -> pool -> 256x6x6
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

    def forward(self, x):
        x = self.features(x)
        x = x.view(x.size(0), -1)  # 256*6*6 = 9216
        x = self.classifier(x)
        return x

    def _initialize_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.constant_(m.bias, 0)


def out_size(H, kernel_size, stride=1, padding=0):
    # H_out = (H + 2*padding - kernel_size) / stride + 1, rounded down
    return int((H + 2 * padding - kernel_size) / stride + 1)


def alexnet_feature_shapes(input_size=224):
    H = input_size
    H = out_size(out_size(H, 11, stride=4, padding=2), 3, stride=2)  # conv1 + pool
    shape1 = (96, H, H)
    H = out_size(out_size(H, 5, padding=2), 3, stride=2)  # conv2 + pool
    shape2 = (256, H, H)
    H = out_size(H, 3, padding=1)  # conv3
    shape3 = (384, H, H)
    H = out_size(H, 3, padding=1)  # conv4
    shape4 = (384, H, H)
    H = out_size(out_size(H, 3, padding=1), 3, stride=2)  # conv5 + pool
    shape5 = (256, H, H)
    return [shape1, shape2, shape3, shape4, shape5]


class SmallAlexNet(nn.Module):
    def __init__(self, num_classes=10):
        super(SmallAlexNet, self).__init__()
        self.model = nn.Sequential(
            nn.Conv2d(3, 48, kernel_size=5, stride=4),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2),
            nn.Conv2d(48, 128, kernel_size=3),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2),
            nn.Conv2d(128, 192, kernel_size=3),
            nn.ReLU(),
            nn.Conv2d(192, 192, kernel_size=3),
            nn.ReLU(),
            nn.Conv2d(192, 128, kernel_size=3),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2),
            nn.Flatten(),
            nn.Dropout(p=0.5),
            nn.Linear(128 * 3 * 3, 2048),
            nn.ReLU(),
            nn.Dropout(p=0.5),
            nn.Linear(2048, 1024),
            nn.ReLU(),
            nn.Linear(1024, num_classes),
        )

    def forward(self, x):
        y = self.model(x)
        return y


def replace_classifier(model, num_classes):
    last_name = None
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear):
            last_name = name
    names = last_name.split('.')
    parent = model
    for n in names[:-1]:
        parent = parent._modules[n]
    old = parent._modules[names[-1]]
    device = old.weight.device
    parent._modules[names[-1]] = nn.Linear(old.in_features, num_classes).to(device)
    return model
