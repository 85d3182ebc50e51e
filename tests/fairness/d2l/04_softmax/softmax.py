"""d2l-zh style (softmax regression from scratch and the MLP chapters).

Idioms reproduced: `X_exp`/`partition` names with the sum kept by `keepdim=True` and the division left
to broadcasting (after subtracting the maxima, the fix the book discusses for overflow); a
`cross_entropy(y_hat, y)` that picks each row's entry with `[range(len(...)), y]` and a mean written as
`l.sum() / l.numel()`; `torch.tensor(mean).reshape(-1, 1, 1)` for broadcasting; a hand-written `relu`
as `torch.max(X, torch.zeros_like(X))`; `X.reshape((-1, num_inputs))`; `init_weights` applied with
`self.apply` (Xavier-uniform weights as in the book's `train_ch6`, and zero biases); and the book's
`Accumulator`, `accuracy` and `evaluate_accuracy` (`net.eval()` when `net` is a module, `metric.add(
accuracy(net(X), y), y.numel())` inside `torch.no_grad()`, `metric[0] / metric[1]`).
"""

import torch
from torch import nn


def softmax(X, dim=-1):
    X_exp = torch.exp(X - X.max(dim=dim, keepdim=True).values)
    partition = X_exp.sum(dim, keepdim=True)
    return X_exp / partition  # broadcasting


def cross_entropy(y_hat, y):
    """y_hat holds logits; the log-softmax is computed without forming the probabilities."""
    shifted = y_hat - y_hat.max(dim=1, keepdim=True).values
    log_y_hat = shifted - torch.log(torch.exp(shifted).sum(1, keepdim=True))
    l = - log_y_hat[range(len(log_y_hat)), y]
    return l.sum() / l.numel()


def normalize(X, mean, std):
    mean = torch.tensor(mean).reshape(-1, 1, 1)
    std = torch.tensor(std).reshape(-1, 1, 1)
    return (X - mean) / std


def relu(X):
    a = torch.zeros_like(X)
    return torch.max(X, a)


def init_weights(m):
    if type(m) == nn.Linear:
        nn.init.xavier_uniform_(m.weight)
        nn.init.zeros_(m.bias)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(784, 512)
        self.l2 = nn.Linear(512, 256)
        self.l3 = nn.Linear(256, 128)
        self.l4 = nn.Linear(128, 64)
        self.l5 = nn.Linear(64, 10)
        self.apply(init_weights)

    def forward(self, X):
        num_inputs = 784
        X = X.reshape((-1, num_inputs))
        H = relu(self.l1(X))
        H = relu(self.l2(H))
        H = relu(self.l3(H))
        H = relu(self.l4(H))
        return self.l5(H)


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


def evaluate_accuracy(net, data_iter):
    if isinstance(net, torch.nn.Module):
        net.eval()
    metric = Accumulator(2)  # correct predictions, predictions
    with torch.no_grad():
        for X, y in data_iter:
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]


def evaluate(model, loader):
    return evaluate_accuracy(model, loader)
