"""01_linear_model: the linear model y_hat = x * w, its mean squared error, and gradient descent by hand."""


def forward(x, w):
    """The model's prediction: y_hat = x * w."""
    return x * w


def mse(xs, ys, w):
    """Mean squared error: (1/N) * sum of (x*w - y)**2 over the data."""
    squared = 0.0
    for x, y in zip(xs, ys):
        squared += (forward(x, w) - y) ** 2
    return squared / len(xs)


def grid_search(xs, ys, ws):
    """Try every w in ws; return the ws tried and the MSE of each."""
    w_list, mse_list = [], []
    for w in ws:
        w_list.append(w)
        mse_list.append(mse(xs, ys, w))
    return w_list, mse_list


def gradient(xs, ys, w):
    """d(mse)/dw = (1/N) * sum of 2 * x * (x*w - y)."""
    grad = 0.0
    for x, y in zip(xs, ys):
        grad += 2 * x * (forward(x, w) - y)
    return grad / len(xs)


def gradient_descent(xs, ys, w0, lr, epochs):
    """One update per epoch, with the gradient of the MSE over all the data."""
    w = w0
    cost_history = []
    for _ in range(epochs):
        cost_history.append(mse(xs, ys, w))  # the cost before this epoch's update
        w -= lr * gradient(xs, ys, w)
    return w, cost_history


def sgd(xs, ys, w0, lr, epochs):
    """One update per sample, in the order given, with the gradient of that sample's loss alone."""
    w = w0
    loss_history = []
    for _ in range(epochs):
        for x, y in zip(xs, ys):
            loss_history.append((forward(x, w) - y) ** 2)  # this sample's loss, before its update
            w -= lr * gradient([x], [y], w)  # a data set of one sample: its own gradient
    return w, loss_history
