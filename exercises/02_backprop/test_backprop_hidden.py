"""Hidden checks of 02_backprop: graded by the instructor, never shipped to students."""

import numpy as np
import pytest
import torch

from grader.checks import expect_close, public_checks
from grader.i18n import _

# The readers of what the student returned and the diagnoses are the public checks' own.
public = public_checks(__file__)


# --- the checks ----------------------------------------------------------------------------------------

@pytest.mark.points(3)
def test_manual_grad_matches_autograd(student, seed):
    rng = np.random.default_rng(seed)
    for x, y, w in rng.uniform(-3.0, 3.0, (20, 3)).tolist():
        with torch.no_grad():  # the chain rule by hand needs no autograd
            got = student.manual_grad(x, y, w)
        tw = torch.tensor(w, dtype=torch.float64, requires_grad=True)
        ((x * tw - y) ** 2).backward()
        expect_close(got, tw.grad.item(), f"manual_grad(x={x:.4f}, y={y:.4f}, w={w:.4f})", rtol=1e-9, atol=1e-12,
                     mistakes=public._manual_grad_mistakes(x, y, w),
                     hint=_("(d loss/dr) * (dr/dy_hat) * (dy_hat/dw) with r = x*w - y; no backward() in here"))


@pytest.mark.points(3)
def test_train_linear_matches_per_sample_updates(student, seed):
    rng = np.random.default_rng(seed)
    xs = rng.uniform(0.5, 2.0, 4).tolist()
    ys = rng.uniform(-4.0, 4.0, 4).tolist()
    w0, lr = float(rng.uniform(-2.0, 2.0)), float(rng.uniform(0.01, 0.05))
    what = f"train_linear(4 random samples, w0={w0:.4f}, lr={lr:.4f}, epochs=2)"
    w = public._plain_number(student.train_linear(list(xs), list(ys), w0=w0, lr=lr, epochs=2), what)
    expect_close(w, public._linear_run(xs, ys, w0, lr, 2), what, **public.STEPS,
                 mistakes=public._linear_mistakes(xs, ys, w0, lr, 2),
                 hint=_("one update per sample in the order given: w <- w - lr * w.grad, then zero w.grad"))


@pytest.mark.points(2)
def test_train_linear_recovers_random_slope(student, seed):
    rng = np.random.default_rng(seed)
    xs = rng.uniform(0.5, 1.5, 5).tolist()
    slope = float(rng.uniform(-3.0, 3.0))
    ys = [slope * x for x in xs]
    what = f"train_linear(5 samples of y = {slope:.4f} * x, w0=0.0, lr=0.1, epochs=60)"
    w = public._plain_number(student.train_linear(list(xs), list(ys), w0=0.0, lr=0.1, epochs=60), what)
    expect_close(w, slope, what, atol=1e-4, mistakes=public._linear_mistakes(xs, ys, 0.0, 0.1, 60))


@pytest.mark.points(3)
def test_train_quadratic_first_epochs_exact(student, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, 6)
    y = rng.uniform(-2.0, 2.0) * x**2 + rng.uniform(-2.0, 2.0) * x + rng.uniform(-1.0, 1.0) + rng.normal(0, 0.1, 6)
    lr = float(rng.uniform(0.05, 0.3))
    what = f"train_quadratic(6 random samples, lr={lr:.4f}, epochs=3)"
    got = public._three_numbers(student.train_quadratic(x.tolist(), y.tolist(), lr=lr, epochs=3), what)
    mistakes = public._quadratic_mistakes(got, x, y, lr, 3)
    for name, g, want in zip(("w1", "w2", "b"), got, public._quadratic_run(x, y, lr, 3)):
        expect_close(g, want, f"{what}: {name}", **public.STEPS, mistakes=mistakes,
                     hint=_("start at 1.0; every epoch one update of all three with the gradient of the mean squared "
                            "error over all the samples, then zero every gradient"))


@pytest.mark.points(2)
def test_train_quadratic_recovers_random_parabola(student, seed):
    rng = np.random.default_rng(seed)
    x = np.linspace(-1.0, 1.0, 11)
    coefficients = rng.uniform(-3.0, 3.0, 3)
    y = coefficients[0] * x**2 + coefficients[1] * x + coefficients[2]
    what = "train_quadratic(11 points of y = {:.3f}x^2 + {:.3f}x + {:.3f}, lr=0.3, epochs=300)".format(*coefficients)
    got = public._three_numbers(student.train_quadratic(x.tolist(), y.tolist(), lr=0.3, epochs=300), what,
                         public.DIVERGED_QUADRATIC)
    mistakes = public._quadratic_mistakes(got, x, y, 0.3, 300, rtol=1e-3)
    for name, g, want in zip(("w1", "w2", "b"), got, coefficients):
        expect_close(g, float(want), f"{what}: {name}", atol=1e-3, mistakes=mistakes)
