"""Hidden checks of 01_linear_model: graded by the instructor, never shipped to students."""

import functools
import itertools
import math

import numpy as np
import pytest
import torch

from grader.checks import (
    Mistake,
    expect,
    expect_close,
    expect_number,
    expect_type,
    numeric_gradient,
)
from grader.i18n import _

XS = [1.0, 2.0, 3.0]  # the notes' data, on which the student's own mse and gradient are tried first
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


def _data(seed, n):
    """n samples on a noisy line through the origin, as NumPy float64 arrays."""
    rng = np.random.default_rng(seed)
    xs = rng.uniform(0.5, 2.0, n)
    ys = rng.uniform(-3.0, 3.0) * xs + rng.normal(0.0, 0.3, n)
    return rng, xs, ys


# --- the checks ----------------------------------------------------------------------------------------

@pytest.mark.points(1)
def test_forward_on_arrays(student):
    x = np.array([0.5, -1.0, 2.0, 3.25])
    what = "forward(np.array([0.5, -1.0, 2.0, 3.25]), 1.5)"
    got = student.forward(x.copy(), 1.5)
    expect_type(got, np.ndarray, what, hint=_("x * w works on arrays too, and gives an array"))
    expect(got.shape == x.shape, _("{what}: expected an array of shape {expected}, got shape {got}").format(
        what=what, expected=x.shape, got=got.shape))
    for i, want in enumerate(x * 1.5):
        expect_close(got[i], want, f"{what}[{i}]", **TOL, hint=_("every element times w"))


@pytest.mark.points(2)
def test_mse_on_random_data(student, seed):
    rng, xs, ys = _data(seed, 7)
    for w in rng.uniform(-4.0, 4.0, 5):
        expect_close(student.mse(_copy(xs), _copy(ys), w), _mse(xs, ys, w), f"mse(7 random samples, w={w:.4f})",
                     **TOL, mistakes=_mse_mistakes(xs, ys, w),
                     hint=_("(1/N) * sum of (x*w - y)**2 over the N samples"))


@pytest.mark.points(2)
def test_grid_search_on_random_data(student, seed):
    rng, xs, ys = _data(seed, 5)
    ws = np.sort(rng.uniform(-4.0, 4.0, 17))
    w_list, mse_list = _pair(student.grid_search(_copy(xs), _copy(ys), ws.copy()),
                             "grid_search(5 random samples, 17 ws)")
    w_list = _numbers(w_list, 17, _("grid_search's w_list"), hint=_("one entry per w tried, in order"))
    mse_list = _numbers(mse_list, 17, _("grid_search's mse_list"), hint=_("one MSE per w tried, in order"))
    swapped = Mistake(_("return (w_list, mse_list): the ws first, then their MSEs"),
                      lambda _v: _same(w_list, [_mse(xs, ys, w) for w in ws]))
    own = _own(student.mse)
    for i, w in enumerate(ws):
        expect_close(w_list[i], w, f"w_list[{i}]", **TOL, mistakes=[swapped],
                     hint=_("w_list holds the ws tried, in the order given"))
    for i, w in enumerate(ws):
        yours = _accepted([functools.partial(own, xs, ys, w)]) if own else []
        if yours and _close(mse_list[i], yours[0]):
            continue  # consistent with the student's own mse, whose mistakes cost its own checks
        expect_close(mse_list[i], _mse(xs, ys, w), f"mse_list[{i}] (w={w:.4f})", **TOL,
                     mistakes=_mse_mistakes(xs, ys, w), hint=_("mse_list[i] is mse(xs, ys, ws[i])"))


@pytest.mark.points(3)
def test_gradient_matches_central_differences(student, seed):
    rng, xs, ys = _data(seed, 6)
    for w in rng.uniform(-4.0, 4.0, 5):
        numeric = numeric_gradient(lambda t: _mse(xs, ys, float(t)), torch.tensor([w], dtype=torch.float64))
        expect_close(student.gradient(_copy(xs), _copy(ys), w), float(numeric[0]),
                     f"gradient(6 random samples, w={w:.4f})", rtol=1e-6, atol=1e-8,
                     mistakes=_gradient_mistakes(xs, ys, w),
                     hint=_("d/dw of (1/N) sum (x*w - y)**2 is (1/N) sum 2*x*(x*w - y)"))


@pytest.mark.points(3)
def test_gradient_descent_trajectory_on_random_data(student, seed):
    rng, xs, ys = _data(seed, 5)
    w0, lr = rng.uniform(-2.0, 2.0), rng.uniform(0.02, 0.1)
    _expect_gradient_descent(student, xs, ys, w0, lr, 3,
                             f"gradient_descent(5 random samples, w0={w0:.4f}, lr={lr:.4f}, epochs=3)")


@pytest.mark.points(3)
def test_sgd_trajectory_on_random_data(student, seed):
    rng, xs, ys = _data(seed, 4)
    w0, lr = rng.uniform(-2.0, 2.0), rng.uniform(0.02, 0.1)
    _expect_sgd(student, xs, ys, w0, lr, 2, f"sgd(4 random samples, w0={w0:.4f}, lr={lr:.4f}, epochs=2)")


@pytest.mark.points(2)
def test_gradient_descent_reaches_least_squares(student, seed):
    _rng, xs, ys = _data(seed, 8)
    best = float(np.sum(xs * ys) / np.sum(xs * xs))  # where d mse / dw = 0
    what = "gradient_descent(8 noisy samples, w0=0.0, lr=0.1, epochs=300)"
    w, _costs = _pair(student.gradient_descent(_copy(xs), _copy(ys), 0.0, 0.1, 300), what)
    uphill = _gd_run(xs, ys, 0.0, 0.1, 300, lambda *a: -_gradient(*a))[0]
    expect_close(w, best, f"{what}: w", rtol=1e-6, atol=1e-6, mistakes=[Mistake(UPHILL_GD, uphill)],
                 hint=_("the minimum of the MSE is at sum(x*y) / sum(x*x)"))


@pytest.mark.points(2)
def test_sgd_recovers_slope(student, seed):
    rng = np.random.default_rng(seed)
    xs = rng.uniform(0.5, 1.5, 5)
    slope = rng.uniform(-3.0, 3.0)
    what = f"sgd(5 samples of y = {slope:.4f} * x, w0=0.0, lr=0.1, epochs=100)"
    w, _losses = _pair(student.sgd(xs.copy(), slope * xs, 0.0, 0.1, 100), what)
    uphill = _sgd_run(xs, slope * xs, 0.0, 0.1, 100, lambda *a: -_gradient(*a))[0]
    expect_close(w, slope, f"{what}: w", rtol=1e-6, atol=1e-6, mistakes=[Mistake(UPHILL_SGD, uphill)])
