"""Hidden checks of 02_backprop: graded by the instructor, never shipped to students."""

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
    fail,
)
from grader.i18n import _

STEPS = dict(rtol=1e-5, atol=1e-6)  # a few steps replayed: float32 arithmetic in student code is fine


# --- reading what the student returned ---------------------------------------------------------------

def _plain_number(value, what, diverged=None, strict=False):
    """A number, or a one-element tensor, as a float; `diverged`: the hint for a run that blew up (nan, inf or
    beyond 1e6, where the check's answers are a few units).

    Only the `strict` checks (one point each) refuse a tensor still in the autograd graph; the others read its
    value, so that returning `w` instead of `w.item()` costs that one check."""
    if type(value) in (torch.Tensor, torch.nn.Parameter):
        expect(not strict or not value.requires_grad and value.grad_fn is None,
               _("{what}: returned a tensor that is still part of the autograd graph (requires_grad=True)").format(
                   what=what), hint=_("return a plain number: w.item()"))
        value = value.detach()
    if (isinstance(value, (float, np.floating)) or type(value) is torch.Tensor and value.numel() == 1) and \
            not abs(float(value)) <= (1e6 if diverged else math.inf):
        fail(_("{what}: got {value}: training diverged").format(what=what, value=f"{float(value):.6g}"), diverged)
    return expect_number(value, what)


def _three_numbers(result, what, diverged=None, strict=False):
    expect_type(result, (tuple, list), what, hint=_("return the three numbers: return w1.item(), w2.item(), b.item()"))
    expect(len(result) == 3, _("{what}: expected 3 numbers (w1, w2, b), got {n}").format(what=what, n=len(result)))
    return [_plain_number(v, f"{what}: {name}", diverged, strict) for name, v in zip(("w1", "w2", "b"), result)]


def _close(got, want, rtol=STEPS["rtol"], atol=STEPS["atol"]):
    return abs(got - want) <= atol + rtol * abs(want)


# --- what the functions should give, and what common mistakes make them give ---------------------------

def _manual_grad_mistakes(x, y, w):
    r = x * w - y
    return [Mistake(_("the sign is flipped: r = y_hat - y, and d loss/dr = 2r"), -2 * r * x),
            Mistake(_("the factor x is missing: d y_hat/dw = x"), 2 * r),
            Mistake(_("the factor 2 is missing: d loss/dr = 2r"), r * x)]


def _linear_run(xs, ys, w, lr, epochs, scale=1.0, accumulate=False, batch=False):
    """train_linear's w by hand; `scale` (-1: uphill, 0.5: a halved loss), `accumulate` (w.grad never zeroed)
    and `batch` (one update per epoch with the mean gradient) are mistakes."""
    grad = 0.0
    for _epoch in range(epochs):
        if batch:
            w -= lr * scale * float(np.mean([2 * x * (x * w - y) for x, y in zip(xs, ys)]))
            continue
        for x, y in zip(xs, ys):
            step = scale * 2 * x * (x * w - y)
            grad = grad + step if accumulate else step
            w -= lr * grad
    return w


def _linear_mistakes(xs, ys, w0, lr, epochs):
    with np.errstate(all="ignore"):
        return [
            Mistake(_("w.grad was not zeroed: backward() adds to .grad, so zero w.grad after each update"),
                    _linear_run(xs, ys, w0, lr, epochs, accumulate=True)),
            Mistake(_("w moved uphill: subtract the gradient, w <- w - lr * w.grad"),
                    _linear_run(xs, ys, w0, lr, epochs, scale=-1.0)),
            Mistake(_("the steps are half as large as they should be: the loss is (x*w - y)**2, without a / 2"),
                    _linear_run(xs, ys, w0, lr, epochs, scale=0.5)),
            Mistake(_("one update per sample, in the order given, not one per epoch"),
                    _linear_run(xs, ys, w0, lr, epochs, batch=True)),
        ]


def _quadratic_run(xs, ys, lr, epochs, reduce=np.mean, scale=1.0, accumulate=False, per_sample=False, start=1.0):
    """train_quadratic's (w1, w2, b) by hand; every keyword but `lr` and `epochs` can make a mistake."""
    x, y = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    p, grad = np.full(3, start), np.zeros(3)
    with np.errstate(all="ignore"):
        for _epoch in range(epochs):
            for i in range(len(x)) if per_sample else [slice(None)]:
                bx, by = np.atleast_1d(x[i]), np.atleast_1d(y[i])
                r2 = 2 * (p[0] * bx**2 + p[1] * bx + p[2] - by)  # d (y_hat - y)**2 / d y_hat
                step = scale * np.array([reduce(r2 * bx**2), reduce(r2 * bx), reduce(r2)])
                grad = grad + step if accumulate else step
                p = p - lr * grad
    return [float(v) for v in p]


def _quadratic_mistakes(got, xs, ys, lr, epochs, rtol=STEPS["rtol"]):
    """The mistakes whose (w1, w2, b) is `got`, to `rtol` (float32 rounding grows over a long run)."""
    variants = [
        (_("the gradient of the sum: the loss is the MEAN squared error over all the samples"), dict(reduce=np.sum)),
        (_("the gradients were not zeroed: backward() adds to .grad, so zero every gradient after the update"),
         dict(accumulate=True)),
        (_("one update per epoch, with the mean squared error over all the samples together, not one per sample"),
         dict(per_sample=True)),
        (_("the parameters moved uphill: p <- p - lr * p.grad"), dict(scale=-1.0)),
        (_("the steps are half as large as they should be: the loss is the mean of (y_hat - y)**2, without a / 2"),
         dict(scale=0.5)),
        (_("start w1, w2 and b at 1.0"), dict(start=0.0)),
    ]
    return [Mistake(hint, lambda _v, k=k: all(_close(g, want, rtol, rtol) for g, want in
                                              zip(got, _quadratic_run(xs, ys, lr, epochs, **k))))
            for hint, k in variants]


DIVERGED_QUADRATIC = _("with the mean squared error, one update per epoch and the gradients zeroed after it, "
                       "lr=0.3 converges on these points")


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
                     mistakes=_manual_grad_mistakes(x, y, w),
                     hint=_("(d loss/dr) * (dr/dy_hat) * (dy_hat/dw) with r = x*w - y; no backward() in here"))


@pytest.mark.points(3)
def test_train_linear_matches_per_sample_updates(student, seed):
    rng = np.random.default_rng(seed)
    xs = rng.uniform(0.5, 2.0, 4).tolist()
    ys = rng.uniform(-4.0, 4.0, 4).tolist()
    w0, lr = float(rng.uniform(-2.0, 2.0)), float(rng.uniform(0.01, 0.05))
    what = f"train_linear(4 random samples, w0={w0:.4f}, lr={lr:.4f}, epochs=2)"
    w = _plain_number(student.train_linear(list(xs), list(ys), w0=w0, lr=lr, epochs=2), what)
    expect_close(w, _linear_run(xs, ys, w0, lr, 2), what, **STEPS, mistakes=_linear_mistakes(xs, ys, w0, lr, 2),
                 hint=_("one update per sample in the order given: w <- w - lr * w.grad, then zero w.grad"))


@pytest.mark.points(2)
def test_train_linear_recovers_random_slope(student, seed):
    rng = np.random.default_rng(seed)
    xs = rng.uniform(0.5, 1.5, 5).tolist()
    slope = float(rng.uniform(-3.0, 3.0))
    ys = [slope * x for x in xs]
    what = f"train_linear(5 samples of y = {slope:.4f} * x, w0=0.0, lr=0.1, epochs=60)"
    w = _plain_number(student.train_linear(list(xs), list(ys), w0=0.0, lr=0.1, epochs=60), what)
    expect_close(w, slope, what, atol=1e-4, mistakes=_linear_mistakes(xs, ys, 0.0, 0.1, 60))


@pytest.mark.points(3)
def test_train_quadratic_first_epochs_exact(student, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, 6)
    y = rng.uniform(-2.0, 2.0) * x**2 + rng.uniform(-2.0, 2.0) * x + rng.uniform(-1.0, 1.0) + rng.normal(0, 0.1, 6)
    lr = float(rng.uniform(0.05, 0.3))
    what = f"train_quadratic(6 random samples, lr={lr:.4f}, epochs=3)"
    got = _three_numbers(student.train_quadratic(x.tolist(), y.tolist(), lr=lr, epochs=3), what)
    mistakes = _quadratic_mistakes(got, x, y, lr, 3)
    for name, g, want in zip(("w1", "w2", "b"), got, _quadratic_run(x, y, lr, 3)):
        expect_close(g, want, f"{what}: {name}", **STEPS, mistakes=mistakes,
                     hint=_("start at 1.0; every epoch one update of all three with the gradient of the mean squared "
                            "error over all the samples, then zero every gradient"))


@pytest.mark.points(2)
def test_train_quadratic_recovers_random_parabola(student, seed):
    rng = np.random.default_rng(seed)
    x = np.linspace(-1.0, 1.0, 11)
    coefficients = rng.uniform(-3.0, 3.0, 3)
    y = coefficients[0] * x**2 + coefficients[1] * x + coefficients[2]
    what = "train_quadratic(11 points of y = {:.3f}x^2 + {:.3f}x + {:.3f}, lr=0.3, epochs=300)".format(*coefficients)
    got = _three_numbers(student.train_quadratic(x.tolist(), y.tolist(), lr=0.3, epochs=300), what,
                         DIVERGED_QUADRATIC)
    mistakes = _quadratic_mistakes(got, x, y, 0.3, 300, rtol=1e-3)
    for name, g, want in zip(("w1", "w2", "b"), got, coefficients):
        expect_close(g, float(want), f"{what}: {name}", atol=1e-3, mistakes=mistakes)
