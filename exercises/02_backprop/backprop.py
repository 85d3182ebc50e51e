"""02_backprop: the chain rule by hand, then the same gradients from PyTorch's autograd.

Fill in every function marked TODO; `pytest exercises/02_backprop` checks your work. See README.md.
"""

import torch  # noqa: F401


def manual_grad(x, y, w):
    """d/dw of loss = (x*w - y)**2, by the chain rule, written out by hand (no autograd):

        y_hat = x * w,   r = y_hat - y,   loss = r**2
        d loss/dw = (d loss/dr) * (dr/d y_hat) * (d y_hat/dw) = 2r * 1 * x

    x, y and w are numbers; return a number.
    """
    # TODO: Implement for 02_backprop.
    raise NotImplementedError("02_backprop: implement manual_grad")


def train_linear(xs, ys, w0=1.0, lr=0.01, epochs=100):
    """Fit y_hat = x * w with autograd: w is a tensor with requires_grad=True, starting at w0.

    Every epoch, for each sample (x, y) in the order given:
        loss = (x * w - y)**2;  loss.backward();  w <- w - lr * w.grad  (through w.data or torch.no_grad());
        then zero w.grad.
    Return the final w as a plain Python number (w.item()), not a tensor that still requires grad.
    """
    # TODO: Implement for 02_backprop.
    raise NotImplementedError("02_backprop: implement train_linear")


def train_quadratic(xs, ys, lr, epochs):
    """Fit y_hat = w1 * x**2 + w2 * x + b with autograd; w1, w2 and b all start at 1.0.

    Every epoch, ONE update of all three with the gradient of the mean squared error over all the data:
        loss = mean over samples of (y_hat - y)**2;  loss.backward();  p <- p - lr * p.grad;  zero p.grad.
    Return (w1, w2, b) as plain Python numbers.
    """
    # TODO: Implement for 02_backprop.
    raise NotImplementedError("02_backprop: implement train_quadratic")
