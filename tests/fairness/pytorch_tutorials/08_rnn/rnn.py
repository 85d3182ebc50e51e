"""PyTorch tutorials style ("Learning PyTorch with Examples", the quickstart's `train_loop`, and the
char-RNN name classification tutorial that reads `nn.RNN`'s final hidden state).

Idioms reproduced: the data from `torch.randint(..., generator=g, dtype=torch.float32)` with a private
`torch.Generator().manual_seed(seed)`; the cell as two `F.linear` calls; the unrolled loop vectorised where
it can be: the input projection of every time step at once with `torch.einsum("nli,hi->nlh", ...)`, then
only the recurrence in the loop, writing each state into a preallocated `x.new_empty(...)` output;
`SimpleRNN` reading the final hidden state `hidden[0]` (equal to the last step's output for one layer);
the quickstart's `train_loop(dataloader, model, loss_fn, optimizer)` with `model.train()`,
`for batch, (X, y) in enumerate(dataloader)`, `pred = model(X)`, the quickstart's order
`loss.backward(); optimizer.step(); optimizer.zero_grad()` and its `loss: ... [current/size]` print every 100
batches; targets kept as an (N, 1) column like the
model's output; the scale folded back under `with torch.no_grad():`.
"""

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def make_counting_data(n_samples, seq_length, seed):
    g = torch.Generator().manual_seed(seed)
    X = torch.randint(0, 2, (n_samples, seq_length, 1), generator=g, dtype=torch.float32)
    y = X.sum(dim=1).squeeze(1)
    return X, y


def rnn_cell(x_t, h_prev, w_ih, w_hh, b_ih, b_hh):
    return torch.tanh(F.linear(x_t, w_ih, b_ih) + F.linear(h_prev, w_hh, b_hh))


def rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh):
    batch_size, seq_len, _ = x.shape
    hidden_size = w_hh.shape[0]
    x_proj = torch.einsum("nli,hi->nlh", x, w_ih) + b_ih  # every step's input term at once
    output = x.new_empty((batch_size, seq_len, hidden_size))
    h = h0[0]
    for t in range(seq_len):
        h = torch.tanh(x_proj[:, t] + F.linear(h, w_hh, b_hh))
        output[:, t] = h
    return output, h.unsqueeze(0)


class SimpleRNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.rnn = nn.RNN(input_size, hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        _, hidden = self.rnn(x)  # hidden: (num_layers, N, hidden_size)
        return self.fc(hidden[0])


def train_loop(dataloader, model, loss_fn, optimizer):
    size = len(dataloader.dataset)
    model.train()
    for batch, (X, y) in enumerate(dataloader):
        pred = model(X)
        loss = loss_fn(pred, y)

        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

        if batch % 100 == 0:
            loss, current = loss.item(), batch * dataloader.batch_size + len(X)
            print(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")


def train_counter(model, X, y, epochs, lr, batch_size=32):
    seq_len = X.size(1)
    dataset = TensorDataset(X, (y / seq_len).unsqueeze(1))
    dataloader = DataLoader(dataset, batch_size=batch_size, shuffle=True)
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for t in range(epochs):
        print(f"Epoch {t + 1}\n-------------------------------")
        train_loop(dataloader, model, loss_fn, optimizer)
    with torch.no_grad():
        model.fc.weight *= seq_len
        model.fc.bias *= seq_len
    return model
