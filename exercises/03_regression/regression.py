"""03_regression: nn.Module, linear and logistic regression, a Dataset over a CSV, and mini-batch training.

Fill in every function and method marked TODO; `pytest exercises/03_regression` checks your work. See README.md.
"""

import numpy as np  # noqa: F401  (you will need it to read the CSV)
import torch  # noqa: F401
from torch import nn
from torch.utils.data import Dataset


class LinearModel(nn.Module):
    """y_hat = w * x + b, with w and b held by one nn.Linear(1, 1)."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 1)  # an attribute, so that model.parameters() finds its weight and bias

    def forward(self, x):
        """x (N, 1) -> y_hat (N, 1) = x w + b."""
        # TODO: Implement for 03_regression.
        raise NotImplementedError("03_regression: implement LinearModel.forward")


def train_linear_regression(x, y, epochs, lr):
    """Fit a new LinearModel to x (N, 1) and y (N, 1); return the trained model.

    Loss: nn.MSELoss() with its default mean, (1/N) sum_n (y_hat_n - y_n)^2. Optimiser:
    torch.optim.SGD(model.parameters(), lr=lr). Every epoch is one full-batch step:
    forward, loss, zero the gradients, backward, step. With epochs=0, return the model untrained.
    """
    # TODO: Implement for 03_regression.
    raise NotImplementedError("03_regression: implement train_linear_regression")


class LogisticRegressionModel(nn.Module):
    """y_hat = sigmoid(w * x + b) = 1 / (1 + exp(-(w x + b))): the probability that x is in class 1."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 1)

    def forward(self, x):
        """x (N, 1) -> probabilities (N, 1), every one strictly between 0 and 1."""
        # TODO: Implement for 03_regression.
        raise NotImplementedError("03_regression: implement LogisticRegressionModel.forward")


class TabularDataset(Dataset):
    """The rows of a CSV file of numbers: every column but the last is a feature, the last is the 0/1 label.

    Read the whole file once, in __init__, with np.loadtxt(path, delimiter=",", dtype=np.float32). Item i is
    the pair (features of row i: float32 tensor of shape (F,), label of row i: float32 tensor of shape (1,)).
    The values are returned as they are in the file (no standardising here).
    """

    def __init__(self, path):
        super().__init__()
        self.path = path
        # TODO: Implement for 03_regression.
        # (Read the table here and keep features and labels as tensors; __len__ and __getitem__ use them.)

    def __len__(self):
        """The number of rows."""
        # TODO: Implement for 03_regression.
        raise NotImplementedError("03_regression: implement TabularDataset.__len__")

    def __getitem__(self, index):
        """(features (F,) float32, label (1,) float32) of row `index`."""
        # TODO: Implement for 03_regression.
        raise NotImplementedError("03_regression: implement TabularDataset.__getitem__")


class MultiFeatureModel(nn.Module):
    """in_features -> 6 -> 4 -> 1, a sigmoid after every Linear layer (the last one makes it a probability)."""

    def __init__(self, in_features):
        super().__init__()
        self.linear1 = nn.Linear(in_features, 6)
        self.linear2 = nn.Linear(6, 4)
        self.linear3 = nn.Linear(4, 1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        """x (N, in_features) -> probabilities (N, 1): sigmoid(linear3(sigmoid(linear2(sigmoid(linear1(x))))))."""
        # TODO: Implement for 03_regression.
        raise NotImplementedError("03_regression: implement MultiFeatureModel.forward")


def train_classifier(model, loader, epochs, lr):
    """Train a model that outputs probabilities (N, 1) on a DataLoader of (features, labels (N, 1)); return it.

    Loss: nn.BCELoss() with its default mean, -(1/N) sum_n [y_n log y_hat_n + (1 - y_n) log(1 - y_hat_n)].
    Optimiser: torch.optim.SGD(model.parameters(), lr=lr), one step per mini-batch, `epochs` passes over loader.
    Train the model you are given from its current weights (do not re-initialise it).
    """
    # TODO: Implement for 03_regression.
    raise NotImplementedError("03_regression: implement train_classifier")
