"""Public checks of 02_backprop: run them with `pytest exercises/02_backprop`."""

import pytest
import torch

from grader.checks import expect, expect_close, expect_number, expect_type

# The notes' data: three points on the line y = 2x.
XS = [1.0, 2.0, 3.0]
YS = [2.0, 4.0, 6.0]
# A parabola sampled on [-1, 1], where gradient descent on all three parameters converges quickly.
PX = [i / 4 for i in range(-4, 5)]
PY = [3 * x**2 - 2 * x + 0.5 for x in PX]


def _plain_number(value, what):
    """A number, or a one-element tensor cut off from the autograd graph; returned as a float."""
    if type(value) in (torch.Tensor, torch.nn.Parameter):
        expect(not value.requires_grad and value.grad_fn is None,
               f"{what}: returned a tensor that is still part of the autograd graph (requires_grad=True)",
               hint="return a plain number: w.item()")
    return expect_number(value, what, hint="return a plain number: w.item()")


@pytest.mark.points(1)
def test_manual_grad_on_notes_data(student):
    for x, y, w, want in [(1.0, 2.0, 1.0, -2.0), (2.0, 4.0, 1.0, -8.0), (3.0, 6.0, 1.0, -18.0), (2.0, 4.0, 2.0, 0.0)]:
        expect_close(student.manual_grad(x, y, w), want, f"manual_grad(x={x}, y={y}, w={w})",
                     hint="2 * (x*w - y) * x: the outer derivative times the inner one")


@pytest.mark.points(1)
def test_train_linear_returns_a_plain_number(student):
    _plain_number(student.train_linear(XS, YS, epochs=1), "train_linear(x=[1,2,3], y=[2,4,6], epochs=1)")


@pytest.mark.points(2)
def test_train_linear_one_epoch_per_sample(student):
    what = "train_linear(x=[1,2,3], y=[2,4,6], w0=1.0, lr=0.01, epochs=1)"
    w = _plain_number(student.train_linear(XS, YS, w0=1.0, lr=0.01, epochs=1), what)
    # Three updates, one per sample: w = 1.02, then 1.0984, then 1.260688.
    expect_close(w, 1.260688, what, rtol=1e-5,
                 hint="one update per sample, and zero w.grad after each one: backward() adds to .grad")


@pytest.mark.points(1)
def test_train_linear_converges_on_notes_data(student):
    what = "train_linear(x=[1,2,3], y=[2,4,6]) with the defaults w0=1.0, lr=0.01, epochs=100"
    w = _plain_number(student.train_linear(XS, YS), what)
    expect_close(w, 2.0, what, atol=1e-3, hint="update with w.data -= lr * w.grad.data: against the gradient")


@pytest.mark.points(1)
def test_train_quadratic_returns_three_numbers(student):
    what = "train_quadratic(9 points of a parabola, lr=0.3, epochs=1)"
    result = student.train_quadratic(PX, PY, lr=0.3, epochs=1)
    expect_type(result, tuple, what, hint="return w1.item(), w2.item(), b.item()")
    expect(len(result) == 3, f"{what}: expected 3 numbers (w1, w2, b), got {len(result)}")
    for name, value in zip(("w1", "w2", "b"), result):
        _plain_number(value, f"{what}: {name}")


@pytest.mark.points(2)
def test_train_quadratic_fits_a_parabola(student):
    what = "train_quadratic(9 points of y = 3x^2 - 2x + 0.5 on [-1, 1], lr=0.3, epochs=300)"
    result = student.train_quadratic(PX, PY, lr=0.3, epochs=300)
    expect_type(result, tuple, what, hint="return w1.item(), w2.item(), b.item()")
    expect(len(result) == 3, f"{what}: expected 3 numbers (w1, w2, b), got {len(result)}")
    for name, value, want in zip(("w1", "w2", "b"), result, (3.0, -2.0, 0.5)):
        expect_close(_plain_number(value, f"{what}: {name}"), want, f"{what}: {name}", atol=1e-3,
                     hint="mean squared error over all points, one update per epoch, gradients zeroed after it")
