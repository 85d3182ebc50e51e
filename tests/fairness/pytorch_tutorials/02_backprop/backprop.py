"""PyTorch tutorials style ("Learning PyTorch with Examples": the NumPy warm-up, "Tensors and autograd",
and "PyTorch: optim").

Idioms reproduced: the warm-up's hand backward pass `grad_y_pred = 2.0 * (y_pred - y)` then
`grad_w = grad_y_pred * x`; a `dtype = torch.float` constant and 0-d tensors made with
`requires_grad=True`; `loss = (y_pred - y).pow(2)`; updates inside `with torch.no_grad():` as
`w -= learning_rate * w.grad`, the gradient reset with `w.grad = None` instead of `zero_()`;
for the quadratic, the parameters handed to `torch.optim.SGD` with `optimizer.zero_grad()` first and
`optimizer.step()`; `.item()` on the way out.
"""

import torch

dtype = torch.float


def manual_grad(x, y, w):
    # Forward pass
    y_pred = x * w
    # Backprop to compute the gradient of w with respect to loss = (y_pred - y)**2
    grad_y_pred = 2.0 * (y_pred - y)
    grad_w = grad_y_pred * x
    return grad_w


def train_linear(xs, ys, w0=1.0, lr=0.01, epochs=100):
    learning_rate = lr
    w = torch.tensor(w0, dtype=dtype, requires_grad=True)
    for t in range(epochs):
        for x, y in zip(xs, ys):
            y_pred = x * w
            loss = (y_pred - y).pow(2)
            loss.backward()
            with torch.no_grad():
                w -= learning_rate * w.grad
                w.grad = None  # gradients accumulate: drop them after every update
    return w.item()


def train_quadratic(xs, ys, lr, epochs):
    x = torch.tensor(xs, dtype=dtype)
    y = torch.tensor(ys, dtype=dtype)
    w1 = torch.ones((), dtype=dtype, requires_grad=True)
    w2 = torch.ones((), dtype=dtype, requires_grad=True)
    b = torch.ones((), dtype=dtype, requires_grad=True)
    optimizer = torch.optim.SGD([w1, w2, b], lr=lr)
    for t in range(epochs):
        optimizer.zero_grad()
        y_pred = w1 * x ** 2 + w2 * x + b
        loss = (y_pred - y).pow(2).mean()
        loss.backward()
        optimizer.step()
    return w1.item(), w2.item(), b.item()
