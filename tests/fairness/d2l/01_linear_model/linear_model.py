"""d2l-zh style (linear regression from scratch, in NumPy since this exercise forbids torch).

Idioms reproduced: `linreg` and `squared_loss` helpers (the loss reshapes y to y_hat's shape, here without
the book's `/ 2`, which would halve the MSE), a `data_iter(batch_size, features, labels)` generator of
mini-batches (in the given order: the exercise forbids the book's `random.shuffle`), the parameter kept
as a one-element array updated in place by an `updater(params, grads, lr, batch_size)` like the book's
`sgd` (the gradient of the summed loss divided by the batch size; renamed because `sgd` is a name this
exercise asks for), one training loop for any batch size, vectorised arrays, `l.sum() / l.size` means and
`float(...)` conversions of every reported number.
"""

import numpy as np


def linreg(X, w):
    """The linear model (no bias in this exercise)."""
    return X * w


def squared_loss(y_hat, y):
    """Squared error of every sample."""
    return (y_hat - np.reshape(y, np.shape(y_hat))) ** 2


def data_iter(batch_size, features, labels):
    """Mini-batches of (features, labels), in the order of the data."""
    num_examples = len(features)
    indices = list(range(num_examples))
    for i in range(0, num_examples, batch_size):
        batch_indices = np.array(indices[i: min(i + batch_size, num_examples)])
        yield features[batch_indices], labels[batch_indices]


def updater(params, grads, lr, batch_size):
    """Mini-batch SGD in place: grads are those of the summed loss, so divide by the batch size."""
    for param, grad in zip(params, grads):
        param -= lr * grad / batch_size


def summed_loss_grad(X, y, w):
    """d/dw of the summed squared loss over the batch (X, y)."""
    return (2 * X * (linreg(X, w) - y)).sum()


def forward(x, w):
    return linreg(x, w)


def mse(xs, ys, w):
    features, labels = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
    l = squared_loss(linreg(features, w), labels)
    return float(l.sum() / l.size)


def grid_search(xs, ys, ws):
    w_list, mse_list = [], []
    for w in ws:
        w_list.append(float(w))
        mse_list.append(mse(xs, ys, w))
    return w_list, mse_list


def gradient(xs, ys, w):
    features, labels = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
    return float(summed_loss_grad(features, labels, w) / features.size)


def train(xs, ys, w0, lr, num_epochs, batch_size):
    """The training loop for any batch size: returns w and the mean loss of every batch before its update."""
    features, labels = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
    w = np.array([w0], dtype=np.float64)
    history = []
    for epoch in range(num_epochs):
        for X, y in data_iter(batch_size, features, labels):
            l = squared_loss(linreg(X, w[0]), y)
            history.append(float(l.sum() / l.size))
            updater([w], [summed_loss_grad(X, y, w[0])], lr, len(X))
    return float(w[0]), history


def gradient_descent(xs, ys, w0, lr, epochs):
    return train(xs, ys, w0, lr, epochs, batch_size=len(xs))  # the whole data set is one batch


def sgd(xs, ys, w0, lr, epochs):
    return train(xs, ys, w0, lr, epochs, batch_size=1)  # one sample per update
