"""PyTorch tutorials style ("Datasets & DataLoaders", "Build the Neural Network", "Optimizing Model Parameters").

Idioms reproduced: a custom `Dataset` shaped like the tutorial's `CustomImageDataset`, with optional
`transform`/`target_transform` keyword arguments, the table kept as a NumPy array and each item
converted in `__getitem__(self, idx)` (`torch.from_numpy`, the label sliced as `[-1:]`); `.sigmoid()`
called as a tensor method; `loss_fn`/`optimizer` names; the tutorial's `train_loop(dataloader, model,
loss_fn, optimizer)` with `size = len(dataloader.dataset)`, `model.train()`, `for batch, (X, y) in
enumerate(dataloader)`, and the current tutorial's order `loss.backward(); optimizer.step();
optimizer.zero_grad()`; progress prints `loss: {loss:>7f}  [{current:>5d}/{size:>5d}]`.
"""

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset


class LinearModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 1)

    def forward(self, x):
        return self.linear(x)


def train_linear_regression(x, y, epochs, lr):
    model = LinearModel()
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    for t in range(epochs):
        pred = model(x)
        loss = loss_fn(pred, y)

        # Backpropagation
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return model


class LogisticRegressionModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 1)

    def forward(self, x):
        logits = self.linear(x)
        return logits.sigmoid()


class TabularDataset(Dataset):
    def __init__(self, path, transform=None, target_transform=None):
        self.table = np.loadtxt(path, delimiter=",", dtype=np.float32)
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self):
        return len(self.table)

    def __getitem__(self, idx):
        features = torch.from_numpy(self.table[idx, :-1])
        label = torch.from_numpy(self.table[idx, -1:])
        if self.transform:
            features = self.transform(features)
        if self.target_transform:
            label = self.target_transform(label)
        return features, label


class MultiFeatureModel(nn.Module):
    def __init__(self, in_features):
        super().__init__()
        self.linear1 = nn.Linear(in_features, 6)
        self.linear2 = nn.Linear(6, 4)
        self.linear3 = nn.Linear(4, 1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        x = self.linear1(x)
        x = self.sigmoid(x)
        x = self.linear2(x)
        x = self.sigmoid(x)
        x = self.linear3(x)
        return self.sigmoid(x)


def train_loop(dataloader, model, loss_fn, optimizer):
    size = len(dataloader.dataset)
    model.train()
    for batch, (X, y) in enumerate(dataloader):
        # Compute prediction and loss
        pred = model(X)
        loss = loss_fn(pred, y)

        # Backpropagation
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

        if batch % 10 == 0:
            loss, current = loss.item(), batch * dataloader.batch_size + len(X)
            print(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")


def train_classifier(model, loader, epochs, lr):
    loss_fn = nn.BCELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    for t in range(epochs):
        print(f"Epoch {t + 1}\n-------------------------------")
        train_loop(loader, model, loss_fn, optimizer)
    return model
