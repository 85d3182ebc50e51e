"""Hidden checks of 01_linear_model: graded by the instructor, never shipped to students."""

import functools

import numpy as np
import pytest
import torch

from grader.checks import (
    Mistake,
    expect,
    expect_close,
    expect_type,
    numeric_gradient,
    public_checks,
)
from grader.i18n import _

# The notes' data, the readers of what the student returned and the diagnoses are the public checks' own.
public = public_checks(__file__)


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
        expect_close(got[i], want, f"{what}[{i}]", **public.TOL, hint=_("every element times w"))


@pytest.mark.points(2)
def test_mse_on_random_data(student, seed):
    rng, xs, ys = _data(seed, 7)
    for w in rng.uniform(-4.0, 4.0, 5):
        expect_close(student.mse(public._copy(xs), public._copy(ys), w), public._mse(xs, ys, w),
                     f"mse(7 random samples, w={w:.4f})", **public.TOL, mistakes=public._mse_mistakes(xs, ys, w),
                     hint=_("(1/N) * sum of (x*w - y)**2 over the N samples"))


@pytest.mark.points(2)
def test_grid_search_on_random_data(student, seed):
    rng, xs, ys = _data(seed, 5)
    ws = np.sort(rng.uniform(-4.0, 4.0, 17))
    w_list, mse_list = public._pair(student.grid_search(public._copy(xs), public._copy(ys), ws.copy()),
                             "grid_search(5 random samples, 17 ws)")
    w_list = public._numbers(w_list, 17, _("grid_search's w_list"), hint=_("one entry per w tried, in order"))
    mse_list = public._numbers(mse_list, 17, _("grid_search's mse_list"), hint=_("one MSE per w tried, in order"))
    swapped = Mistake(_("return (w_list, mse_list): the ws first, then their MSEs"),
                      lambda _v: public._same(w_list, [public._mse(xs, ys, w) for w in ws]))
    own = public._own(student.mse)
    for i, w in enumerate(ws):
        expect_close(w_list[i], w, f"w_list[{i}]", **public.TOL, mistakes=[swapped],
                     hint=_("w_list holds the ws tried, in the order given"))
    for i, w in enumerate(ws):
        yours = public._accepted([functools.partial(own, xs, ys, w)]) if own else []
        if yours and public._close(mse_list[i], yours[0]):
            continue  # consistent with the student's own mse, whose mistakes cost its own checks
        expect_close(mse_list[i], public._mse(xs, ys, w), f"mse_list[{i}] (w={w:.4f})", **public.TOL,
                     mistakes=public._mse_mistakes(xs, ys, w), hint=_("mse_list[i] is mse(xs, ys, ws[i])"))


@pytest.mark.points(3)
def test_gradient_matches_central_differences(student, seed):
    rng, xs, ys = _data(seed, 6)
    for w in rng.uniform(-4.0, 4.0, 5):
        numeric = numeric_gradient(lambda t: public._mse(xs, ys, float(t)), torch.tensor([w], dtype=torch.float64))
        expect_close(student.gradient(public._copy(xs), public._copy(ys), w), float(numeric[0]),
                     f"gradient(6 random samples, w={w:.4f})", rtol=1e-6, atol=1e-8,
                     mistakes=public._gradient_mistakes(xs, ys, w),
                     hint=_("d/dw of (1/N) sum (x*w - y)**2 is (1/N) sum 2*x*(x*w - y)"))


@pytest.mark.points(3)
def test_gradient_descent_trajectory_on_random_data(student, seed):
    rng, xs, ys = _data(seed, 5)
    w0, lr = rng.uniform(-2.0, 2.0), rng.uniform(0.02, 0.1)
    public._expect_gradient_descent(student, xs, ys, w0, lr, 3,
                             f"gradient_descent(5 random samples, w0={w0:.4f}, lr={lr:.4f}, epochs=3)")


@pytest.mark.points(3)
def test_sgd_trajectory_on_random_data(student, seed):
    rng, xs, ys = _data(seed, 4)
    w0, lr = rng.uniform(-2.0, 2.0), rng.uniform(0.02, 0.1)
    public._expect_sgd(student, xs, ys, w0, lr, 2, f"sgd(4 random samples, w0={w0:.4f}, lr={lr:.4f}, epochs=2)")


@pytest.mark.points(2)
def test_gradient_descent_reaches_least_squares(student, seed):
    _rng, xs, ys = _data(seed, 8)
    best = float(np.sum(xs * ys) / np.sum(xs * xs))  # where d mse / dw = 0
    what = "gradient_descent(8 noisy samples, w0=0.0, lr=0.1, epochs=300)"
    w, _costs = public._pair(student.gradient_descent(public._copy(xs), public._copy(ys), 0.0, 0.1, 300), what)
    uphill = public._gd_run(xs, ys, 0.0, 0.1, 300, lambda *a: -public._gradient(*a))[0]
    expect_close(w, best, f"{what}: w", rtol=1e-6, atol=1e-6, mistakes=[Mistake(public.UPHILL_GD, uphill)],
                 hint=_("the minimum of the MSE is at sum(x*y) / sum(x*x)"))


@pytest.mark.points(2)
def test_sgd_recovers_slope(student, seed):
    rng = np.random.default_rng(seed)
    xs = rng.uniform(0.5, 1.5, 5)
    slope = rng.uniform(-3.0, 3.0)
    what = f"sgd(5 samples of y = {slope:.4f} * x, w0=0.0, lr=0.1, epochs=100)"
    w, _losses = public._pair(student.sgd(xs.copy(), slope * xs, 0.0, 0.1, 100), what)
    uphill = public._sgd_run(xs, slope * xs, 0.0, 0.1, 100, lambda *a: -public._gradient(*a))[0]
    expect_close(w, slope, f"{what}: w", rtol=1e-6, atol=1e-6, mistakes=[Mistake(public.UPHILL_SGD, uphill)])
