"""Course notes style (the notes' linear regression, logistic regression, diabetes and DiabetesDataset scripts).

Idioms reproduced: `super(LinearModel, self).__init__()`, `y_pred = self.linear(x); return y_pred`,
`criterion = torch.nn.MSELoss(reduction='mean')` and `torch.nn.BCELoss(reduction='mean')` spelled out,
`optimizer = torch.optim.SGD(model.parameters(), lr=...)`, `print(epoch, loss.item())` every step,
`optimizer.zero_grad()` after computing the loss, the dataset's `filepath` argument with
`xy = np.loadtxt(filepath, delimiter=',', dtype=np.float32)`, `self.len = xy.shape[0]`,
`self.x_data`/`self.y_data` from `torch.from_numpy(xy[:, :-1])`/`xy[:, [-1]]`, the sigmoid kept as a
layer (`self.sigmoid`), and `for i, data in enumerate(train_loader, 0): inputs, labels = data`.
"""

import numpy as np
import torch
from torch.utils.data import Dataset


class LinearModel(torch.nn.Module):
    def __init__(self):
        super(LinearModel, self).__init__()
        self.linear = torch.nn.Linear(1, 1)

    def forward(self, x):
        y_pred = self.linear(x)
        return y_pred


def train_linear_regression(x, y, epochs, lr):
    x_data, y_data = x, y
    model = LinearModel()
    criterion = torch.nn.MSELoss(reduction='mean')
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    for epoch in range(epochs):
        y_pred = model(x_data)
        loss = criterion(y_pred, y_data)
        print(epoch, loss.item())

        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print('w = ', model.linear.weight.item())
    print('b = ', model.linear.bias.item())
    return model


class LogisticRegressionModel(torch.nn.Module):
    def __init__(self):
        super(LogisticRegressionModel, self).__init__()
        self.linear = torch.nn.Linear(1, 1)

    def forward(self, x):
        y_pred = torch.sigmoid(self.linear(x))
        return y_pred


class TabularDataset(Dataset):
    def __init__(self, filepath):
        xy = np.loadtxt(filepath, delimiter=',', dtype=np.float32)
        self.len = xy.shape[0]
        self.x_data = torch.from_numpy(xy[:, :-1])
        self.y_data = torch.from_numpy(xy[:, [-1]])

    def __getitem__(self, index):
        return self.x_data[index], self.y_data[index]

    def __len__(self):
        return self.len


class MultiFeatureModel(torch.nn.Module):
    def __init__(self, in_features):
        super(MultiFeatureModel, self).__init__()
        self.linear1 = torch.nn.Linear(in_features, 6)
        self.linear2 = torch.nn.Linear(6, 4)
        self.linear3 = torch.nn.Linear(4, 1)
        self.sigmoid = torch.nn.Sigmoid()

    def forward(self, x):
        x = self.sigmoid(self.linear1(x))
        x = self.sigmoid(self.linear2(x))
        x = self.sigmoid(self.linear3(x))
        return x


def train_classifier(model, loader, epochs, lr):
    train_loader = loader
    criterion = torch.nn.BCELoss(reduction='mean')
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    for epoch in range(epochs):
        for i, data in enumerate(train_loader, 0):
            inputs, labels = data
            y_pred = model(inputs)
            loss = criterion(y_pred, labels)
            print(epoch, i, loss.item())

            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model
