"""08_rnn: a recurrent network by hand, then nn.RNN taught to count the ones in a 0/1 sequence."""

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def make_counting_data(n_samples, seq_length, seed):
    """Random 0/1 sequences X (n_samples, seq_length, 1) float32 and their counts of ones y (n_samples,) float32."""
    rng = np.random.default_rng(seed)  # a private generator: the global random state is left alone
    bits = rng.integers(0, 2, size=(n_samples, seq_length))
    X = torch.from_numpy(bits).float().unsqueeze(-1)
    y = X.sum(dim=(1, 2))
    return X, y


def rnn_cell(x_t, h_prev, w_ih, w_hh, b_ih, b_hh):
    """One step: h_t = tanh(x_t W_ih^T + b_ih + h_prev W_hh^T + b_hh)."""
    return torch.tanh(x_t @ w_ih.T + b_ih + h_prev @ w_hh.T + b_hh)


def rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh):
    """Unroll rnn_cell over x (N, L, input_size) from h0 (1, N, hidden).

    Returns (output (N, L, hidden), h_n (1, N, hidden)), as nn.RNN(batch_first=True) does.
    """
    h = h0[0]
    outputs = []
    for t in range(x.shape[1]):
        h = rnn_cell(x[:, t], h, w_ih, w_hh, b_ih, b_hh)  # the new state feeds the next step
        outputs.append(h)
    return torch.stack(outputs, dim=1), h.unsqueeze(0)


class SimpleRNN(nn.Module):
    """nn.RNN (batch_first) reads the sequence; a Linear layer maps the last hidden state to the output."""

    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.rnn = nn.RNN(input_size, hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        out, _ = self.rnn(x)  # (N, L, hidden): the hidden state after every step
        return self.fc(out[:, -1])  # only the last step has seen the whole sequence


def train_counter(model, X, y, epochs, lr, batch_size=32):
    """Adam on mini-batches, MSE against y / seq_length; returns the model, predicting counts in original units."""
    scale = X.shape[1]  # the largest possible count: targets land in [0, 1]
    targets = y / scale
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(X))
        for start in range(0, len(X), batch_size):
            batch = order[start : start + batch_size]
            optimizer.zero_grad()
            loss = F.mse_loss(model(X[batch]).squeeze(-1), targets[batch])
            loss.backward()
            optimizer.step()
    # model predicts count / scale; a Linear layer absorbs the factor, so it now predicts counts.
    with torch.no_grad():
        model.fc.weight.mul_(scale)
        model.fc.bias.mul_(scale)
    return model
