"""Public checks of 02_backprop: run them with `pytest exercises/02_backprop`."""

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

# The notes' data: three points on the line y = 2x.
XS = [1.0, 2.0, 3.0]
YS = [2.0, 4.0, 6.0]
# A parabola sampled on [-1, 1], where gradient descent on all three parameters converges quickly.
PX = [i / 4 for i in range(-4, 5)]
PY = [3 * x**2 - 2 * x + 0.5 for x in PX]
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

@pytest.mark.points(1)
def test_manual_grad_on_notes_data(student):
    for x, y, w, want in [(1.0, 2.0, 1.0, -2.0), (2.0, 4.0, 1.0, -8.0), (3.0, 6.0, 1.0, -18.0), (2.0, 4.0, 2.0, 0.0)]:
        expect_close(student.manual_grad(x, y, w), want, f"manual_grad(x={x}, y={y}, w={w})",
                     mistakes=_manual_grad_mistakes(x, y, w),
                     hint=_("2 * (x*w - y) * x: the outer derivative times the inner one"))


@pytest.mark.points(1)
def test_train_linear_returns_a_plain_number(student):
    _plain_number(student.train_linear(list(XS), list(YS), epochs=1), "train_linear(x=[1,2,3], y=[2,4,6], epochs=1)",
                  strict=True)


@pytest.mark.points(2)
def test_train_linear_one_epoch_per_sample(student):
    what = "train_linear(x=[1,2,3], y=[2,4,6], w0=1.0, lr=0.01, epochs=1)"
    w = _plain_number(student.train_linear(list(XS), list(YS), w0=1.0, lr=0.01, epochs=1), what)
    # Three updates, one per sample: w = 1.02, then 1.0984, then 1.260688.
    expect_close(w, 1.260688, what, **STEPS, mistakes=_linear_mistakes(XS, YS, 1.0, 0.01, 1),
                 hint=_("one update per sample in the order given: w <- w - lr * w.grad, then zero w.grad"))


@pytest.mark.points(1)
def test_train_linear_converges_on_notes_data(student):
    what = "train_linear(x=[1,2,3], y=[2,4,6]) with the defaults w0=1.0, lr=0.01, epochs=100"
    w = _plain_number(student.train_linear(list(XS), list(YS)), what)
    expect_close(w, 2.0, what, atol=1e-3, mistakes=_linear_mistakes(XS, YS, 1.0, 0.01, 100))


@pytest.mark.points(1)
def test_train_quadratic_returns_three_numbers(student):
    what = "train_quadratic(9 points of a parabola, lr=0.3, epochs=1)"
    _three_numbers(student.train_quadratic(list(PX), list(PY), lr=0.3, epochs=1), what, strict=True)


@pytest.mark.points(2)
def test_train_quadratic_fits_a_parabola(student):
    what = "train_quadratic(9 points of y = 3x^2 - 2x + 0.5 on [-1, 1], lr=0.3, epochs=300)"
    got = _three_numbers(student.train_quadratic(list(PX), list(PY), lr=0.3, epochs=300), what, DIVERGED_QUADRATIC)
    mistakes = _quadratic_mistakes(got, PX, PY, 0.3, 300, rtol=1e-3)
    for name, value, want in zip(("w1", "w2", "b"), got, (3.0, -2.0, 0.5)):
        expect_close(value, want, f"{what}: {name}", atol=1e-3, mistakes=mistakes)
