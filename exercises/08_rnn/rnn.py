"""08_rnn: a recurrent network by hand, then nn.RNN taught to count the ones in a 0/1 sequence.

Fill in every function marked TODO; `pytest exercises/08_rnn` checks your work. See README.md.
"""

import numpy as np  # noqa: F401  (you may need it)
import torch  # noqa: F401
import torch.nn.functional as F  # noqa: F401
from torch import nn


def make_counting_data(n_samples, seq_length, seed):
    """Random 0/1 sequences and how many ones each holds.

    X: (n_samples, seq_length, 1) float32, every entry 0.0 or 1.0 (each with probability 1/2).
    y: (n_samples,) float32, y[i] = X[i].sum().
    The same seed gives the same data; use a private generator (np.random.default_rng(seed) or
    torch.Generator().manual_seed(seed)), never the global one.
    """
    # TODO: Implement for 08_rnn.
    raise NotImplementedError("08_rnn: implement make_counting_data")


def rnn_cell(x_t, h_prev, w_ih, w_hh, b_ih, b_hh):
    """One step of a tanh RNN: h_t = tanh(x_t W_ih^T + b_ih + h_prev W_hh^T + b_hh).

    x_t (N, input_size), h_prev (N, hidden), w_ih (hidden, input_size), w_hh (hidden, hidden),
    b_ih and b_hh (hidden,). Returns h_t (N, hidden). Write the formula; do not call nn.RNN or nn.RNNCell.
    """
    # TODO: Implement for 08_rnn.
    raise NotImplementedError("08_rnn: implement rnn_cell")


def rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh):
    """The unrolled loop of nn.RNN(batch_first=True) with one layer: h_t = rnn_cell(x[:, t], h_{t-1}, ...).

    x (N, L, input_size), h0 (1, N, hidden) as nn.RNN takes it.
    Returns (output, h_n): output (N, L, hidden) stacks h_1 ... h_L; h_n (1, N, hidden) is h_L.
    """
    # TODO: Implement for 08_rnn.
    raise NotImplementedError("08_rnn: implement rnn_forward")


class SimpleRNN(nn.Module):
    """nn.RNN (batch_first) reads the sequence; a Linear layer maps the LAST step's hidden state to the output."""

    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.rnn = nn.RNN(input_size, hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        """x (N, L, input_size) -> fc(hidden state after the last step): (N, output_size)."""
        # TODO: Implement for 08_rnn.
        raise NotImplementedError("08_rnn: implement SimpleRNN.forward")


def train_counter(model, X, y, epochs, lr, batch_size=32):
    """Teach `model` (a SimpleRNN with output_size 1) to count the ones; return the trained model.

    X (N, L, 1) float32, y (N,) float32 counts. Train with torch.optim.Adam(model.parameters(), lr=lr) and MSE
    on shuffled mini-batches of `batch_size`, against the scaled targets y / L (L = X.shape[1]). Before
    returning, multiply model.fc's weight and bias by L, so that model(X)[:, 0] predicts counts in the original
    units.
    """
    # TODO: Implement for 08_rnn.
    raise NotImplementedError("08_rnn: implement train_counter")
