"""Course notes style (the notes' CNN section: their `Net`, `train(epoch)` and "使用显卡训练" device lines).

Idioms reproduced: sizes computed the way the notes explain them ("3x3 kernel: width and height minus
2", padding adds rings, stride divides) with `int(...)` of a float division; convolution and pooling as
per-sample Python loops over `input.size(0)` that fill a preallocated output one position at a time
(the input zero-padded by copying it into a bigger `torch.zeros` tensor of the same dtype), `torch.max`
unpacked as `values, _`; the notes' `forward` with `batch_size = x.size(0)`,
`F.relu(self.pooling(self.conv1(x)))` and `x.view(batch_size, -1)`; and the notes' training loop:
`device = torch.device("cuda" if torch.cuda.is_available() else "cpu")`, `model.to(device)`,
`criterion`, `optimizer = optim.SGD(..., momentum=0.5)`, `for batch_idx, data in
enumerate(train_loader, 0)`, `inputs, target = inputs.to(device), target.to(device)`,
`optimizer.zero_grad()` first, `running_loss += loss.item()` and the `[%d, %5d] loss: %.3f` print
every 300 batches.
"""

import torch
import torch.nn.functional as F
import torch.optim as optim
from torch import nn


def conv2d_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    covered = dilation * (kernel_size - 1) + 1  # how many pixels one kernel position spans
    return int((size + 2 * padding - covered) / stride) + 1


def pool2d_output_size(size, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    if stride is None:
        stride = kernel_size
    covered = dilation * (kernel_size - 1) + 1
    steps = (size + 2 * padding - covered) / stride
    if not ceil_mode:
        return int(steps) + 1
    out = int(steps) + 1
    if steps > int(steps) and out * stride < size + padding:  # a partial window that starts inside
        out += 1
    return out


def conv2d(input, weight, bias=None, stride=1, padding=0):
    batch_size, in_channels, height, width = input.size()
    out_channels, _, kernel_h, kernel_w = weight.size()
    padded = torch.zeros(batch_size, in_channels, height + 2 * padding, width + 2 * padding, dtype=input.dtype)
    padded[:, :, padding:padding + height, padding:padding + width] = input
    out_h = conv2d_output_size(height, kernel_h, stride, padding)
    out_w = conv2d_output_size(width, kernel_w, stride, padding)
    output = torch.zeros(batch_size, out_channels, out_h, out_w, dtype=input.dtype)
    for n in range(batch_size):
        for o in range(out_channels):
            for i in range(out_h):
                for j in range(out_w):
                    patch = padded[n, :, i * stride:i * stride + kernel_h, j * stride:j * stride + kernel_w]
                    value = (patch * weight[o]).sum()
                    if bias is not None:
                        value = value + bias[o]
                    output[n, o, i, j] = value
    return output


def max_pool2d(input, kernel_size, stride=None):
    if stride is None:
        stride = kernel_size
    batch_size, channels, height, width = input.size()
    out_h = int((height - kernel_size) / stride) + 1
    out_w = int((width - kernel_size) / stride) + 1
    output = torch.zeros(batch_size, channels, out_h, out_w, dtype=input.dtype)
    for n in range(batch_size):
        for i in range(out_h):
            for j in range(out_w):
                window = input[n, :, i * stride:i * stride + kernel_size, j * stride:j * stride + kernel_size]
                values, _ = torch.max(window.reshape(channels, -1), dim=1)
                output[n, :, i, j] = values
    return output


class SimpleCNN(nn.Module):
    def __init__(self):
        super(SimpleCNN, self).__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.pooling = nn.MaxPool2d(2)
        self.fc = nn.Linear(320, 10)

    def forward(self, x):
        # flatten data from (n, 1, 28, 28) to (n, 320) after two conv + pool stages
        batch_size = x.size(0)
        x = F.relu(self.pooling(self.conv1(x)))
        x = F.relu(self.pooling(self.conv2(x)))
        x = x.view(batch_size, -1)  # -1 is 320 here
        x = self.fc(x)
        return x


def train(model, loader, epochs, lr):
    train_loader = loader
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model.to(device)
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=lr, momentum=0.5)
    for epoch in range(epochs):
        running_loss = 0.0
        for batch_idx, data in enumerate(train_loader, 0):
            inputs, target = data
            inputs, target = inputs.to(device), target.to(device)
            optimizer.zero_grad()

            outputs = model(inputs)
            loss = criterion(outputs, target)
            loss.backward()
            optimizer.step()

            running_loss += loss.item()
            if batch_idx % 300 == 299:
                print('[%d, %5d] loss: %.3f' % (epoch + 1, batch_idx + 1, running_loss / 300))
                running_loss = 0.0
    return model
