"""Public checks of 01_linear_model: run them with `pytest exercises/01_linear_model`."""

import ast
import contextlib
import itertools
import math
import types
from pathlib import Path

import numpy as np
import pytest

from grader.checks import (
    Mistake,
    expect,
    expect_close,
    expect_number,
    expect_type,
    fail,
)
from grader.i18n import _

# The notes' data: three points on the line y = 2x.
XS = [1.0, 2.0, 3.0]
YS = [2.0, 4.0, 6.0]
# Every step is compared: tight enough to tell every mistake below apart, loose enough for float32 arithmetic.
TOL = dict(rtol=1e-5, atol=1e-8)
UPHILL_GD = _("w moved uphill, along the gradient: step against it, w <- w - lr * d mse/dw (is the sign of the "
              "update, or of your gradient, flipped?)")
UPHILL_SGD = _("w moved uphill, along the gradient: step against it, w <- w - lr * 2*x*(x*w - y) (is a sign "
               "flipped?)")


# --- reading what the student returned ---------------------------------------------------------------

def _numbers(values, length, what, hint=None):
    """A list, tuple or 1-D array of `length` numbers, as floats; `hint` is shown with a wrong length."""
    expect_type(values, (list, tuple, np.ndarray), what)
    expect(not isinstance(values, np.ndarray) or values.ndim == 1,
           _("{what}: expected a 1-D array, got shape {shape}").format(what=what, shape=np.shape(values)))
    expect(len(values) == length,
           _("{what}: expected {n} values, got {m}").format(what=what, n=length, m=len(values)), hint)
    return [expect_number(v, f"{what}[{i}]") for i, v in enumerate(values)]


def _pair(result, what):
    """The two things a function returned (`return a, b`)."""
    expect_type(result, (tuple, list), what, hint=_("return both: return w, history"))
    expect(len(result) == 2, _("{what}: expected a pair, got {n} items").format(what=what, n=len(result)),
           hint=_("return both: return w, history"))
    return result


def _copy(values):
    """A copy of the data handed to student code, so that it cannot change the check's own."""
    return values.copy() if isinstance(values, np.ndarray) else list(values)


def _same(got, want):
    return len(got) == len(want) and all(_close(g, w) for g, w in zip(got, want))


def _close(got, want):
    return abs(got - want) <= TOL["atol"] + TOL["rtol"] * abs(want)


# --- what the functions should give, and what common mistakes make them give ---------------------------

def _mse(xs, ys, w):
    return float(np.mean((np.asarray(xs, dtype=float) * w - np.asarray(ys, dtype=float)) ** 2))


def _gradient(xs, ys, w):
    x, y = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    return float(np.mean(2 * x * (x * w - y)))


def _mse_mistakes(xs, ys, w):
    errors = np.asarray(xs, dtype=float) * w - np.asarray(ys, dtype=float)
    total, n = float(np.sum(errors**2)), len(errors)
    return [
        Mistake(_("your values are half the MSE: drop the / 2 (the MSE has none)"), total / (2 * n)),
        Mistake(_("that is the sum of the squared errors: divide it by the number of samples, len(xs)"), total),
        Mistake(_("square the errors: the mean of (x*w - y)**2, not of |x*w - y|"), float(np.mean(np.abs(errors)))),
        Mistake(_("the mean squared error has no square root"), math.sqrt(total / n)),
        Mistake(_("divide by the number of samples, len(xs), not by a fixed number"),
                lambda v: any(k != n and math.isclose(v * k, total, rel_tol=1e-9) for k in range(2, 21))),
    ]


def _gradient_mistakes(xs, ys, w):
    x, y = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    terms = 2 * x * (x * w - y)
    return [
        Mistake(_("that is the sum over the samples: divide it by the number of samples (the MSE is a mean)"),
                float(terms.sum())),
        Mistake(_("the sign is flipped: the derivative of (x*w - y)**2 is 2*x*(x*w - y)"), -float(terms.mean())),
        Mistake(_("the factor x is missing: the derivative of x*w - y with respect to w is x"),
                float(np.mean(2 * (x * w - y)))),
        Mistake(_("the factor 2 is missing: the derivative of r**2 is 2*r"), float(terms.mean()) / 2),
    ]


def _own(function):
    """The student's own mse or gradient as a function of (xs, ys, w), or None if it is not written yet."""
    def own(xs, ys, w):
        return float(expect_number(function(_copy(xs), _copy(ys), w), "own"))
    try:
        own(XS, YS, 1.0)
    except Exception:  # not implemented, or not a number: only the true function is used
        return None
    return own


def _functions(student):
    """(gradients, costs): the true functions, then the student's own where they work.

    A history or trajectory that follows from the student's own mse or gradient is the right bookkeeping: a
    wrong mse or gradient costs the checks of mse and gradient, not every check that uses them."""
    gradients = [_gradient] + [f for f in [_own(student.gradient)] if f]
    costs = [_mse] + [f for f in [_own(student.mse)] if f]
    return gradients, costs


def _gd_run(xs, ys, w, lr, epochs, gradient=_gradient, cost=_mse, after=False, per_sample=False):
    """(w, cost_history) of batch gradient descent; `after` and `per_sample` are mistakes."""
    costs = []
    for _epoch in range(epochs):
        if not after:
            costs.append(cost(xs, ys, w))
        if per_sample:
            for i in range(len(xs)):
                w -= lr * gradient(xs[i:i + 1], ys[i:i + 1], w)
        else:
            w -= lr * gradient(xs, ys, w)
        if after:
            costs.append(cost(xs, ys, w))
    return w, costs


def _sgd_run(xs, ys, w, lr, epochs, gradient=_gradient, loss=_mse, after=False, orders=None, batch=False,
             per_epoch=False):
    """(w, loss_history) of SGD; `after`, `orders` (one order of the samples per epoch), `batch` (the whole
    data set's gradient at every sample) and `per_epoch` (one update per epoch) are mistakes."""
    losses = []
    for epoch in range(epochs):
        start = w
        for i in (orders[epoch] if orders else range(len(xs))):
            x, y = xs[i:i + 1], ys[i:i + 1]
            if not after:
                losses.append(loss(x, y, w))
            if not per_epoch:
                w -= lr * (gradient(xs, ys, w) if batch else gradient(x, y, w))
            if after:
                losses.append(loss(x, y, w))
        if per_epoch:
            w = start - lr * gradient(xs, ys, start)
    return w, losses


def _accepted(runs):
    """The runs that exist: one whose student function fails is left out."""
    found = []
    for run in runs:
        try:
            found.append(run())
        except Exception:  # the student's own mse or gradient failed on these values
            pass
    return found


def _expect_gradient_descent(student, xs, ys, w0, lr, epochs, what):
    w, costs = _pair(student.gradient_descent(_copy(xs), _copy(ys), w0, lr, epochs), what)
    costs = _numbers(costs, epochs, f"{what}: cost_history", hint=_("one cost per epoch"))
    w = expect_number(w, f"{what}: w")
    gradients, cost_functions = _functions(student)
    accepted = _accepted([lambda g=g, c=c: _gd_run(xs, ys, w0, lr, epochs, g, c)
                          for g, c in itertools.product(gradients, cost_functions)])
    if any(_close(w, a) and _same(costs, history)
           for a, history in accepted):
        return
    want_w, want_costs = accepted[0]
    uphill = _gd_run(xs, ys, w0, lr, epochs, lambda *a: -_gradient(*a))
    mistakes = [
        Mistake(_("record the cost before the update, not after it"),
                lambda _v: _same(costs, _gd_run(xs, ys, w0, lr, epochs, after=True)[1])),
        Mistake(UPHILL_GD, lambda _v: _same(costs, uphill[1])),
        Mistake(_("one update per epoch, with the gradient of all the samples together (per-sample updates "
                  "are sgd)"), lambda _v: _same(costs, _gd_run(xs, ys, w0, lr, epochs, per_sample=True)[1])),
    ]
    for i, want in enumerate(want_costs):
        expect_close(costs[i], want, f"{what}: cost_history[{i}]", **TOL,
                     hint=_("cost_history[k] is mse(xs, ys, w) just before epoch k's update"), mistakes=mistakes)
    expect_close(w, want_w, f"{what}: w", **TOL, mistakes=[
        Mistake(UPHILL_GD, uphill[0]),
        Mistake(_("one update per epoch, with the gradient of all the samples together (per-sample updates "
                  "are sgd)"), _gd_run(xs, ys, w0, lr, epochs, per_sample=True)[0]),
    ], hint=_("one update per epoch: w <- w - lr * d mse/dw, the gradient averaged over all the samples"))


def _expect_sgd(student, xs, ys, w0, lr, epochs, what):
    w, losses = _pair(student.sgd(_copy(xs), _copy(ys), w0, lr, epochs), what)
    losses = _numbers(losses, epochs * len(xs), f"{what}: loss_history",
                      hint=_("one loss per update: epochs * len(xs) in all"))
    w = expect_number(w, f"{what}: w")
    gradients, loss_functions = _functions(student)
    accepted = _accepted([lambda g=g, c=c: _sgd_run(xs, ys, w0, lr, epochs, g, c)
                          for g, c in itertools.product(gradients, loss_functions)])
    if any(_close(w, a) and _same(losses, history)
           for a, history in accepted):
        return
    want_w, want_losses = accepted[0]
    orders = list(itertools.product(itertools.permutations(range(len(xs))), repeat=epochs))
    uphill = _sgd_run(xs, ys, w0, lr, epochs, lambda *a: -_gradient(*a))
    variants = [
        (_("record each sample's loss just before its update, not after it"), dict(after=True)),
        (UPHILL_SGD, None),
        (_("each update uses that one sample's gradient 2*x*(x*w - y), not the whole data set's"), dict(batch=True)),
        (_("update w after every sample, not once per epoch"), dict(per_epoch=True)),
    ]
    mistakes = [Mistake(hint, lambda _v, k=k: _same(losses, (uphill if k is None else
                                                             _sgd_run(xs, ys, w0, lr, epochs, **k))[1]))
                for hint, k in variants]
    mistakes.append(Mistake(_("visit the samples in the order given (no shuffling): your losses are those of "
                              "another order"),
                            lambda _v: any(_same(losses, _sgd_run(xs, ys, w0, lr, epochs, orders=o)[1])
                                           for o in orders[1:])))
    for i, want in enumerate(want_losses):
        expect_close(losses[i], want, f"{what}: loss_history[{i}]", **TOL, mistakes=mistakes,
                     hint=_("visit the samples in the order given; loss_history[k] is the loss (x*w - y)**2 of "
                            "the sample about to be used, just before its update"))
    expect_close(w, want_w, f"{what}: w", **TOL, mistakes=[
        Mistake(UPHILL_SGD, uphill[0])],
        hint=_("one update per sample, in the order given: w <- w - lr * 2*x*(x*w - y)"))


# --- the checks ----------------------------------------------------------------------------------------

@pytest.mark.points(1)
def test_forward_on_numbers(student):
    expect_close(student.forward(4.0, 2.0), 8.0, "forward(4.0, 2.0)", hint=_("the model is x * w"))
    expect_close(student.forward(3.0, 1.5), 4.5, "forward(3.0, 1.5)", hint=_("the model is x * w"))


@pytest.mark.points(1)
def test_mse_on_notes_data(student):
    for w, want in [(2.0, 0.0), (1.0, 14 / 3), (3.0, 14 / 3)]:
        expect_close(student.mse(_copy(XS), _copy(YS), w), want, f"mse(x=[1,2,3], y=[2,4,6], w={w})", **TOL,
                     mistakes=_mse_mistakes(XS, YS, w),
                     hint=_("the mean of the squared errors: at w=1, (1 + 4 + 9) / 3"))


@pytest.mark.points(2)
def test_grid_search_finds_two(student):
    ws = np.arange(0.0, 4.1, 0.1)  # the notes' grid: 0.0, 0.1, ..., 4.0
    w_list, mse_list = _pair(student.grid_search(_copy(XS), _copy(YS), ws.copy()), "grid_search(x, y, ws)")
    w_list = _numbers(w_list, len(ws), _("grid_search's w_list"), hint=_("one entry per w tried, in order"))
    mse_list = _numbers(mse_list, len(ws), _("grid_search's mse_list"), hint=_("one MSE per w tried, in order"))
    swapped = Mistake(_("return (w_list, mse_list): the ws first, then their MSEs"),
                      lambda _v: _same(w_list, [_mse(XS, YS, w) for w in ws]))
    expect_close(w_list[10], 1.0, "w_list[10]", **TOL, mistakes=[swapped],
                 hint=_("w_list holds the ws tried, in the order given"))
    own = _own(student.mse)
    if not (own and _close(mse_list[10], own(XS, YS, 1.0))):  # your mse's mistakes cost its checks
        expect_close(mse_list[10], 14 / 3, _("mse_list[10] (the MSE at w=1.0)"), **TOL,
                     mistakes=_mse_mistakes(XS, YS, 1.0), hint=_("mse_list[i] is mse(xs, ys, ws[i])"))
    best = int(np.argmin(mse_list))
    expect_close(w_list[best], 2.0, _("the w with the smallest MSE"), atol=1e-9,
                 hint=_("mse_list[i] is mse(xs, ys, ws[i])"))


@pytest.mark.points(1)
def test_gradient_on_notes_data(student):
    expect_close(student.gradient(_copy(XS), _copy(YS), 1.0), -28 / 3, "gradient(x=[1,2,3], y=[2,4,6], w=1.0)",
                 **TOL, mistakes=_gradient_mistakes(XS, YS, 1.0),
                 hint=_("the mean of 2*x*(x*w - y): (-2 - 8 - 18) / 3"))
    expect_close(student.gradient(_copy(XS), _copy(YS), 2.0), 0.0, "gradient(x=[1,2,3], y=[2,4,6], w=2.0)",
                 **TOL, hint=_("the MSE is smallest at w=2: there its derivative is 0"))


@pytest.mark.points(2)
def test_gradient_descent_one_epoch_on_notes_data(student):
    # One update with the batch gradient -28/3: w = 1 + 0.01 * 28/3, and cost_history == [14/3].
    _expect_gradient_descent(student, XS, YS, 1.0, 0.01, 1,
                             "gradient_descent(x=[1,2,3], y=[2,4,6], w0=1.0, lr=0.01, epochs=1)")


@pytest.mark.points(2)
def test_sgd_one_epoch_on_notes_data(student):
    # Three updates, one per sample: w = 1.02, then 1.0984, then 1.260688; losses 1, 1.96**2, 2.7048**2.
    _expect_sgd(student, XS, YS, 1.0, 0.01, 1, "sgd(x=[1,2,3], y=[2,4,6], w0=1.0, lr=0.01, epochs=1)")


@pytest.mark.points(1)
def test_gradient_descent_converges_on_notes_data(student):
    what = "gradient_descent(x=[1,2,3], y=[2,4,6], w0=1.0, lr=0.01, epochs=100)"
    w, costs = _pair(student.gradient_descent(_copy(XS), _copy(YS), 1.0, 0.01, 100), what)
    costs = _numbers(costs, 100, f"{what}: cost_history", hint=_("one cost per epoch"))
    uphill = _gd_run(XS, YS, 1.0, 0.01, 100, lambda *a: -_gradient(*a))[0]
    expect_close(w, 2.0, f"{what}: w", atol=1e-3, mistakes=[
        Mistake(UPHILL_GD, uphill)])
    expect(costs[-1] < 1e-6, _("{what}: the last cost is {cost}, expected it near 0").format(
        what=what, cost=f"{costs[-1]:.3g}"))


@pytest.mark.points(1)
def test_sgd_converges_on_notes_data(student):
    what = "sgd(x=[1,2,3], y=[2,4,6], w0=1.0, lr=0.01, epochs=100)"
    w, _losses = _pair(student.sgd(_copy(XS), _copy(YS), 1.0, 0.01, 100), what)
    uphill = _sgd_run(XS, YS, 1.0, 0.01, 100, lambda *a: -_gradient(*a))[0]
    expect_close(expect_number(w, f"{what}: w"), 2.0, f"{what}: w", atol=1e-3, mistakes=[
        Mistake(UPHILL_SGD, uphill)])


def _torch_uses(module):
    """Where the module imports or holds torch: import statements in its source, torch objects in its namespace."""
    found = []
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [_("line {line}: import {name}").format(line=node.lineno, name=a.name)
                      for a in node.names if a.name.split(".")[0] == "torch"]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "torch":
            found.append(_("line {line}: from {name} import ...").format(line=node.lineno, name=node.module))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.split(".")[0] == "torch":
            found.append(_("line {line}: the string {text}").format(line=node.lineno, text=repr(node.value)))
    for name, value in vars(module).items():
        origin = value.__name__ if isinstance(value, types.ModuleType) else getattr(value, "__module__", None)
        if isinstance(origin, str) and origin.split(".")[0] == "torch":
            found.append(_("the name {name} comes from torch").format(name=name))
    return found


@pytest.mark.points(1)
def test_no_torch(student):
    ran = 0
    for call in (lambda: student.forward(2.0, 3.0), lambda: student.mse(_copy(XS), _copy(YS), 1.0),
                 lambda: student.gradient_descent(_copy(XS), _copy(YS), 1.0, 0.01, 1),
                 lambda: student.sgd(_copy(XS), _copy(YS), 1.0, 0.01, 1)):
        with contextlib.suppress(Exception):  # called so that an import inside a function happens
            call()
            ran += 1
    expect(ran > 0, _("linear_model.py: none of forward, mse, gradient_descent and sgd runs yet"))
    uses = _torch_uses(student)
    if uses:
        fail(_("linear_model.py uses torch ({use})").format(use=uses[0]),
             hint=_("this exercise is plain Python and NumPy; torch comes in 02"))
