"""02_backprop: the chain rule by hand, then the same gradients from PyTorch's autograd."""

import torch


def manual_grad(x, y, w):
    """d/dw of (x*w - y)**2, one local derivative at a time along the graph w -> y_hat -> r -> loss."""
    y_hat = x * w
    r = y_hat - y
    dloss_dr = 2 * r  # loss = r**2
    dr_dyhat = 1.0  # r = y_hat - y
    dyhat_dw = x  # y_hat = x * w
    return dloss_dr * dr_dyhat * dyhat_dw


def train_linear(xs, ys, w0=1.0, lr=0.01, epochs=100):
    """Per-sample updates of y_hat = x * w, the gradient from loss.backward(); returns w as a number."""
    w = torch.tensor(w0, dtype=torch.float64, requires_grad=True)
    for _ in range(epochs):
        for x, y in zip(xs, ys):
            loss = (x * w - y) ** 2  # builds a fresh graph for this sample
            loss.backward()  # fills w.grad, then frees the graph
            w.data -= lr * w.grad.data  # .data: the update itself is not recorded
            w.grad.zero_()  # backward adds to .grad: start the next sample from 0
    return w.item()


def train_quadratic(xs, ys, lr, epochs):
    """Batch gradient descent on the MSE of y_hat = w1*x**2 + w2*x + b, from w1 = w2 = b = 1."""
    x = torch.as_tensor(xs, dtype=torch.float64)
    y = torch.as_tensor(ys, dtype=torch.float64)
    w1, w2, b = (torch.tensor(1.0, dtype=torch.float64, requires_grad=True) for _ in range(3))
    for _ in range(epochs):
        loss = ((w1 * x**2 + w2 * x + b - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            for p in (w1, w2, b):
                p -= lr * p.grad
                p.grad.zero_()
    return w1.item(), w2.item(), b.item()
