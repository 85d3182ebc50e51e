"""Course notes style (the notes' linear model, gradient descent and SGD scripts, turned into functions).

Idioms reproduced: `forward` and a per-sample `loss(x, y)` written as `(y_pred - y) * (y_pred - y)`,
Python loops over `zip(x_data, y_data)` with `l_sum += loss_val`, the notes' `cost` and per-sample
`gradient` helpers, `epoch_list`/`cost_list` and `w_list`/`mse_list` built with `append`,
`w -= 0.01 * grad_val`-style updates written as `w = w - lr * grad`, and the notes' progress prints
('w=', 'MSE=', 'epoch:', '\\tgrad:', 'progress:').
"""


def forward(x, w):
    return x * w


def loss(x, y, w):
    y_pred = forward(x, w)
    return (y_pred - y) * (y_pred - y)


def mse(xs, ys, w):
    l_sum = 0
    for x_val, y_val in zip(xs, ys):
        loss_val = loss(x_val, y_val, w)
        l_sum += loss_val
    return l_sum / len(xs)


def grid_search(xs, ys, ws):
    w_list = []
    mse_list = []
    for w in ws:
        print('w=', w)
        l_sum = 0
        for x_val, y_val in zip(xs, ys):
            y_pred_val = forward(x_val, w)
            loss_val = loss(x_val, y_val, w)
            l_sum += loss_val
            print('\t', x_val, y_val, y_pred_val, loss_val)
        print('MSE=', l_sum / len(xs))
        w_list.append(w)
        mse_list.append(l_sum / len(xs))
    return w_list, mse_list


def cost(xs, ys, w):
    cost = 0
    for x, y in zip(xs, ys):
        y_pred = forward(x, w)
        cost += (y_pred - y) ** 2
    return cost / len(xs)


def gradient(xs, ys, w):
    grad = 0
    for x, y in zip(xs, ys):
        grad += 2 * x * (x * w - y)
    return grad / len(xs)


def sample_gradient(x, y, w):
    return 2 * x * (x * w - y)


def gradient_descent(xs, ys, w0, lr, epochs):
    w = w0
    epoch_list = []
    cost_list = []
    for epoch in range(epochs):
        cost_val = cost(xs, ys, w)
        grad_val = gradient(xs, ys, w)
        w = w - lr * grad_val
        print('epoch:', epoch, 'w=', w, 'loss=', cost_val)
        epoch_list.append(epoch)
        cost_list.append(cost_val)
    return w, cost_list


def sgd(xs, ys, w0, lr, epochs):
    w = w0
    loss_list = []
    for epoch in range(epochs):
        for x, y in zip(xs, ys):
            l = loss(x, y, w)  # this sample's loss, before the update
            grad = sample_gradient(x, y, w)
            w = w - lr * grad  # update w after every sample
            print("\tgrad:", x, y, grad)
            loss_list.append(l)
        print("progress:", epoch, "w=", w, "loss=", l)
    return w, loss_list
