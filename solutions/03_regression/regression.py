"""03_regression: nn.Module, linear and logistic regression, a Dataset over a CSV, and mini-batch training."""

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset


class LinearModel(nn.Module):
    """y_hat = w * x + b, with w and b held by one nn.Linear(1, 1)."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 1)

    def forward(self, x):
        return self.linear(x)


def train_linear_regression(x, y, epochs, lr):
    """Fit a LinearModel to (x, y) with nn.MSELoss() (the mean) and torch.optim.SGD; return the model."""
    model = LinearModel()
    criterion = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    for _ in range(epochs):
        loss = criterion(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


class LogisticRegressionModel(nn.Module):
    """y_hat = sigmoid(w * x + b): the probability that x belongs to class 1."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 1)

    def forward(self, x):
        return torch.sigmoid(self.linear(x))


class TabularDataset(Dataset):
    """Rows of a CSV file: every column but the last are features, the last is the 0/1 label."""

    def __init__(self, path):
        table = np.loadtxt(path, delimiter=",", dtype=np.float32)
        self.x = torch.from_numpy(table[:, :-1])  # (N, F)
        self.y = torch.from_numpy(table[:, [-1]])  # (N, 1): the list [-1] keeps the column a matrix

    def __len__(self):
        return len(self.x)

    def __getitem__(self, index):
        return self.x[index], self.y[index]


class MultiFeatureModel(nn.Module):
    """in_features -> 6 -> 4 -> 1, a sigmoid after every Linear layer."""

    def __init__(self, in_features):
        super().__init__()
        self.linear1 = nn.Linear(in_features, 6)
        self.linear2 = nn.Linear(6, 4)
        self.linear3 = nn.Linear(4, 1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        x = self.sigmoid(self.linear1(x))
        x = self.sigmoid(self.linear2(x))
        return self.sigmoid(self.linear3(x))


def train_classifier(model, loader, epochs, lr):
    """Mini-batch training with nn.BCELoss() (the mean) and torch.optim.SGD(lr=lr); return the model."""
    criterion = nn.BCELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    model.train()
    for _ in range(epochs):
        for inputs, labels in loader:
            loss = criterion(model(inputs), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model
