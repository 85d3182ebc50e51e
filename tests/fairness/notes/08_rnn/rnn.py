"""Course-notes style (the notes' RNN counting example, fixed as the README teaches).

Idioms reproduced: the notes' `generate_data` loop, one sample at a time, appending each `seq` and its
`target = np.sum(seq)` to Python lists (from a private `np.random.default_rng(seed)` instead of the notes'
global `np.random.randint`), then `torch.FloatTensor(...).unsqueeze(2)`; the cell computed per sample in a
Python loop with `torch.matmul` and stacked; the unrolled loop filling a preallocated
`torch.zeros(batch_size, seq_len, hidden_size)` output (float32, PyTorch's default dtype) step by step;
`super(SimpleRNN, self).__init__()` and `out = self.fc(out[:, -1, :])`; training with `TensorDataset` and
`DataLoader(dataset=..., shuffle=True)`, `for i, data in enumerate(train_loader, 0)`, `inputs, labels = data`,
`outputs = model(inputs).squeeze()`, `criterion = nn.MSELoss()`, `optimizer.zero_grad()` after the forward,
`running_loss += loss.item()` and a `print('[%d] loss: %.4f' % ...)` per epoch; the scale folded in with
`w.data = w.data * L`; and `model.eval()` at the end, as the notes do before testing.
"""

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset


def make_counting_data(n_samples, seq_length, seed):
    rng = np.random.default_rng(seed)
    data = []
    targets = []
    for _ in range(n_samples):
        seq = rng.integers(0, 2, size=seq_length)  # a random 0/1 sequence
        target = np.sum(seq)  # the number of ones in it
        data.append(seq)
        targets.append(target)
    X = torch.FloatTensor(np.array(data)).unsqueeze(2)  # add the feature dim
    y = torch.FloatTensor(np.array(targets))
    return X, y


def rnn_cell(x_t, h_prev, w_ih, w_hh, b_ih, b_hh):
    batch_size = x_t.size(0)
    h_list = []
    for i in range(batch_size):
        h = torch.tanh(torch.matmul(w_ih, x_t[i]) + b_ih + torch.matmul(w_hh, h_prev[i]) + b_hh)
        h_list.append(h)
    return torch.stack(h_list)


def rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh):
    batch_size, seq_len = x.size(0), x.size(1)
    hidden_size = w_hh.size(0)
    output = torch.zeros(batch_size, seq_len, hidden_size, device=x.device)
    h = h0[0]
    for t in range(seq_len):
        h = rnn_cell(x[:, t, :], h, w_ih, w_hh, b_ih, b_hh)
        output[:, t, :] = h
    h_n = h.unsqueeze(0)
    return output, h_n


class SimpleRNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super(SimpleRNN, self).__init__()
        self.rnn = nn.RNN(input_size, hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        # x shape: (batch, seq_len, input_size)
        out, _ = self.rnn(x)
        # out shape: (batch, seq_len, hidden_size); only the last step has seen the whole sequence
        out = self.fc(out[:, -1, :])
        return out


def train_counter(model, X, y, epochs, lr, batch_size=32):
    seq_length = X.size(1)
    train_dataset = TensorDataset(X, y / seq_length)  # targets scaled to [0, 1]
    train_loader = DataLoader(dataset=train_dataset, batch_size=batch_size, shuffle=True)
    criterion = nn.MSELoss()
    optimizer = optim.Adam(model.parameters(), lr=lr)

    for epoch in range(epochs):
        running_loss = 0.0
        for i, data in enumerate(train_loader, 0):
            inputs, labels = data
            outputs = model(inputs).squeeze()
            loss = criterion(outputs, labels)

            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

            running_loss += loss.item()
        print('[%d] loss: %.4f' % (epoch + 1, running_loss / len(train_loader)))

    # the model predicts count / seq_length: fold the scale into the last Linear layer
    model.fc.weight.data = model.fc.weight.data * seq_length
    model.fc.bias.data = model.fc.bias.data * seq_length
    model.eval()
    return model
