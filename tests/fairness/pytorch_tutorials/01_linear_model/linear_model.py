"""PyTorch tutorials style ("Learning PyTorch with Examples", its "Warm-up: numpy" part).

Idioms reproduced: whole-array NumPy code with no Python loop over samples, `y_pred = w * x` (weight
first), `np.square(y_pred - y).mean()` for the loss, a hand-written backward pass through
`grad_y_pred = 2.0 * (y_pred - y)` then `grad_w = (grad_y_pred * x).sum()`, `learning_rate` and `t` as
loop names, `w -= learning_rate * grad_w`, NumPy scalars returned as they are (`np.float64`), and the
grid of weights handed back as the array it came in with, the losses as an array beside it.
"""

import numpy as np


def forward(x, w):
    return w * x


def mse(xs, ys, w):
    x, y = np.asarray(xs), np.asarray(ys)
    y_pred = forward(x, w)
    return np.square(y_pred - y).mean()


def grid_search(xs, ys, ws):
    losses = np.array([mse(xs, ys, w) for w in ws])
    return ws, losses


def gradient(xs, ys, w):
    x, y = np.asarray(xs), np.asarray(ys)
    y_pred = forward(x, w)
    grad_y_pred = 2.0 * (y_pred - y) / len(x)  # the loss is a mean over the samples
    return (grad_y_pred * x).sum()


def gradient_descent(xs, ys, w0, lr, epochs):
    x, y = np.asarray(xs), np.asarray(ys)
    w, learning_rate = w0, lr
    cost_history = []
    for t in range(epochs):
        # Forward pass and loss
        y_pred = forward(x, w)
        cost_history.append(np.square(y_pred - y).mean())

        # Backward pass: the gradient of the mean loss with respect to w
        grad_y_pred = 2.0 * (y_pred - y) / len(x)
        grad_w = (grad_y_pred * x).sum()

        w -= learning_rate * grad_w
    return w, cost_history


def sgd(xs, ys, w0, lr, epochs):
    x, y = np.asarray(xs), np.asarray(ys)
    w, learning_rate = w0, lr
    loss_history = []
    for t in range(epochs):
        for x_i, y_i in zip(x, y):
            y_pred = forward(x_i, w)
            loss_history.append(np.square(y_pred - y_i))
            grad_w = 2.0 * (y_pred - y_i) * x_i
            w -= learning_rate * grad_w
    return w, loss_history
