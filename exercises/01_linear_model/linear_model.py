"""01_linear_model: the linear model y_hat = x * w, its mean squared error, and gradient descent by hand.

Fill in every function marked TODO; `pytest exercises/01_linear_model` checks your work. See README.md.
Plain Python (NumPy is allowed): do not import torch in this exercise.
"""

import numpy as np  # noqa: F401  (you may use it, you do not have to)


def forward(x, w):
    """The model's prediction: y_hat = x * w.

    x may be a number or a NumPy array (then every element is multiplied by w).
    """
    # TODO: Implement for 01_linear_model.
    raise NotImplementedError("01_linear_model: implement forward")


def mse(xs, ys, w):
    """Mean squared error of forward over the data:

        mse(w) = (1/N) * sum_n (x_n * w - y_n)**2
    """
    # TODO: Implement for 01_linear_model.
    raise NotImplementedError("01_linear_model: implement mse")


def grid_search(xs, ys, ws):
    """Try every w in ws, in order. Return (w_list, mse_list): the ws tried and mse(xs, ys, w) of each."""
    # TODO: Implement for 01_linear_model.
    raise NotImplementedError("01_linear_model: implement grid_search")


def gradient(xs, ys, w):
    """The derivative of mse with respect to w:

        d mse / dw = (1/N) * sum_n 2 * x_n * (x_n * w - y_n)
    """
    # TODO: Implement for 01_linear_model.
    raise NotImplementedError("01_linear_model: implement gradient")


def gradient_descent(xs, ys, w0, lr, epochs):
    """Batch gradient descent from w = w0: every epoch, one update with the gradient over all the data,

        w <- w - lr * gradient(xs, ys, w)

    Return (w, cost_history): the final w and, for each epoch, mse(xs, ys, w) just BEFORE that epoch's
    update (so len(cost_history) == epochs and cost_history[0] is the cost at w0).
    """
    # TODO: Implement for 01_linear_model.
    raise NotImplementedError("01_linear_model: implement gradient_descent")


def sgd(xs, ys, w0, lr, epochs):
    """Stochastic gradient descent from w = w0: every epoch, visit the samples in the order given and,
    for each sample (x, y), update with the gradient of that sample's loss alone,

        w <- w - lr * 2 * x * (x * w - y)

    Return (w, loss_history): the final w and, for every update, that sample's loss (x * w - y)**2
    just BEFORE the update (so len(loss_history) == epochs * len(xs)).
    """
    # TODO: Implement for 01_linear_model.
    raise NotImplementedError("01_linear_model: implement sgd")
