"""d2l-zh style (the book's `try_gpu`, `train_ch6`, `evaluate_accuracy_gpu`, `Accumulator`, `accuracy` and
"reading and writing files" sections).

Idioms reproduced: `try_gpu(i=0)` returning `torch.device(f'cuda:{i}')` (asking `torch.cuda.is_available()`,
with MPS as the README wants, rather than the book's `device_count()`); the book's parameter names (`net`,
`train_iter`, `test_iter`, `loss`, `updater`) for the positional arguments; `net.train()` / `net.eval()`
guarded the book's way; an `Accumulator` of sums and an `accuracy(y_hat, y)` counting correct predictions,
here kept as tensors on the device (the book's `float(...)` would copy to the host every batch, which the
README forbids) and turned into numbers once with `float(metric[0] / metric[1])`; `train_ch6`'s order
`updater.zero_grad()` before moving the batch, `metric.add(l * X.shape[0], ...)` under `torch.no_grad()`;
`print('training on', device)` and a final `print(f'loss ..., test acc ...')`; flattening with
`X.reshape(X.shape[0], -1)`; the history filled by zipping its keys with the epoch's numbers; and
`torch.save(net.state_dict(), ...)` as in the book.
"""

import os

import torch
from torch import nn


def try_gpu(i=0):
    """gpu(i) if there is one, else Apple's GPU if there is one, else the CPU."""
    if torch.cuda.is_available():
        return torch.device(f'cuda:{i}')
    if torch.backends.mps.is_available():
        return torch.device('mps')
    return torch.device('cpu')


def get_device():
    return try_gpu()


class TinyCifarNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, kernel_size=5, padding=2)
        self.conv2 = nn.Conv2d(32, 32, kernel_size=5, padding=2)
        self.conv3 = nn.Conv2d(32, 64, kernel_size=5, padding=2)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(1024, 64)
        self.fc2 = nn.Linear(64, num_classes)

    def forward(self, X):
        X = self.pool(self.conv1(X))
        X = self.pool(self.conv2(X))
        X = self.pool(self.conv3(X))
        return self.fc2(self.fc1(X.reshape(X.shape[0], -1)))


class Accumulator:
    """Sums over n variables; tensors stay on their device."""

    def __init__(self, n):
        self.data = [0.0] * n

    def add(self, *args):
        self.data = [a + b for a, b in zip(self.data, args)]

    def __getitem__(self, idx):
        return self.data[idx]


def accuracy(y_hat, y):
    """The number of correct predictions, as a tensor."""
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return cmp.type(y.dtype).sum()


def train_one_epoch(net, train_iter, loss, updater, device):
    if isinstance(net, nn.Module):
        net.train()
    metric = Accumulator(2)  # sum of the training losses, number of samples
    for X, y in train_iter:
        updater.zero_grad()
        X, y = X.to(device), y.to(device)
        y_hat = net(X)
        l = loss(y_hat, y)
        l.backward()
        updater.step()
        with torch.no_grad():
            metric.add(l * X.shape[0], X.shape[0])
    return float(metric[0] / metric[1])


def evaluate(net, data_iter, loss, device):
    if isinstance(net, nn.Module):
        net.eval()
    metric = Accumulator(3)  # sum of the losses, correct predictions, number of predictions
    with torch.no_grad():
        for X, y in data_iter:
            X, y = X.to(device), y.to(device)
            y_hat = net(X)
            metric.add(loss(y_hat, y) * y.numel(), accuracy(y_hat, y), y.numel())
    return float(metric[0] / metric[2]), float(metric[1] / metric[2])


def fit(net, train_iter, test_iter, epochs, lr, device, log_dir=None, checkpoint_dir=None):
    print('training on', device)
    net.to(device)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
    loss = nn.CrossEntropyLoss()
    writer = None
    if log_dir is not None:
        from torch.utils.tensorboard import SummaryWriter
        writer = SummaryWriter(log_dir)
    if checkpoint_dir is not None:
        os.makedirs(checkpoint_dir, exist_ok=True)
    history = {'train_loss': [], 'test_loss': [], 'test_accuracy': []}
    for epoch in range(epochs):
        train_l = train_one_epoch(net, train_iter, loss, optimizer, device)
        test_l, test_acc = evaluate(net, test_iter, loss, device)
        for key, value in zip(history, (train_l, test_l, test_acc)):
            history[key].append(value)
            if writer is not None:
                writer.add_scalar(key, value, epoch + 1)
        if checkpoint_dir is not None:
            torch.save(net.state_dict(), os.path.join(checkpoint_dir, f'epoch_{epoch + 1}.pt'))
    if writer is not None:
        writer.close()
    if epochs:
        print(f'loss {train_l:.3f}, test loss {test_l:.3f}, test acc {test_acc:.3f}')
    return history
