"""Public checks of 08_rnn: run them with `pytest exercises/08_rnn`."""

import pytest
import torch

from grader.checks import expect, expect_shape, expect_tensor, expect_type


@pytest.mark.points(1)
def test_make_counting_data_shapes(student):
    X, y = student.make_counting_data(5, 7, seed=0)
    what = "make_counting_data(5, 7, seed=0)"
    expect_shape(X, (5, 7, 1), f"{what}[0] (X)", hint="(n_samples, seq_length, 1): one feature per time step")
    expect(X.dtype == torch.float32, f"{what}[0] (X): expected dtype torch.float32, got {X.dtype}")
    expect_tensor(y, X.sum(dim=(1, 2)), f"{what}[1] (y)", hint="y[i] = X[i].sum(), float32, shape (n_samples,)")


@pytest.mark.points(1)
def test_rnn_cell_one_step(student):
    cell = torch.nn.RNNCell(3, 4, dtype=torch.float64)
    x, h = torch.randn(2, 3, dtype=torch.float64), torch.randn(2, 4, dtype=torch.float64)
    with torch.no_grad():
        expected = cell(x, h)
        got = student.rnn_cell(x, h, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    expect_tensor(got, expected, "rnn_cell(x (2, 3), h (2, 4), nn.RNNCell(3, 4)'s weights)",
                  hint="tanh(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh)")


@pytest.mark.points(1)
def test_simple_rnn_output_shape(student):
    model = student.SimpleRNN(1, 8, 1)
    expect_type(model, torch.nn.Module, "SimpleRNN(1, 8, 1)")
    expect_shape(model(torch.randn(4, 6, 1)), (4, 1), "SimpleRNN(1, 8, 1)(x of shape (4, 6, 1))",
                 hint="nn.RNN returns (output, h_n); keep output[:, -1] and apply fc")


@pytest.mark.points(1)
def test_train_counter_returns_the_model(student):
    X = torch.randint(0, 2, (64, 10, 1)).float()
    model = student.SimpleRNN(1, 8, 1)
    trained = student.train_counter(model, X, X.sum(dim=(1, 2)), epochs=1, lr=0.01)
    expect_type(trained, torch.nn.Module, "train_counter(model, ...)", hint="return the trained model")
    expect_shape(trained(X), (64, 1), "the trained model's output on X of shape (64, 10, 1)")
