"""PyTorch tutorials and pytorch/examples style (the "Training a classifier" tutorial, examples/mnist/main.py,
and the shape formulas of the `nn.Conv2d`/`nn.MaxPool2d` documentation).

Idioms reproduced: the documentation's `floor((H + 2*padding - dilation*(kernel_size - 1) - 1) / stride + 1)`
with `math.floor`/`math.ceil`; vectorised code instead of loops: `F.unfold` (im2col) and a matrix product
through `torch.einsum` for the convolution, `Tensor.as_strided` windows and `amax` for the pooling;
`x = self.pooling(F.relu(self.conv1(x)))` (the tutorial's order) and `torch.flatten(x, 1)`; and the
examples' training loop: `model.train()`, `for batch_idx, (data, target) in enumerate(train_loader)`,
`data, target = data.to(device), target.to(device)` with the device taken from the model,
`optimizer.zero_grad()` first, `F.log_softmax` followed by `F.nll_loss` (the same as cross-entropy on
logits), a `log_interval` keyword argument and the `Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}` print.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn


def conv2d_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    return math.floor((size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1)


def pool2d_output_size(size, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    stride = stride or kernel_size
    rounding = math.ceil if ceil_mode else math.floor
    out = rounding((size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1  # the last pooling window must start inside the input or the left padding
    return out


def conv2d(input, weight, bias=None, stride=1, padding=0):
    n, _, h, w = input.shape
    out_channels, _, kh, kw = weight.shape
    out_h = conv2d_output_size(h, kh, stride, padding)
    out_w = conv2d_output_size(w, kw, stride, padding)
    cols = F.unfold(input, (kh, kw), padding=padding, stride=stride)  # (N, C_in*kH*kW, out_h*out_w)
    out = torch.einsum("ok,nkl->nol", weight.reshape(out_channels, -1), cols)
    if bias is not None:
        out = out + bias[None, :, None]
    return out.reshape(n, out_channels, out_h, out_w)


def max_pool2d(input, kernel_size, stride=None):
    stride = stride or kernel_size
    x = input.contiguous()
    n, c, h, w = x.shape
    out_h = (h - kernel_size) // stride + 1
    out_w = (w - kernel_size) // stride + 1
    sn, sc, sh, sw = x.stride()
    windows = x.as_strided((n, c, out_h, out_w, kernel_size, kernel_size),
                           (sn, sc, sh * stride, sw * stride, sh, sw))
    return windows.amax(dim=(-2, -1))


class SimpleCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.pooling = nn.MaxPool2d(2)
        self.fc = nn.Linear(320, 10)

    def forward(self, x):
        x = self.pooling(F.relu(self.conv1(x)))
        x = self.pooling(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)  # flatten all dimensions except batch
        x = self.fc(x)
        return x


def train(model, loader, epochs, lr, log_interval=10):
    device = next(model.parameters()).device
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.5)
    model.train()
    for epoch in range(1, epochs + 1):
        for batch_idx, (data, target) in enumerate(loader):
            data, target = data.to(device), target.to(device)
            optimizer.zero_grad()
            output = model(data)
            loss = F.nll_loss(F.log_softmax(output, dim=1), target)
            loss.backward()
            optimizer.step()
            if batch_idx % log_interval == 0:
                print('Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}'.format(
                    epoch, batch_idx * len(data), len(loader.dataset),
                    100. * batch_idx / len(loader), loss.item()))
    return model
