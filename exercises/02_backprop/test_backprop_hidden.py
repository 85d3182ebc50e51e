"""Hidden checks of 02_backprop: graded by the instructor, never shipped to students."""

import numpy as np
import pytest
import torch

from grader.checks import expect, expect_close, expect_number, expect_type

STEPS = dict(rtol=1e-5, atol=1e-6)  # float32 arithmetic in student code is fine


def _plain_number(value, what):
    if type(value) in (torch.Tensor, torch.nn.Parameter):
        expect(not value.requires_grad and value.grad_fn is None,
               f"{what}: returned a tensor that is still part of the autograd graph (requires_grad=True)",
               hint="return a plain number: w.item()")
    return expect_number(value, what, hint="return a plain number: w.item()")


def _three_numbers(result, what):
    expect_type(result, tuple, what, hint="return w1.item(), w2.item(), b.item()")
    expect(len(result) == 3, f"{what}: expected 3 numbers (w1, w2, b), got {len(result)}")
    return [_plain_number(v, f"{what}: {name}") for name, v in zip(("w1", "w2", "b"), result)]


@pytest.mark.points(3)
def test_manual_grad_matches_autograd(student, seed):
    rng = np.random.default_rng(seed)
    for x, y, w in rng.uniform(-3.0, 3.0, (20, 3)).tolist():
        tw = torch.tensor(w, dtype=torch.float64, requires_grad=True)
        ((x * tw - y) ** 2).backward()
        with torch.no_grad():  # the chain rule by hand needs no autograd
            got = student.manual_grad(x, y, w)
        expect_close(got, tw.grad.item(), f"manual_grad(x={x:.4f}, y={y:.4f}, w={w:.4f})", rtol=1e-9, atol=1e-12,
                     hint="(d loss/dr) * (dr/dy_hat) * (dy_hat/dw) with r = x*w - y; no backward() in here")


def _sgd_oracle(xs, ys, w, lr, epochs):
    for _ in range(epochs):
        for x, y in zip(xs, ys):
            w -= lr * 2 * x * (x * w - y)
    return w


@pytest.mark.points(3)
def test_train_linear_matches_per_sample_updates(student, seed):
    rng = np.random.default_rng(seed)
    xs = rng.uniform(0.5, 2.0, 4).tolist()
    ys = rng.uniform(-4.0, 4.0, 4).tolist()
    w0, lr = float(rng.uniform(-2.0, 2.0)), float(rng.uniform(0.01, 0.05))
    what = f"train_linear(4 random samples, w0={w0:.4f}, lr={lr:.4f}, epochs=2)"
    w = _plain_number(student.train_linear(xs, ys, w0=w0, lr=lr, epochs=2), what)
    expect_close(w, _sgd_oracle(xs, ys, w0, lr, 2), what, **STEPS,
                 hint="one update per sample in the order given, zeroing w.grad after every update")


@pytest.mark.points(2)
def test_train_linear_recovers_random_slope(student, seed):
    rng = np.random.default_rng(seed)
    xs = rng.uniform(0.5, 1.5, 5)
    slope = float(rng.uniform(-3.0, 3.0))
    what = f"train_linear(5 samples of y = {slope:.4f} * x, w0=0.0, lr=0.1, epochs=60)"
    w = _plain_number(student.train_linear(xs.tolist(), (slope * xs).tolist(), w0=0.0, lr=0.1, epochs=60), what)
    expect_close(w, slope, what, atol=1e-4)


def _quadratic_oracle(xs, ys, lr, epochs):
    x, y = np.asarray(xs), np.asarray(ys)
    w1 = w2 = b = 1.0
    for _ in range(epochs):
        r2 = 2 * (w1 * x**2 + w2 * x + b - y)  # d (y_hat - y)**2 / d y_hat
        w1, w2, b = w1 - lr * np.mean(r2 * x**2), w2 - lr * np.mean(r2 * x), b - lr * np.mean(r2)
    return w1, w2, b


@pytest.mark.points(3)
def test_train_quadratic_first_epochs_exact(student, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, 6)
    y = rng.uniform(-2.0, 2.0) * x**2 + rng.uniform(-2.0, 2.0) * x + rng.uniform(-1.0, 1.0) + rng.normal(0, 0.1, 6)
    lr = float(rng.uniform(0.05, 0.3))
    what = f"train_quadratic(6 random samples, lr={lr:.4f}, epochs=3)"
    got = _three_numbers(student.train_quadratic(x.tolist(), y.tolist(), lr=lr, epochs=3), what)
    for name, g, want in zip(("w1", "w2", "b"), got, _quadratic_oracle(x, y, lr, 3)):
        expect_close(g, want, f"{what}: {name}", **STEPS,
                     hint="start at 1.0; per epoch one update with the MEAN squared error over all samples; "
                          "zero every gradient after the update")


@pytest.mark.points(2)
def test_train_quadratic_recovers_random_parabola(student, seed):
    rng = np.random.default_rng(seed)
    x = np.linspace(-1.0, 1.0, 11)
    coefficients = rng.uniform(-3.0, 3.0, 3)
    y = coefficients[0] * x**2 + coefficients[1] * x + coefficients[2]
    what = "train_quadratic(11 points of y = {:.3f}x^2 + {:.3f}x + {:.3f}, lr=0.3, epochs=300)".format(*coefficients)
    got = _three_numbers(student.train_quadratic(x.tolist(), y.tolist(), lr=0.3, epochs=300), what)
    for name, g, want in zip(("w1", "w2", "b"), got, coefficients):
        expect_close(g, float(want), f"{what}: {name}", atol=1e-3)
