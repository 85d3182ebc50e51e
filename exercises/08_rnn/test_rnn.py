"""Public checks of 08_rnn: run them with `pytest exercises/08_rnn`."""

import pytest
import torch

from grader.checks import Mistake, expect, expect_shape, expect_tensor, expect_type
from grader.i18n import _

# The recurrence is the lesson, not the dtype: values are compared at float32 precision.
TOL = dict(rtol=1e-5, atol=1e-6)


def rnn_cell_mistakes(x, h, w_ih, w_hh, b_ih, b_hh):
    """What the common mistakes make one step of the cell give."""
    both = _("both biases count: add b_ih and b_hh")
    return [
        Mistake(both, torch.tanh(x @ w_ih.T + b_ih + h @ w_hh.T)),
        Mistake(both, torch.tanh(x @ w_ih.T + h @ w_hh.T + b_hh)),
        Mistake(_("h_prev @ w_hh.T: like a Linear weight, w_hh is stored (out, in)"),
                torch.tanh(x @ w_ih.T + b_ih + h @ w_hh + b_hh)),
        Mistake(_("nn.RNN's non-linearity is tanh, not ReLU"), torch.relu(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh)),
        Mistake(_("apply tanh to the sum"), x @ w_ih.T + b_ih + h @ w_hh.T + b_hh),
    ]


def rnn_forward_mistakes(x, h0, w_ih, w_hh, b_ih, b_hh):
    """What the common mistakes make the outputs of the loop, from PyTorch's own RNN kernels."""
    x, h0 = x.detach(), h0.detach()
    weights = [w.detach() for w in (w_ih, w_hh, b_ih, b_hh)]
    batch, length, size = x.shape
    output = torch.rnn_tanh(x, h0, weights, True, 1, 0.0, False, False, True)[0]
    from_zeros = torch.rnn_tanh(x, torch.zeros_like(h0), weights, True, 1, 0.0, False, False, True)[0]
    each_from_h0 = torch.rnn_tanh_cell(x.reshape(batch * length, size), h0[0].repeat_interleave(length, dim=0),
                                       *weights).reshape(batch, length, -1)
    return [
        Mistake(_("each step must start from the hidden state the previous step produced: "
                  "h = rnn_cell(x[:, t], h, ...)"), each_from_h0),
        Mistake(_("the first step starts from h0[0], not from zeros"), from_zeros),
        Mistake(_("output[:, t] is the state after step t (h_1 ... h_L), not the one the step started from"),
                torch.cat([h0[0].unsqueeze(1), output[:, :-1]], dim=1)),
    ]


def expect_rnn_forward_result(result, batch, length, hidden, what):
    """The pair (output, h_n) of the right types and shapes; returns it."""
    __tracebackhide__ = True
    expect_type(result, (tuple, list), what, hint=_("return the pair (output, h_n)"))
    expect(len(result) == 2, _("{what}: expected the pair (output, h_n), got {n} items").format(what=what,
                                                                                           n=len(result)),
           hint=_("return the pair (output, h_n)"))
    out, h_n = result
    expect_shape(out, (batch, length, hidden), f"{what}[0] (output)",
                 hint=_("output holds the state after every step: shape (N, L, hidden)"),
                 mistakes=[Mistake(_("batch_first: stack the states on dim 1, (N, L, hidden)"),
                                   lambda shape: length != batch and shape == (length, batch, hidden))])
    h_hint = _("h_n is the last hidden state, a tensor of shape (1, N, hidden) as nn.RNN returns it")
    if isinstance(h_n, (tuple, list)):
        expect_type(h_n, torch.Tensor, f"{what}[1] (h_n)", hint=h_hint)
    expect_shape(h_n, (1, batch, hidden), f"{what}[1] (h_n)", hint=h_hint,
                 mistakes=[Mistake(_("h_n keeps nn.RNN's leading num_layers dim: h.unsqueeze(0), shape (1, N, hidden)"),
                                   (batch, hidden))])
    return out, h_n


def expect_counting_shapes(X, y, n_samples, seq_length, what):
    __tracebackhide__ = True
    expect_shape(X, (n_samples, seq_length, 1), f"{what}[0] (X)",
                 hint=_("(n_samples, seq_length, 1): one feature per time step"),
                 mistakes=[Mistake(_("add the feature dim: X has shape (n_samples, seq_length, 1), e.g. "
                                     "X.unsqueeze(-1)"), (n_samples, seq_length))])
    expect_shape(y, (n_samples,), f"{what}[1] (y)", hint=_("one count per sequence: shape (n_samples,)"),
                 mistakes=[Mistake(_("sum over the time and the feature dims: X.sum(dim=(1, 2))"), (n_samples, 1))])


@pytest.mark.points(1)
def test_make_counting_data_shapes(student):
    X, y = student.make_counting_data(5, 7, seed=0)
    what = "make_counting_data(5, 7, seed=0)"
    expect_counting_shapes(X, y, 5, 7, what)
    expect_tensor(y.double(), X.double().sum(dim=(1, 2)), f"{what}[1] (y)", hint=_("y[i] = X[i].sum()"))


@pytest.mark.points(1)
def test_make_counting_data_dtypes(student):
    X, y = student.make_counting_data(5, 7, seed=0)
    what = "make_counting_data(5, 7, seed=0)"
    for name, index, value in (("X", 0, X), ("y", 1, y)):
        expect_type(value, torch.Tensor, f"{what}[{index}] ({name})")
        expect(value.dtype == torch.float32,
               _("{what}: expected dtype torch.float32, got {dtype}").format(what=f"{what}[{index}] ({name})",
                                                                            dtype=value.dtype),
               hint=_("convert with .float(): nn.RNN's weights are float32, and float64 or integer data does not "
                      "mix with them"))


@pytest.mark.points(1)
def test_rnn_cell_one_step(student):
    cell = torch.nn.RNNCell(3, 4, dtype=torch.float64)
    x, h = torch.randn(2, 3, dtype=torch.float64), torch.randn(2, 4, dtype=torch.float64)
    weights = [w.detach().clone() for w in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)]
    with torch.no_grad():
        got = student.rnn_cell(x.clone(), h.clone(), *[w.clone() for w in weights])
        expected = cell(x, h)
    expect_tensor(got, expected, "rnn_cell(x (2, 3), h (2, 4), nn.RNNCell(3, 4)'s weights)", **TOL,
                  hint=_("tanh(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh)"), mistakes=rnn_cell_mistakes(x, h, *weights))


@pytest.mark.points(1)
def test_rnn_forward_on_a_short_sequence(student):
    rnn = torch.nn.RNN(3, 5, batch_first=True)
    x, h0 = torch.randn(2, 4, 3), torch.randn(1, 2, 5)
    weights = [w.detach().clone() for w in (rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0)]
    with torch.no_grad():
        result = student.rnn_forward(x.clone(), h0.clone(), *[w.clone() for w in weights])
        expected_out, expected_h = rnn(x, h0)
    what = "rnn_forward(x (2, 4, 3), h0 (1, 2, 5), nn.RNN(3, 5)'s weights)"
    out, h_n = expect_rnn_forward_result(result, 2, 4, 5, what)
    expect_tensor(out, expected_out, f"{what}[0] (output)", **TOL, mistakes=rnn_forward_mistakes(x, h0, *weights),
                  hint=_("h = h0[0]; for every t: h = rnn_cell(x[:, t], h, ...), and output[:, t] = h"))
    expect_tensor(h_n, expected_h, f"{what}[1] (h_n)", **TOL, hint=_("h_n is output[:, -1], the state after the "
                                                                     "last step, with a leading dim of 1"))


@pytest.mark.points(1)
def test_simple_rnn_output_shape(student):
    model = student.SimpleRNN(1, 8, 1)
    expect_type(model, torch.nn.Module, "SimpleRNN(1, 8, 1)")
    expect_shape(model(torch.randn(4, 6, 1)), (4, 1), "SimpleRNN(1, 8, 1)(x of shape (4, 6, 1))",
                 hint=_("nn.RNN returns (output, h_n); keep output[:, -1] and apply fc"),
                 mistakes=simple_rnn_shape_mistakes(4, 6, 1))


def simple_rnn_shape_mistakes(batch, length, output_size):
    return [
        Mistake(_("h_n has a leading num_layers dim: use h_n[-1] (or output[:, -1]) before fc"),
                (1, batch, output_size)),
        Mistake(_("fc was applied to every step: keep only the last one, output[:, -1]"),
                (batch, length, output_size)),
    ]


@pytest.mark.points(1)
def test_train_counter_returns_the_model(student):
    X = torch.randint(0, 2, (64, 10, 1)).float()
    model = student.SimpleRNN(1, 8, 1)
    trained = student.train_counter(model, X.clone(), X.sum(dim=(1, 2)), epochs=1, lr=0.01)
    expect_type(trained, torch.nn.Module, "train_counter(model, ...)", hint=_("return the trained model"))
    expect_shape(trained(X), (64, 1), _("the trained model's output on X of shape (64, 10, 1)"))
