"""Course notes style (the notes' back-propagation script with `w.requires_grad = True`).

Idioms reproduced: `w = torch.tensor([1.0])`-style one-element float32 tensors with
`w.requires_grad = True` set afterwards, `forward(x)`/`loss(x, y)` helpers closing over the weights,
`l = loss(x, y)` then `l.backward()`, the update `w.data = w.data - lr * w.grad.data`, the reset
`w.grad.data.zero_()`, `print('\\tgrad:', x, y, w.grad.item())` and `print('progress:', epoch, l.item())`,
`x_data`/`y_data` names, a per-sample Python loop that sums the batch loss for the quadratic fit, and
`.item()` to hand back plain numbers. `manual_grad` is the notes' `2*x*(x*w - y)` with the chain rule's
factors named.
"""

import torch


def manual_grad(x, y, w):
    y_pred = x * w
    dloss_dy_pred = 2 * (y_pred - y)  # loss = (y_pred - y) ** 2
    dy_pred_dw = x  # y_pred = x * w
    return dloss_dy_pred * dy_pred_dw


def train_linear(xs, ys, w0=1.0, lr=0.01, epochs=100):
    x_data, y_data = xs, ys
    w = torch.tensor([w0])
    w.requires_grad = True

    def forward(x):
        return x * w

    def loss(x, y):
        y_pred = forward(x)
        return (y_pred - y) ** 2

    print("predict (before training)", 4, forward(4).item())
    for epoch in range(epochs):
        for x, y in zip(x_data, y_data):
            l = loss(x, y)
            l.backward()
            print('\tgrad:', x, y, w.grad.item())
            w.data = w.data - lr * w.grad.data
            w.grad.data.zero_()
        print('progress:', epoch, l.item())
    print("predict (after training)", 4, forward(4).item())
    return w.item()


def train_quadratic(xs, ys, lr, epochs):
    x_data, y_data = xs, ys
    w1 = torch.tensor([1.0])
    w1.requires_grad = True
    w2 = torch.tensor([1.0])
    w2.requires_grad = True
    b = torch.tensor([1.0])
    b.requires_grad = True

    def forward(x):
        return w1 * x ** 2 + w2 * x + b

    for epoch in range(epochs):
        l = 0
        for x, y in zip(x_data, y_data):
            l = l + (forward(x) - y) ** 2
        l = l / len(x_data)  # the mean squared error over all the samples
        l.backward()
        w1.data = w1.data - lr * w1.grad.data
        w2.data = w2.data - lr * w2.grad.data
        b.data = b.data - lr * b.grad.data
        w1.grad.data.zero_()
        w2.grad.data.zero_()
        b.grad.data.zero_()
        print('progress:', epoch, l.item())
    return w1.item(), w2.item(), b.item()
