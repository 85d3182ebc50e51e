"""d2l-zh style (linear regression from scratch, and the polynomial-features fit).

Idioms reproduced: `linreg(X, w, b)` as `torch.matmul(X, w) + b`, `squared_loss` reshaping y to y_hat's
shape (without the book's `/ 2`, which would halve the gradient), `features`/`labels` matrices, a
`data_iter` of mini-batches (in the given order, not shuffled), `l.sum().backward()` followed by the
book's `sgd(params, lr, batch_size)` that updates in place under `torch.no_grad()` and zeroes the
gradients itself, a weight vector `w` of shape (2, 1) over polynomial features `[x**2, x]` plus a bias
`b` for the quadratic, default float32 tensors, and `float(...)` to hand back plain numbers.
`manual_grad` walks the computational graph of the book's backprop section (forward values kept,
then the local derivatives multiplied from the loss back).
"""

import torch


def manual_grad(x, y, w):
    # Forward pass: keep every intermediate value of the graph.
    o = x * w
    r = o - y  # the loss is l = r ** 2
    # Backward pass: local derivatives, from the loss back to w.
    dl_dr = 2 * r
    dr_do = 1
    do_dw = x
    return dl_dr * dr_do * do_dw


def linreg(X, w, b):
    return torch.matmul(X, w) + b


def squared_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2


def sgd(params, lr, batch_size):
    """Mini-batch SGD on the gradient of the summed loss."""
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


def data_iter(batch_size, features, labels):
    num_examples = len(features)
    for i in range(0, num_examples, batch_size):
        batch_indices = torch.tensor(list(range(i, min(i + batch_size, num_examples))))
        yield features[batch_indices], labels[batch_indices]


def train_linear(xs, ys, w0=1.0, lr=0.01, epochs=100):
    features = torch.tensor(xs, dtype=torch.float32).reshape(-1, 1)
    labels = torch.tensor(ys, dtype=torch.float32).reshape(-1, 1)
    w = torch.full((1, 1), float(w0), requires_grad=True)
    b = torch.zeros(1)  # this model has no bias: a constant zero
    batch_size = 1  # one update per sample
    net, loss = linreg, squared_loss
    for epoch in range(epochs):
        for X, y in data_iter(batch_size, features, labels):
            l = loss(net(X, w, b), y)
            l.sum().backward()
            sgd([w], lr, batch_size)
        with torch.no_grad():
            train_l = loss(net(features, w, b), labels)
        print(f'epoch {epoch + 1}, loss {float(train_l.mean()):f}')
    return float(w)


def train_quadratic(xs, ys, lr, epochs):
    x = torch.tensor(xs, dtype=torch.float32)
    features = torch.stack([x ** 2, x], dim=1)  # polynomial features: (N, 2)
    labels = torch.tensor(ys, dtype=torch.float32).reshape(-1, 1)
    w = torch.ones((2, 1), requires_grad=True)
    b = torch.ones(1, requires_grad=True)
    batch_size = len(features)  # full-batch gradient descent
    net, loss = linreg, squared_loss
    for epoch in range(epochs):
        for X, y in data_iter(batch_size, features, labels):
            l = loss(net(X, w, b), y)
            l.sum().backward()
            sgd([w, b], lr, batch_size)
    return float(w[0]), float(w[1]), float(b)
