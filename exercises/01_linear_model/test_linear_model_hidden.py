"""Hidden checks of 01_linear_model: graded by the instructor, never shipped to students."""

import numpy as np
import pytest
import torch

from grader.checks import expect, expect_close, expect_number, expect_type, numeric_gradient

EXACT = dict(rtol=1e-9, atol=1e-12)


def _numbers(values, length, what, hint=None):
    expect_type(values, (list, tuple, np.ndarray), what, hint)
    expect(len(values) == length, f"{what}: expected {length} values, got {len(values)}", hint)
    return [expect_number(v, f"{what}[{i}]", hint) for i, v in enumerate(values)]


def _pair(result, what):
    expect_type(result, tuple, what, hint="return two things: return a, b")
    expect(len(result) == 2, f"{what}: expected a pair, got {len(result)} items")
    return result


def _data(seed, n):
    """n samples on a noisy line through the origin, as NumPy float64 arrays."""
    rng = np.random.default_rng(seed)
    xs = rng.uniform(0.5, 2.0, n)
    ys = rng.uniform(-3.0, 3.0) * xs + rng.normal(0.0, 0.3, n)
    return rng, xs, ys


def _true_mse(xs, ys, w):
    return float(np.mean((xs * w - ys) ** 2))


@pytest.mark.points(1)
def test_forward_on_arrays(student):
    x = np.array([0.5, -1.0, 2.0, 3.25])
    got = student.forward(x, 1.5)
    expect_type(got, np.ndarray, "forward(np.array([0.5, -1.0, 2.0, 3.25]), 1.5)", hint="x * w works on arrays too")
    for i, want in enumerate(x * 1.5):
        expect_close(got[i], want, f"forward(array, 1.5)[{i}]")


@pytest.mark.points(2)
def test_mse_on_random_data(student, seed):
    rng, xs, ys = _data(seed, 7)
    for w in rng.uniform(-4.0, 4.0, 5):
        expect_close(student.mse(xs, ys, w), _true_mse(xs, ys, w), f"mse(7 random samples, w={w:.4f})", **EXACT,
                     hint="the mean over the samples, not the sum")


@pytest.mark.points(2)
def test_grid_search_on_random_data(student, seed):
    rng, xs, ys = _data(seed, 5)
    ws = np.sort(rng.uniform(-4.0, 4.0, 17))
    w_list, mse_list = _pair(student.grid_search(xs, ys, ws), "grid_search(5 random samples, 17 ws)")
    w_list = _numbers(w_list, 17, "grid_search's w_list", hint="one entry per w tried, in order")
    mse_list = _numbers(mse_list, 17, "grid_search's mse_list", hint="one MSE per w tried, in order")
    for i, w in enumerate(ws):
        expect_close(w_list[i], w, f"w_list[{i}]", **EXACT, hint="w_list holds the ws tried, in the order given")
        expect_close(mse_list[i], _true_mse(xs, ys, w), f"mse_list[{i}] (w={w:.4f})", **EXACT)


@pytest.mark.points(3)
def test_gradient_matches_central_differences(student, seed):
    rng, xs, ys = _data(seed, 6)
    for w in rng.uniform(-4.0, 4.0, 5):
        numeric = numeric_gradient(lambda t: _true_mse(xs, ys, float(t)), torch.tensor([w], dtype=torch.float64))
        expect_close(student.gradient(xs, ys, w), float(numeric[0]), f"gradient(6 random samples, w={w:.4f})",
                     rtol=1e-6, atol=1e-8, hint="d/dw of (1/N) sum (x*w - y)**2 is (1/N) sum 2*x*(x*w - y)")


def _gd_oracle(xs, ys, w, lr, epochs):
    costs = []
    for _ in range(epochs):
        costs.append(_true_mse(xs, ys, w))
        w -= lr * float(np.mean(2 * xs * (xs * w - ys)))
    return w, costs


def _sgd_oracle(xs, ys, w, lr, epochs):
    losses = []
    for _ in range(epochs):
        for x, y in zip(xs, ys):
            losses.append((x * w - y) ** 2)
            w -= lr * 2 * x * (x * w - y)
    return w, losses


@pytest.mark.points(3)
def test_gradient_descent_trajectory_on_random_data(student, seed):
    rng, xs, ys = _data(seed, 5)
    w0, lr = rng.uniform(-2.0, 2.0), rng.uniform(0.02, 0.1)
    what = f"gradient_descent(5 random samples, w0={w0:.4f}, lr={lr:.4f}, epochs=3)"
    want_w, want_costs = _gd_oracle(xs, ys, w0, lr, 3)
    w, costs = _pair(student.gradient_descent(xs, ys, w0, lr, 3), what)
    costs = _numbers(costs, 3, f"{what}: cost_history", hint="one cost per epoch")
    for i, want in enumerate(want_costs):
        expect_close(costs[i], want, f"{what}: cost_history[{i}]", **EXACT,
                     hint="cost_history[k] is the MSE over all samples just before epoch k's update")
    expect_close(w, want_w, f"{what}: w", **EXACT,
                 hint="exactly one update per epoch, with the gradient averaged over all samples")


@pytest.mark.points(3)
def test_sgd_trajectory_on_random_data(student, seed):
    rng, xs, ys = _data(seed, 4)
    w0, lr = rng.uniform(-2.0, 2.0), rng.uniform(0.02, 0.1)
    what = f"sgd(4 random samples, w0={w0:.4f}, lr={lr:.4f}, epochs=2)"
    want_w, want_losses = _sgd_oracle(xs, ys, w0, lr, 2)
    w, losses = _pair(student.sgd(xs, ys, w0, lr, 2), what)
    losses = _numbers(losses, 8, f"{what}: loss_history", hint="one loss per update: epochs * len(xs) in all")
    for i, want in enumerate(want_losses):
        expect_close(losses[i], want, f"{what}: loss_history[{i}]", **EXACT,
                     hint="loss_history[k] is the loss of the sample about to be used, before its update")
    expect_close(w, want_w, f"{what}: w", **EXACT,
                 hint="one update per sample, in the order given, with that sample's own gradient")


@pytest.mark.points(2)
def test_gradient_descent_reaches_least_squares(student, seed):
    _, xs, ys = _data(seed, 8)
    best = float(np.sum(xs * ys) / np.sum(xs * xs))  # where d mse / dw = 0
    what = "gradient_descent(8 noisy samples, w0=0.0, lr=0.1, epochs=300)"
    w, _ = _pair(student.gradient_descent(xs, ys, 0.0, 0.1, 300), what)
    expect_close(w, best, f"{what}: w", rtol=1e-6, atol=1e-6,
                 hint="the minimum of the MSE is at sum(x*y) / sum(x*x)")


@pytest.mark.points(2)
def test_sgd_recovers_slope(student, seed):
    rng = np.random.default_rng(seed)
    xs = rng.uniform(0.5, 1.5, 5)
    slope = rng.uniform(-3.0, 3.0)
    what = f"sgd(5 samples of y = {slope:.4f} * x, w0=0.0, lr=0.1, epochs=100)"
    w, _ = _pair(student.sgd(xs, slope * xs, 0.0, 0.1, 100), what)
    expect_close(w, slope, f"{what}: w", rtol=1e-6, atol=1e-6)
