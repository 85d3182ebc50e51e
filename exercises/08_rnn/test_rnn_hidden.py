"""Hidden checks of 08_rnn: graded by the instructor, never shipped to students."""

import contextlib
import random
from unittest import mock

import numpy as np
import pytest
import torch
from torch import nn

from grader.checks import (
    CheckFailed, expect, expect_equal, expect_number, expect_shape, expect_tensor, expect_type, parameter_count,
)
from grader.data import counting

MSE_BAR = 0.5  # test MSE in counts; the reference reaches 0.012 to 0.081 (seeds 0-10); predicting the mean gives 2.2
BY_HAND = "write the RNN formula yourself: nn.RNN, nn.RNNCell and torch.rnn_tanh(_cell) are not allowed here"
DOUBLE = torch.float64


@contextlib.contextmanager
def no_builtin_rnn():
    """PyTorch's own RNN kernels (behind nn.RNN and nn.RNNCell) fail while the student's code runs."""

    def refuse(*args, **kwargs):
        raise CheckFailed(BY_HAND)

    with contextlib.ExitStack() as stack:
        for owner in (torch, torch._VF):
            for name in ("rnn_tanh", "rnn_tanh_cell", "rnn_relu", "rnn_relu_cell"):
                stack.enter_context(mock.patch.object(owner, name, refuse))
        yield


def _global_random_state():
    numpy_state = np.random.get_state()
    return torch.get_rng_state().tolist(), numpy_state[1].tolist(), numpy_state[2:], random.getstate()


def _weights(module, suffix=""):
    return tuple(getattr(module, name + suffix) for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))


class _Counter(nn.Module):
    """The grader's own SimpleRNN(1, 32, 1), so that train_counter is graded on its own."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(1, 32, batch_first=True)
        self.fc = nn.Linear(32, 1)

    def forward(self, x):
        return self.fc(self.rnn(x)[0][:, -1])


@pytest.mark.points(2)
@pytest.mark.parametrize("n_samples, seq_length", [(2000, 10), (300, 20), (1, 3)])
def test_make_counting_data_values(student, n_samples, seq_length):
    X, y = student.make_counting_data(n_samples, seq_length, seed=3)
    what = f"make_counting_data({n_samples}, {seq_length}, seed=3)"
    expect_shape(X, (n_samples, seq_length, 1), f"{what}[0] (X)")
    expect(X.dtype == torch.float32, f"{what}[0] (X): expected dtype torch.float32, got {X.dtype}")
    expect(bool(((X == 0) | (X == 1)).all()), f"{what}[0] (X): every entry must be 0.0 or 1.0")
    expect_tensor(y, X.sum(dim=(1, 2)), f"{what}[1] (y)", hint="y[i] is the number of ones in X[i], float32")
    if n_samples * seq_length >= 5000:
        ones = float(X.mean())
        expect(0.45 <= ones <= 0.55, f"{what}: {ones:.1%} of the entries are ones, expected about half",
               hint="draw each entry 0 or 1 with probability 1/2")


@pytest.mark.points(2)
def test_make_counting_data_is_reproducible(student):
    X1, y1 = student.make_counting_data(100, 10, seed=7)
    X2, y2 = student.make_counting_data(100, 10, seed=7)
    expect_tensor(X2, X1, "make_counting_data(100, 10, seed=7)[0], called twice",
                  hint="the same seed must give the same data")
    expect_tensor(y2, y1, "make_counting_data(100, 10, seed=7)[1], called twice")
    X3, _ = student.make_counting_data(100, 10, seed=8)
    expect_shape(X3, (100, 10, 1), "make_counting_data(100, 10, seed=8)[0]")
    expect(not bool(torch.equal(X1, X3)), "make_counting_data gives the same X for seed=7 and seed=8",
           hint="build the generator from the seed argument")


@pytest.mark.points(1)
def test_make_counting_data_leaves_the_global_random_state_alone(student):
    before = _global_random_state()
    X, _ = student.make_counting_data(50, 10, seed=11)
    expect_shape(X, (50, 10, 1), "make_counting_data(50, 10, seed=11)[0]")
    expect(_global_random_state() == before,
           "make_counting_data changed the global random state (torch, NumPy or random)",
           hint="use a private generator: np.random.default_rng(seed) or torch.Generator().manual_seed(seed)")


@pytest.mark.points(2)
@pytest.mark.parametrize("batch, input_size, hidden", [(4, 3, 5), (1, 1, 2), (6, 7, 3)])
def test_rnn_cell_matches_nn_rnn_cell(student, batch, input_size, hidden):
    cell = nn.RNNCell(input_size, hidden, dtype=DOUBLE)
    x = torch.randn(batch, input_size, dtype=DOUBLE, requires_grad=True)
    h = torch.randn(batch, hidden, dtype=DOUBLE, requires_grad=True)
    expected = cell(x, h)
    with no_builtin_rnn():
        got = student.rnn_cell(x, h, *_weights(cell))
    what = f"rnn_cell(x ({batch}, {input_size}), h ({batch}, {hidden}), nn.RNNCell's weights)"
    expect_tensor(got, expected, what, rtol=1e-10, atol=1e-12, hint="tanh(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh)")
    upstream = torch.randn_like(expected)
    inputs = (x, h, *_weights(cell))
    expect(got.requires_grad, f"{what}: the result is not connected to the autograd graph")
    want = torch.autograd.grad(expected, inputs, upstream)
    have = torch.autograd.grad(got, inputs, upstream, allow_unused=True)
    for name, g, e in zip(("x_t", "h_prev", "w_ih", "w_hh", "b_ih", "b_hh"), have, want):
        expect(g is not None, f"{what}: no gradient reaches {name}", hint="every argument takes part in the formula")
        expect_tensor(g, e, f"gradient of {what} with respect to {name}", rtol=1e-9, atol=1e-12)


@pytest.mark.points(3)
@pytest.mark.parametrize("batch, length, input_size, hidden", [(4, 7, 3, 5), (2, 12, 1, 8), (1, 1, 2, 2)])
def test_rnn_forward_matches_nn_rnn(student, batch, length, input_size, hidden):
    rnn = nn.RNN(input_size, hidden, batch_first=True, dtype=DOUBLE)
    x = torch.randn(batch, length, input_size, dtype=DOUBLE, requires_grad=True)
    h0 = torch.randn(1, batch, hidden, dtype=DOUBLE, requires_grad=True)
    expected_out, expected_h = rnn(x, h0)
    weights = _weights(rnn, "_l0")
    with no_builtin_rnn():
        result = student.rnn_forward(x, h0, *weights)
    what = f"rnn_forward(x ({batch}, {length}, {input_size}), h0 (1, {batch}, {hidden}), nn.RNN's weights)"
    expect_type(result, (tuple, list), what, hint="return the pair (output, h_n)")
    expect_equal(len(result), 2, f"{what}: the number of results", hint="return the pair (output, h_n)")
    out, h_n = result
    expect_shape(out, (batch, length, hidden), f"{what}[0] (output)", hint="stack the hidden states on dim 1")
    expect_tensor(out[:, :1], expected_out[:, :1], f"{what}[0] (output) at step 0", rtol=1e-10, atol=1e-12,
                  hint="the first step starts from h0[0]")
    expect_tensor(out, expected_out, f"{what}[0] (output)", rtol=1e-10, atol=1e-12,
                  hint="each step must start from the hidden state the previous step produced")
    expect_tensor(h_n, expected_h, f"{what}[1] (h_n)", rtol=1e-10, atol=1e-12,
                  hint="h_n is the last hidden state, shape (1, N, hidden) as nn.RNN returns it")
    upstream_out, upstream_h = torch.randn_like(expected_out), torch.randn_like(expected_h)
    inputs = (x, h0, *weights)
    want = torch.autograd.grad((expected_out, expected_h), inputs, (upstream_out, upstream_h))
    expect(out.requires_grad and h_n.requires_grad, f"{what}: the results are not connected to the autograd graph")
    have = torch.autograd.grad((out, h_n), inputs, (upstream_out, upstream_h), allow_unused=True)
    for name, g, e in zip(("x", "h0", "w_ih", "w_hh", "b_ih", "b_hh"), have, want):
        expect(g is not None, f"{what}: no gradient reaches {name}")
        expect_tensor(g, e, f"gradient of {what} with respect to {name}", rtol=1e-9, atol=1e-12)


@pytest.mark.points(3)
@pytest.mark.parametrize("input_size, hidden, output_size", [(1, 6, 1), (2, 5, 3)])
def test_simple_rnn_reads_the_last_time_step(student, input_size, hidden, output_size):
    model = student.SimpleRNN(input_size, hidden, output_size).double()
    x = torch.randn(4, 9, input_size, dtype=DOUBLE)
    expected = model.fc(model.rnn(x)[0][:, -1])
    what = f"SimpleRNN({input_size}, {hidden}, {output_size})(x of shape (4, 9, {input_size}))"
    expect_tensor(model(x), expected, what, rtol=1e-10, atol=1e-12,
                  hint="apply fc to output[:, -1], the hidden state after the LAST step")


@pytest.mark.points(1)
def test_simple_rnn_shape_and_parameter_count(student):
    model = student.SimpleRNN(1, 32, 1)
    expect_shape(model(torch.randn(3, 10, 1)), (3, 1), "SimpleRNN(1, 32, 1)(x of shape (3, 10, 1))")
    expect_equal(parameter_count(model), 1153, "SimpleRNN(1, 32, 1)'s parameter count",
                 hint="nn.RNN(1, 32) 1,120 + Linear(32, 1) 33")


@pytest.mark.points(4)
@pytest.mark.timeout(120)
def test_train_counter_counts_held_out_sequences(student):
    X, y = counting(train=True)
    model = _Counter()
    trained = student.train_counter(model, X, y, epochs=5, lr=0.01)
    expect(isinstance(trained, nn.Module), "train_counter(...) must return the trained model")
    X_test, y_test = counting(train=False)
    with torch.no_grad():
        predicted = trained(X_test)
    expect_shape(predicted, (len(y_test), 1), "the trained model's output on the test sequences (200, 10, 1)")
    predicted = predicted[:, 0]
    mse = expect_number(((predicted - y_test) ** 2).mean(), "test MSE")
    mean, spread = float(predicted.mean()), float(predicted.std())
    hint = "train on y / L with Adam on mini-batches, then multiply fc's weight and bias by L"
    if abs(mean - float(y_test.mean()) / X.shape[1]) < 0.5:
        hint = (f"the predictions average {mean:.2f}, the counts divided by L: "
                "multiply fc's weight and bias by L before returning")
    elif spread < 0.3:
        hint = (f"the model predicts about {mean:.2f} for every sequence (std {spread:.3f}): its tanh units saturated; "
                "scale the targets to [0, 1]")
    expect(mse <= MSE_BAR, f"test MSE after train_counter(epochs=5, lr=0.01) is {mse:.3f} counts², "
           f"expected at most {MSE_BAR}", hint=hint)
