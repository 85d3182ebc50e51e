"""d2l-zh style (the book's "RNN from scratch" and "concise RNN" sections, on the course's counting task).

Idioms reproduced: the data drawn with `torch.bernoulli` from a private `torch.Generator` and summed with
`X.sum(axis=...)`; the cell as `torch.tanh(torch.mm(X, W_xh) + torch.mm(H, W_hh) + b)` (here with nn.RNN's
(hidden, input) weights, hence `.T`); the unrolled loop over `inputs` laid out time first,
`for X in inputs:`, with the state unpacked as `H, = state` and the outputs joined with
`torch.cat(outputs, dim=0)` into the book's (steps * batch, hidden) block before being reshaped;
`Y, state = self.rnn(X)`; training with the book's `load_array`, `Accumulator`, `nn.MSELoss(reduction='none')`
summed with `l.mean().backward()`, `updater` as the optimizer, the book's `grad_clipping(net, theta)` at 1
before every step, one `print(f'epoch ..., loss ...')` per epoch, and the scale folded into the Linear layer
through `.data`; the model is left in train mode.
"""

import math

import torch
from torch import nn
from torch.utils import data


def make_counting_data(n_samples, seq_length, seed):
    generator = torch.Generator().manual_seed(seed)
    X = torch.bernoulli(torch.full((n_samples, seq_length, 1), 0.5), generator=generator)
    y = X.sum(axis=(1, 2))
    return X, y


def rnn_cell(x_t, h_prev, w_ih, w_hh, b_ih, b_hh):
    return torch.tanh(torch.mm(x_t, w_ih.T) + b_ih + torch.mm(h_prev, w_hh.T) + b_hh)


def rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh):
    inputs = x.permute(1, 0, 2)  # (num_steps, batch_size, input_size), the book's layout
    H, = h0
    outputs = []
    for X in inputs:
        H = rnn_cell(X, H, w_ih, w_hh, b_ih, b_hh)
        outputs.append(H)
    Y = torch.cat(outputs, dim=0)  # (num_steps * batch_size, num_hiddens)
    return Y.reshape(len(outputs), -1, H.shape[-1]).permute(1, 0, 2), H.unsqueeze(0)


class SimpleRNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.rnn = nn.RNN(input_size, hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, output_size)

    def forward(self, X):
        Y, state = self.rnn(X)
        return self.fc(Y[:, -1, :])


class Accumulator:
    """Sums over n variables."""

    def __init__(self, n):
        self.data = [0.0] * n

    def add(self, *args):
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def __getitem__(self, idx):
        return self.data[idx]


def load_array(data_arrays, batch_size, is_train=True):
    """A PyTorch data iterator over tensors."""
    dataset = data.TensorDataset(*data_arrays)
    return data.DataLoader(dataset, batch_size, shuffle=is_train)


def grad_clipping(net, theta):
    """Rescale the gradients so that their global norm is at most theta."""
    params = [p for p in net.parameters() if p.requires_grad]
    norm = torch.sqrt(sum(torch.sum((p.grad ** 2)) for p in params))
    if norm > theta:
        for param in params:
            param.grad[:] *= theta / norm


def train_counter(model, X, y, epochs, lr, batch_size=32):
    num_steps = X.shape[1]
    train_iter = load_array((X, y / num_steps), batch_size)
    loss = nn.MSELoss(reduction='none')
    updater = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for epoch in range(epochs):
        metric = Accumulator(2)  # sum of the squared errors, number of samples
        for X_batch, y_batch in train_iter:
            y_hat = model(X_batch)
            l = loss(y_hat.reshape(y_batch.shape), y_batch)
            updater.zero_grad()
            l.mean().backward()
            grad_clipping(model, 1)
            updater.step()
            metric.add(l.sum(), y_batch.numel())
        print(f'epoch {epoch + 1}, loss {metric[0] / metric[1]:f}, rmse in counts '
              f'{math.sqrt(metric[0] / metric[1]) * num_steps:f}')
    model.fc.weight.data *= num_steps
    model.fc.bias.data *= num_steps
    return model
