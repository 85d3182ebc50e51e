"""d2l-zh style (concise linear regression, logistic regression and softmax training loops).

Idioms reproduced: `net`/`trainer`/`loss` names, `net.linear.weight.data.normal_(0, 0.01)` and
`net.linear.bias.data.fill_(0)` to initialise the freshly built model, `l = loss(net(X), y)` then
`trainer.zero_grad(); l.backward(); trainer.step()`, `print(f'epoch {epoch + 1}, loss {l:f}')`, a
hand-written `sigmoid` as `1 / (1 + torch.exp(-X))`, the table read once into a `data.TensorDataset`
(subclassed, its `*tensors` passed up), an `nn.BCELoss(reduction='none')` whose per-sample losses are
averaged with `l.mean().backward()` as in the book's `train_epoch_ch3`, an `Accumulator` of
(loss sum, correct count, sample count) with `float(l.sum())` and `y.numel()`, an `accuracy` helper, and
`evaluate_accuracy(net, data_iter)` that calls `net.eval()` and leaves the model in eval mode when
training ends.
"""

import numpy as np
import torch
from torch import nn
from torch.utils import data


class LinearModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 1)

    def forward(self, X):
        return self.linear(X)


def train_linear_regression(x, y, epochs, lr):
    features, labels = x, y
    net = LinearModel()
    net.linear.weight.data.normal_(0, 0.01)
    net.linear.bias.data.fill_(0)
    loss = nn.MSELoss()
    trainer = torch.optim.SGD(net.parameters(), lr=lr)
    num_epochs = epochs
    for epoch in range(num_epochs):
        l = loss(net(features), labels)
        trainer.zero_grad()
        l.backward()
        trainer.step()
        if (epoch + 1) % 100 == 0:
            print(f'epoch {epoch + 1}, loss {l:f}')
    return net


def sigmoid(X):
    return 1 / (1 + torch.exp(-X))


class LogisticRegressionModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 1)

    def forward(self, X):
        return sigmoid(self.linear(X))


class TabularDataset(data.TensorDataset):
    def __init__(self, path):
        table = np.loadtxt(path, delimiter=",", dtype=np.float32)
        features = torch.tensor(table[:, :-1])
        labels = torch.tensor(table[:, -1]).reshape(-1, 1)
        super().__init__(features, labels)


class MultiFeatureModel(nn.Module):
    def __init__(self, in_features):
        super().__init__()
        self.linear1 = nn.Linear(in_features, 6)
        self.linear2 = nn.Linear(6, 4)
        self.linear3 = nn.Linear(4, 1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, X):
        H1 = self.sigmoid(self.linear1(X))
        H2 = self.sigmoid(self.linear2(H1))
        return self.sigmoid(self.linear3(H2))


class Accumulator:
    """Sums over n variables."""

    def __init__(self, n):
        self.data = [0.0] * n

    def add(self, *args):
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def __getitem__(self, idx):
        return self.data[idx]


def accuracy(y_hat, y):
    """The number of correct predictions (a probability above 0.5 predicts class 1)."""
    cmp = (y_hat > 0.5).type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


def evaluate_accuracy(net, data_iter):
    if isinstance(net, torch.nn.Module):
        net.eval()
    metric = Accumulator(2)  # correct predictions, predictions
    with torch.no_grad():
        for X, y in data_iter:
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]


def train_epoch(net, train_iter, loss, updater):
    if isinstance(net, torch.nn.Module):
        net.train()
    metric = Accumulator(3)  # loss sum, correct predictions, samples
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        updater.zero_grad()
        l.mean().backward()
        updater.step()
        metric.add(float(l.sum()), accuracy(y_hat, y), y.numel())
    return metric[0] / metric[2], metric[1] / metric[2]


def train_classifier(model, loader, epochs, lr):
    net, train_iter, num_epochs = model, loader, epochs
    loss = nn.BCELoss(reduction='none')
    trainer = torch.optim.SGD(net.parameters(), lr=lr)
    for epoch in range(num_epochs):
        train_loss, train_acc = train_epoch(net, train_iter, loss, trainer)
        print(f'epoch {epoch + 1}, loss {train_loss:.3f}, train acc {train_acc:.3f}')
    print(f'final train acc {evaluate_accuracy(net, train_iter):.3f}')
    return net
