"""d2l-zh style (the convolution, padding-and-strides, channels, pooling and LeNet chapters).

Idioms reproduced: `corr2d(X, K)` filling a `Y = torch.zeros((h, w))` buffer in a double loop over output
pixels with `(X[i: i + h, j: j + w] * K).sum()`, extended with a stride (the buffers are given `dtype=X.dtype`,
which the book leaves out: the exercise asks for the input's dtype, and the float32 default is a flaw);
`corr2d_multi_in` as `sum(corr2d(x, k) for x, k in zip(X, K))` and `corr2d_multi_in_out` as
`torch.stack([... for k in K], 0)`, one more `torch.stack` over the batch; `pool2d` filling a zeros
buffer with `X[i: i + p_h, j: j + p_w].max()`; the output-size formulas written as the book states
them, `(n_h - k_h + p_h + s_h) // s_h` with `p_h` the total padding of both sides; relu before max
pooling (the book's LeNet order: the two commute); `X.reshape(X.shape[0], -1)`; and a `train_ch6`-like
loop with `net.to(device)`, `device = next(iter(net.parameters())).device`, an `Accumulator` of
`l * X.shape[0]`, `accuracy(y_hat, y)` and `X.shape[0]` under `torch.no_grad()`, and a closing
`evaluate_accuracy_gpu(net, train_iter)` that leaves the model in eval mode.
"""

import torch
import torch.nn.functional as F
from torch import nn


def conv2d_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    n_h, k_h, s_h, p_h = size, dilation * (kernel_size - 1) + 1, stride, 2 * padding
    return (n_h - k_h + p_h + s_h) // s_h


def pool2d_output_size(size, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    s_h = kernel_size if stride is None else stride
    n_h, k_h, p_h = size, dilation * (kernel_size - 1) + 1, 2 * padding
    if not ceil_mode:
        return (n_h - k_h + p_h + s_h) // s_h
    out = -(-(n_h - k_h + p_h) // s_h) + 1  # rounded up
    if (out - 1) * s_h >= n_h + padding:  # the last window would start in the padding
        out -= 1
    return out


def corr2d(X, K, stride=1):
    """2-D cross-correlation of one channel with one kernel."""
    h, w = K.shape
    Y = torch.zeros(((X.shape[0] - h) // stride + 1, (X.shape[1] - w) // stride + 1), dtype=X.dtype)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i * stride: i * stride + h, j * stride: j * stride + w] * K).sum()
    return Y


def corr2d_multi_in(X, K, stride=1):
    # Iterate over the channel dimension of X and K, then add the results.
    return sum(corr2d(x, k, stride) for x, k in zip(X, K))


def corr2d_multi_in_out(X, K, stride=1):
    # One output channel per kernel in K.
    return torch.stack([corr2d_multi_in(X, k, stride) for k in K], 0)


def conv2d(input, weight, bias=None, stride=1, padding=0):
    X = F.pad(input, (padding, padding, padding, padding))
    Y = torch.stack([corr2d_multi_in_out(x, weight, stride) for x in X], 0)
    if bias is not None:
        Y = Y + bias.reshape(1, -1, 1, 1)
    return Y


def pool2d(X, pool_size, stride):
    p_h, p_w = pool_size
    Y = torch.zeros(((X.shape[0] - p_h) // stride + 1, (X.shape[1] - p_w) // stride + 1), dtype=X.dtype)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = X[i * stride: i * stride + p_h, j * stride: j * stride + p_w].max()
    return Y


def max_pool2d(input, kernel_size, stride=None):
    stride = kernel_size if stride is None else stride
    return torch.stack([torch.stack([pool2d(x, (kernel_size, kernel_size), stride) for x in X]) for X in input])


class SimpleCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.pooling = nn.MaxPool2d(2)
        self.fc = nn.Linear(320, 10)

    def forward(self, X):
        X = self.pooling(torch.relu(self.conv1(X)))
        X = self.pooling(torch.relu(self.conv2(X)))
        return self.fc(X.reshape(X.shape[0], -1))


class Accumulator:
    """Sums over n variables."""

    def __init__(self, n):
        self.data = [0.0] * n

    def add(self, *args):
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def __getitem__(self, idx):
        return self.data[idx]


def accuracy(y_hat, y):
    """The number of correct predictions."""
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


def evaluate_accuracy_gpu(net, data_iter, device=None):
    if isinstance(net, nn.Module):
        net.eval()
        if not device:
            device = next(iter(net.parameters())).device
    metric = Accumulator(2)  # correct predictions, predictions
    with torch.no_grad():
        for X, y in data_iter:
            X, y = X.to(device), y.to(device)
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]


def train(model, loader, epochs, lr):
    net, train_iter, num_epochs = model, loader, epochs
    device = next(iter(net.parameters())).device
    net.to(device)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.5)
    loss = nn.CrossEntropyLoss()
    for epoch in range(num_epochs):
        metric = Accumulator(3)  # loss sum, correct predictions, samples
        net.train()
        for i, (X, y) in enumerate(train_iter):
            optimizer.zero_grad()
            X, y = X.to(device), y.to(device)
            y_hat = net(X)
            l = loss(y_hat, y)
            l.backward()
            optimizer.step()
            with torch.no_grad():
                metric.add(l * X.shape[0], accuracy(y_hat, y), X.shape[0])
        print(f'epoch {epoch + 1}, loss {metric[0] / metric[2]:.3f}, train acc {metric[1] / metric[2]:.3f}')
    print(f'train acc {evaluate_accuracy_gpu(net, train_iter):.3f} on {device}')
    return net
