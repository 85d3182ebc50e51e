"""05_cnn: convolution and pooling by hand, and the notes' small CNN on digits."""

import math

import torch
import torch.nn.functional as F
from torch import nn


def conv2d_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    """Output length along one dimension: floor((size + 2p - d(k-1) - 1) / s) + 1."""
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


def pool2d_output_size(size, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Like conv2d_output_size; with ceil_mode, round up, but the last window must start inside the input."""
    stride = kernel_size if stride is None else stride
    span = size + 2 * padding - dilation * (kernel_size - 1) - 1
    if not ceil_mode:
        return span // stride + 1
    out = math.ceil(span / stride) + 1
    if (out - 1) * stride >= size + padding:
        out -= 1
    return out


def conv2d(input, weight, bias=None, stride=1, padding=0):
    """Cross-correlation: slide each kernel over the (padded) input and sum the products."""
    n, c_in, h, w = input.shape
    c_out, _, kh, kw = weight.shape
    x = F.pad(input, (padding, padding, padding, padding))
    out_h = conv2d_output_size(h, kh, stride, padding)
    out_w = conv2d_output_size(w, kw, stride, padding)
    out = input.new_zeros(n, c_out, out_h, out_w)
    for i in range(kh):
        for j in range(kw):
            # Every output position sees input pixel (i + stride*y, j + stride*x) through kernel tap (i, j).
            patch = x[:, :, i : i + stride * (out_h - 1) + 1 : stride, j : j + stride * (out_w - 1) + 1 : stride]
            out = out + torch.einsum("nchw,oc->nohw", patch, weight[:, :, i, j])
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)
    return out


def max_pool2d(input, kernel_size, stride=None):
    """The largest value in each kernel_size x kernel_size window."""
    stride = kernel_size if stride is None else stride
    windows = input.unfold(2, kernel_size, stride).unfold(3, kernel_size, stride)
    return windows.amax(dim=(-2, -1))


class SimpleCNN(nn.Module):
    """conv 1->10 k5, maxpool 2, relu, conv 10->20 k5, maxpool 2, relu, fc 320->10."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.pooling = nn.MaxPool2d(2)
        self.fc = nn.Linear(320, 10)

    def forward(self, x):
        x = F.relu(self.pooling(self.conv1(x)))  # (N, 10, 12, 12)
        x = F.relu(self.pooling(self.conv2(x)))  # (N, 20, 4, 4)
        return self.fc(x.flatten(1))  # 20 * 4 * 4 = 320 features -> 10 logits


def train(model, loader, epochs, lr):
    """Cross-entropy and SGD with momentum 0.5, as in the notes; returns the trained model."""
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.5)
    model.train()
    for _ in range(epochs):
        for images, labels in loader:
            optimizer.zero_grad()
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.step()
    return model
