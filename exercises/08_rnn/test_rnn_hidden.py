"""Hidden checks of 08_rnn: graded by the instructor, never shipped to students."""

import contextlib
import random
from unittest import mock

import numpy as np
import pytest
import torch
from torch import nn
from torch.optim.optimizer import register_optimizer_step_post_hook

from grader.checks import (
    public_checks,
    CheckFailed, Mistake, expect, expect_at_most, expect_equal, expect_number, expect_shape, expect_tensor,
    expect_type, parameter_count,
)
from grader.data import counting
from grader.i18n import _

# The mistakes and the shapes of the results are the public checks' own.
public = public_checks(__file__)

MSE_BAR = 0.5  # test MSE in counts; the reference reaches 0.012 to 0.081 (seeds 0-10); predicting the mean gives 2.2
EPOCHS = 5
DOUBLE = torch.float64
TOL = public.TOL
GRAD_TOL = dict(rtol=1e-4, atol=1e-5)  # a gradient sums many float32 products
IN_GRAPH = _("every argument takes part in the result, and stays in the autograd graph (no .detach() or .data)")


@contextlib.contextmanager
def no_builtin_rnn():
    """PyTorch's own RNN kernels (behind nn.RNN and nn.RNNCell) fail while the student's code runs."""

    def refuse(*args, **kwargs):
        raise CheckFailed(_("write the RNN formula yourself: nn.RNN, nn.RNNCell and torch.rnn_tanh(_cell) are not "
                            "allowed here"))

    with contextlib.ExitStack() as stack:
        for owner in (torch, torch._VF):
            for name in ("rnn_tanh", "rnn_tanh_cell", "rnn_relu", "rnn_relu_cell"):
                stack.enter_context(mock.patch.object(owner, name, refuse))
        yield


def _global_random_state():
    numpy_state = np.random.get_state()
    return torch.get_rng_state().tolist(), numpy_state[1].tolist(), numpy_state[2:], random.getstate()


def _weights(module, suffix=""):
    return [getattr(module, name + suffix).detach() for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]


def _detached_between_steps(x, h0, w_ih, w_hh, b_ih, b_hh):
    """(output, h_n) of the loop with the state cut from the graph between steps: truncated backpropagation."""
    h, states = h0[0], []
    for t in range(x.shape[1]):
        h = torch.tanh(x[:, t] @ w_ih.T + b_ih + h.detach() @ w_hh.T + b_hh)
        states.append(h)
    return torch.stack(states, dim=1), h.unsqueeze(0)


def _leaves(*tensors):
    """Fresh copies that require grad: the student's own inputs, or the oracle's."""
    return [t.detach().clone().requires_grad_() for t in tensors]


class _Counter(nn.Module):
    """The grader's own SimpleRNN(1, 32, 1), so that train_counter is graded on its own. It notes the mean of
    its outputs while gradients are on (in training)."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(1, 32, batch_first=True)
        self.fc = nn.Linear(32, 1)
        self.training_outputs = []

    def forward(self, x):
        out = self.fc(self.rnn(x)[0][:, -1])
        if torch.is_grad_enabled():
            self.training_outputs.append(float(out.detach().mean()))
        return out


class _TrainingLog:
    """What a training function did with a model: the optimizers made for it (type and settings), the steps
    taken, and how often a backward pass found the last step's gradient still in .grad (never zeroed)."""

    def __init__(self):
        self.optimizers = []
        self.steps = 0
        self.kept = 0
        self.reset = 0
        self._after_step = None  # the probed parameter's gradient at the last step, until the next backward


@contextlib.contextmanager
def _watch_training(model):
    log = _TrainingLog()
    own = {id(p) for p in model.parameters()}
    probe = model.fc.bias
    original_init = torch.optim.Optimizer.__init__

    def init(self, params, defaults, *args, **kwargs):
        original_init(self, params, defaults, *args, **kwargs)
        if any(id(p) in own for group in self.param_groups for p in group["params"]):
            log.optimizers.append((type(self), dict(defaults)))

    def after_step(optimizer, args, kwargs):
        if any(id(p) in own for group in optimizer.param_groups for p in group["params"]):
            log.steps += 1
            log._after_step = None if probe.grad is None else probe.grad.detach().clone()

    def before_accumulating(grad):
        if log._after_step is not None:
            kept = probe.grad is not None and bool(torch.equal(probe.grad, log._after_step))
            log.kept += kept
            log.reset += not kept
            log._after_step = None

    handles = [register_optimizer_step_post_hook(after_step),
               probe.register_hook(before_accumulating)]
    try:
        with mock.patch.object(torch.optim.Optimizer, "__init__", init):
            yield log
    finally:
        for handle in handles:
            handle.remove()


# --- make_counting_data ----------------------------------------------------------------------------------


@pytest.mark.points(2)
@pytest.mark.parametrize("n_samples, seq_length", [(2000, 10), (300, 20), (1, 3)])
def test_make_counting_data_values(student, n_samples, seq_length):
    X, y = student.make_counting_data(n_samples, seq_length, seed=3)
    what = f"make_counting_data({n_samples}, {seq_length}, seed=3)"
    public.expect_counting_shapes(X, y, n_samples, seq_length, what)
    expect(bool(((X == 0) | (X == 1)).all()), _("{what}: every entry must be 0.0 or 1.0").format(what=f"{what}[0] (X)"))
    expect_tensor(y.double(), X.double().sum(dim=(1, 2)), f"{what}[1] (y)",
                  hint=_("y[i] is the number of ones in X[i]"))
    if n_samples * seq_length >= 5000:
        ones = float(X.double().mean())
        expect(0.45 <= ones <= 0.55,
               _("{what}: {ones} of the entries are ones, expected about half").format(what=what, ones=f"{ones:.1%}"),
               hint=_("draw each entry 0 or 1 with probability 1/2"))


@pytest.mark.points(2)
def test_make_counting_data_is_reproducible(student):
    X1, y1 = student.make_counting_data(100, 10, seed=7)
    X2, y2 = student.make_counting_data(100, 10, seed=7)
    expect_tensor(X2, X1, _("make_counting_data(100, 10, seed=7)[0], called twice"),
                  hint=_("the same seed must give the same data: build a new generator from `seed` in every call"))
    expect_tensor(y2, y1, _("make_counting_data(100, 10, seed=7)[1], called twice"))
    X3, _y = student.make_counting_data(100, 10, seed=8)
    expect_shape(X3, (100, 10, 1), "make_counting_data(100, 10, seed=8)[0]")
    expect(not bool(torch.equal(X1, X3)), _("make_counting_data gives the same X for seed=7 and seed=8"),
           hint=_("build the generator from the seed argument"))


@pytest.mark.points(1)
def test_make_counting_data_leaves_the_global_random_state_alone(student):
    before = _global_random_state()
    X, _y = student.make_counting_data(50, 10, seed=11)
    expect_shape(X, (50, 10, 1), "make_counting_data(50, 10, seed=11)[0]")
    expect(_global_random_state() == before,
           _("make_counting_data changed the global random state (torch, NumPy or random)"),
           hint=_("use a private generator: np.random.default_rng(seed) or torch.Generator().manual_seed(seed)"))


# --- rnn_cell and rnn_forward ----------------------------------------------------------------------------


@pytest.mark.points(2)
@pytest.mark.parametrize("batch, input_size, hidden", [(4, 3, 5), (1, 1, 2), (6, 7, 3)])
def test_rnn_cell_matches_nn_rnn_cell(student, batch, input_size, hidden):
    cell = nn.RNNCell(input_size, hidden, dtype=DOUBLE)
    x, h = torch.randn(batch, input_size, dtype=DOUBLE), torch.randn(batch, hidden, dtype=DOUBLE)
    names = ("x_t", "h_prev", "w_ih", "w_hh", "b_ih", "b_hh")
    inputs = _leaves(x, h, *_weights(cell))
    with no_builtin_rnn():
        got = student.rnn_cell(*inputs)
    oracle = _leaves(x, h, *_weights(cell))
    expected = torch.rnn_tanh_cell(*oracle)
    what = f"rnn_cell(x ({batch}, {input_size}), h ({batch}, {hidden}), nn.RNNCell's weights)"
    expect_tensor(got, expected, what, **TOL, hint=_("tanh(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh)"),
                  mistakes=public.rnn_cell_mistakes(x, h, *_weights(cell)))
    expect(got.requires_grad, _("{what}: the result is not connected to the autograd graph").format(what=what))
    upstream = torch.randn_like(expected)
    want = torch.autograd.grad(expected, oracle, upstream)
    have = torch.autograd.grad(got, inputs, upstream, allow_unused=True)
    for name, g, e in zip(names, have, want):
        expect(g is not None, _("{what}: no gradient reaches {name}").format(what=what, name=name), hint=IN_GRAPH)
        expect_tensor(g, e, _("gradient of {what} with respect to {name}").format(what=what, name=name), **GRAD_TOL)


@pytest.mark.points(3)
@pytest.mark.parametrize("batch, length, input_size, hidden", [(4, 7, 3, 5), (2, 12, 1, 8), (1, 1, 2, 2)])
def test_rnn_forward_matches_nn_rnn(student, batch, length, input_size, hidden):
    rnn = nn.RNN(input_size, hidden, batch_first=True, dtype=DOUBLE)
    x = torch.randn(batch, length, input_size, dtype=DOUBLE)
    h0 = torch.randn(1, batch, hidden, dtype=DOUBLE)
    weights = _weights(rnn, "_l0")
    names = ("x", "h0", "w_ih", "w_hh", "b_ih", "b_hh")
    inputs = _leaves(x, h0, *weights)
    with no_builtin_rnn():
        result = student.rnn_forward(*inputs)
    oracle = _leaves(x, h0, *weights)
    expected_out, expected_h = torch.rnn_tanh(oracle[0], oracle[1], oracle[2:], True, 1, 0.0, False, False, True)
    what = f"rnn_forward(x ({batch}, {length}, {input_size}), h0 (1, {batch}, {hidden}), nn.RNN's weights)"
    out, h_n = public.expect_rnn_forward_result(result, batch, length, hidden, what)
    expect_tensor(out, expected_out, f"{what}[0] (output)", **TOL,
                  mistakes=public.rnn_forward_mistakes(x, h0, *weights),
                  hint=_("h = h0[0]; for every t: h = rnn_cell(x[:, t], h, ...), and output[:, t] = h"))
    expect_tensor(h_n, expected_h, f"{what}[1] (h_n)", **TOL,
                  hint=_("h_n is output[:, -1], the state after the last step, with a leading dim of 1"))
    upstream = (torch.randn_like(expected_out), torch.randn_like(expected_h))
    want = torch.autograd.grad((expected_out, expected_h), oracle, upstream)
    expect(out.requires_grad and h_n.requires_grad,
           _("{what}: the results are not connected to the autograd graph").format(what=what))
    have = torch.autograd.grad((out, h_n), inputs, upstream, allow_unused=True)
    detached = _leaves(x, h0, *weights)
    cut = torch.autograd.grad(_detached_between_steps(*detached), detached, upstream, allow_unused=True)
    for name, g, e, c in zip(names, have, want, cut):
        expect(g is not None, _("{what}: no gradient reaches {name}").format(what=what, name=name), hint=IN_GRAPH)
        expect_tensor(g, e, _("gradient of {what} with respect to {name}").format(what=what, name=name), **GRAD_TOL,
                      mistakes=[Mistake(_("do not detach h between steps: the gradient must flow back through every "
                                          "step"), c)] if c is not None else [])


# --- SimpleRNN -------------------------------------------------------------------------------------------


@pytest.mark.points(3)
@pytest.mark.parametrize("input_size, hidden, output_size", [(1, 6, 1), (2, 5, 3)])
def test_simple_rnn_reads_the_last_time_step(student, input_size, hidden, output_size):
    model = student.SimpleRNN(input_size, hidden, output_size)
    x = torch.randn(4, 9, input_size)
    what = f"SimpleRNN({input_size}, {hidden}, {output_size})(x of shape (4, 9, {input_size}))"
    with torch.no_grad():
        got = model(x.clone())
        expect_shape(got, (4, output_size), what, hint=_("fc(output[:, -1]): (N, output_size)"),
                     mistakes=public.simple_rnn_shape_mistakes(4, 9, output_size))
        states = model.rnn(x)[0]
        expected = model.fc(states[:, -1])
        mistakes = [
            Mistake(_("that is fc of the FIRST step's state: use output[:, -1], the state after the last step"),
                    model.fc(states[:, 0])),
            Mistake(_("the average over the steps mixes in states that have not read the whole sequence: use "
                      "output[:, -1]"), model.fc(states.mean(dim=1))),
        ]
    expect_tensor(got, expected, what, **TOL, mistakes=mistakes,
                  hint=_("fc(output[:, -1]): fc of the hidden state after the last step"))


@pytest.mark.points(1)
def test_simple_rnn_shape_and_parameter_count(student):
    model = student.SimpleRNN(1, 32, 1)
    expect_shape(model(torch.randn(3, 10, 1)), (3, 1), "SimpleRNN(1, 32, 1)(x of shape (3, 10, 1))")
    expect_equal(parameter_count(model), 1153, _("SimpleRNN(1, 32, 1)'s parameter count"),
                 hint=_("nn.RNN(1, 32) 1,120 + Linear(32, 1) 33"))


# --- train_counter ---------------------------------------------------------------------------------------


@pytest.mark.points(1)
def test_train_counter_folds_the_scale_into_fc(student):
    length = 7  # not the grader data's 10: L is read from X
    X = torch.randint(0, 2, (64, length, 1)).float()
    model = _Counter()
    weight, bias = model.fc.weight.detach().clone(), model.fc.bias.detach().clone()
    trained = student.train_counter(model, X.clone(), X.sum(dim=(1, 2)), epochs=1, lr=0.0)
    call = f"train_counter(model, X (64, {length}, 1), y, epochs=1, lr=0.0)"
    expect_type(trained, nn.Module, call, hint=_("return the trained model"))
    fc = getattr(trained, "fc", None)
    expect(isinstance(fc, nn.Linear), _("{call} returned a model without the Linear layer fc").format(call=call),
           hint=_("return the model you were given, trained"))
    guidance = _("after training, multiply fc.weight and fc.bias by L = X.shape[1], under torch.no_grad()")
    wrong_length = _("L is the sequence length X.shape[1] ({length} here), not 10").format(length=length)
    expect_tensor(fc.weight.detach(), weight * length, f"{call}: model.fc.weight (Adam with lr=0 leaves it as it was)",
                  rtol=1e-6, atol=1e-7, hint=guidance, mistakes=[
                      Mistake(_("fc.weight is as it was: multiply fc's weight and bias by L after training"), weight),
                      Mistake(wrong_length, weight * 10),
                      Mistake(_("multiply by L, do not divide"), weight / length)])
    expect_tensor(fc.bias.detach(), bias * length, f"{call}: model.fc.bias (Adam with lr=0 leaves it as it was)",
                  rtol=1e-6, atol=1e-7, hint=guidance, mistakes=[
                      Mistake(_("multiply fc's bias by L as well as its weight"), bias),
                      Mistake(wrong_length, bias * 10),
                      Mistake(_("multiply by L, do not divide"), bias / length)])


def _mse_diagnosis(log, model, trained, X_test, y_test, predicted, length, lr, batches):
    """The hint for a test MSE over the bar: the first cause the training log shows, else guidance."""
    adam = [settings for kind, settings in log.optimizers if issubclass(kind, torch.optim.Adam)]
    if log.optimizers and not any(settings.get("lr") == lr for settings in adam):
        return _("train with torch.optim.Adam(model.parameters(), lr=lr)")
    if log.kept > log.reset:
        return _("call optimizer.zero_grad() every batch: without it every step applies the sum of all the gradients "
                 "so far")
    if 0 < log.steps <= EPOCHS * batches // 2:
        return _("{steps} optimizer steps in {epochs} epochs: one step per mini-batch of batch_size (32: {want} "
                 "steps)").format(steps=log.steps, epochs=EPOCHS, want=EPOCHS * batches)
    late = model.training_outputs[-batches:]
    if late and np.mean(late) > 2.0:
        return _("in training the model answered about {mean:.2f} on average: train against the scaled targets "
                 "y / L (0 to 1), not the raw counts").format(mean=float(np.mean(late)))
    mean = float(predicted.mean())
    if abs(mean - float(y_test.mean()) / length) < 0.5:
        return _("the predictions average {mean:.2f}, the counts divided by L: multiply fc's weight and bias by L "
                 "before returning").format(mean=mean)
    rnn = getattr(trained, "rnn", None)
    if isinstance(rnn, nn.RNN):
        with torch.no_grad():
            saturated = float((rnn(X_test)[0].abs() > 0.95).double().mean())
        if saturated > 0.5:
            return _("{share} of the hidden states are beyond ±0.95 on the test sequences: the tanh units saturated "
                     "and their gradient vanished").format(share=f"{saturated:.0%}")
    return _("train on y / L with Adam on mini-batches, then multiply fc's weight and bias by L")


@pytest.mark.points(4)
@pytest.mark.timeout(120)
def test_train_counter_counts_held_out_sequences(student):
    X, y = counting(train=True)
    model = _Counter()
    with _watch_training(model) as log:
        trained = student.train_counter(model, X.clone(), y.clone(), epochs=EPOCHS, lr=0.01)
    expect_type(trained, nn.Module, f"train_counter(..., epochs={EPOCHS}, lr=0.01)", hint=_("return the trained model"))
    X_test, y_test = counting(train=False)
    with torch.no_grad():
        predicted = trained(X_test)
    expect_shape(predicted, (len(y_test), 1), _("the trained model's output on the test sequences (200, 10, 1)"))
    predicted = predicted[:, 0]
    mse = expect_number(((predicted - y_test) ** 2).mean(), _("test MSE"))
    batches = -(-len(X) // 32)
    hint = None
    if not mse <= MSE_BAR:
        hint = _mse_diagnosis(log, model, trained, X_test, y_test, predicted, X.shape[1], 0.01, batches)
    expect_at_most(mse, MSE_BAR, _("test MSE (in counts²) after train_counter(epochs={epochs}, lr=0.01)").format(
        epochs=EPOCHS), hint=hint)
