"""Public checks of 01_linear_model: run them with `pytest exercises/01_linear_model`."""

import ast
import types
from pathlib import Path

import numpy as np
import pytest

from grader.checks import expect, expect_close, expect_number, expect_type, fail

# The notes' data: three points on the line y = 2x.
XS = [1.0, 2.0, 3.0]
YS = [2.0, 4.0, 6.0]
EXACT = dict(rtol=1e-9, atol=1e-12)


def _numbers(values, length, what, hint=None):
    """A list, tuple or 1-D array of `length` numbers, returned as a list of floats."""
    expect_type(values, (list, tuple, np.ndarray), what, hint)
    expect(len(values) == length, f"{what}: expected {length} values, got {len(values)}", hint)
    return [expect_number(v, f"{what}[{i}]", hint) for i, v in enumerate(values)]


def _pair(result, what):
    expect_type(result, tuple, what, hint="return two things: return a, b")
    expect(len(result) == 2, f"{what}: expected a pair, got {len(result)} items")
    return result


@pytest.mark.points(1)
def test_forward_on_numbers(student):
    expect_close(student.forward(4.0, 2.0), 8.0, "forward(4.0, 2.0)", hint="the model is x * w")
    expect_close(student.forward(3.0, 1.5), 4.5, "forward(3.0, 1.5)")


@pytest.mark.points(1)
def test_mse_on_notes_data(student):
    expect_close(student.mse(XS, YS, 2.0), 0.0, "mse(x=[1,2,3], y=[2,4,6], w=2.0)", hint="w=2 fits every point")
    expect_close(student.mse(XS, YS, 1.0), 14 / 3, "mse(x=[1,2,3], y=[2,4,6], w=1.0)",
                 hint="(1 + 4 + 9) / 3: divide the sum of squared errors by the number of samples")
    expect_close(student.mse(XS, YS, 3.0), 14 / 3, "mse(x=[1,2,3], y=[2,4,6], w=3.0)")


@pytest.mark.points(2)
def test_grid_search_finds_two(student):
    ws = np.arange(0.0, 4.1, 0.1)  # the notes' grid: 0.0, 0.1, ..., 4.0
    w_list, mse_list = _pair(student.grid_search(XS, YS, ws), "grid_search(x, y, ws)")
    w_list = _numbers(w_list, len(ws), "grid_search's w_list", hint="one entry per w tried, in order")
    mse_list = _numbers(mse_list, len(ws), "grid_search's mse_list", hint="one MSE per w tried, in order")
    expect_close(w_list[10], 1.0, "w_list[10]", atol=1e-9, hint="w_list holds the ws tried, in order")
    expect_close(mse_list[10], 14 / 3, "mse_list[10] (the MSE at w=1.0)")
    best = int(np.argmin(mse_list))
    expect_close(w_list[best], 2.0, "the w with the smallest MSE", atol=1e-9)


@pytest.mark.points(1)
def test_gradient_on_notes_data(student):
    expect_close(student.gradient(XS, YS, 1.0), -28 / 3, "gradient(x=[1,2,3], y=[2,4,6], w=1.0)",
                 hint="mean of 2*x*(x*w - y): (-2 - 8 - 18) / 3")
    expect_close(student.gradient(XS, YS, 2.0), 0.0, "gradient(x=[1,2,3], y=[2,4,6], w=2.0)")


@pytest.mark.points(2)
def test_gradient_descent_one_epoch_on_notes_data(student):
    what = "gradient_descent(x=[1,2,3], y=[2,4,6], w0=1.0, lr=0.01, epochs=1)"
    w, costs = _pair(student.gradient_descent(XS, YS, 1.0, 0.01, 1), what)
    # One update with the batch gradient -28/3: w = 1 + 0.01 * 28/3.
    expect_close(w, 1 + 0.28 / 3, f"{what}: w", **EXACT,
                 hint="one update per epoch, with the gradient averaged over all the samples")
    costs = _numbers(costs, 1, f"{what}: cost_history", hint="one cost per epoch")
    expect_close(costs[0], 14 / 3, f"{what}: cost_history[0]", **EXACT, hint="record the cost before the update")


@pytest.mark.points(2)
def test_sgd_one_epoch_on_notes_data(student):
    what = "sgd(x=[1,2,3], y=[2,4,6], w0=1.0, lr=0.01, epochs=1)"
    w, losses = _pair(student.sgd(XS, YS, 1.0, 0.01, 1), what)
    # Three updates, one per sample: w = 1.02, then 1.0984, then 1.260688.
    expect_close(w, 1.260688, f"{what}: w", **EXACT,
                 hint="update w after every sample, with that sample's gradient 2*x*(x*w - y)")
    losses = _numbers(losses, 3, f"{what}: loss_history", hint="one loss per update: epochs * len(xs) in all")
    for i, want in enumerate([1.0, 1.96**2, 2.7048**2]):
        expect_close(losses[i], want, f"{what}: loss_history[{i}]", **EXACT,
                     hint="record each sample's loss (x*w - y)**2 just before its update")


@pytest.mark.points(1)
def test_gradient_descent_converges_on_notes_data(student):
    what = "gradient_descent(x=[1,2,3], y=[2,4,6], w0=1.0, lr=0.01, epochs=100)"
    w, costs = _pair(student.gradient_descent(XS, YS, 1.0, 0.01, 100), what)
    expect_close(w, 2.0, f"{what}: w", atol=1e-3, hint="subtract lr * gradient: w moves against the gradient")
    costs = _numbers(costs, 100, f"{what}: cost_history", hint="one cost per epoch")
    expect(costs[-1] < 1e-6, f"{what}: the last cost is {costs[-1]:.3g}, expected it near 0")


@pytest.mark.points(1)
def test_sgd_converges_on_notes_data(student):
    what = "sgd(x=[1,2,3], y=[2,4,6], w0=1.0, lr=0.01, epochs=100)"
    w, losses = _pair(student.sgd(XS, YS, 1.0, 0.01, 100), what)
    expect_close(w, 2.0, f"{what}: w", atol=1e-3, hint="subtract lr * gradient: w moves against the gradient")
    _numbers(losses, 300, f"{what}: loss_history", hint="one loss per update: epochs * len(xs) in all")


def _torch_uses(module):
    """Where the module imports or holds torch: import statements in its source, torch objects in its namespace."""
    found = []
    tree = ast.parse(Path(module.__file__).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"line {node.lineno}: import {a.name}" for a in node.names if a.name.split(".")[0] == "torch"]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "torch":
            found.append(f"line {node.lineno}: from {node.module} import ...")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.split(".")[0] == "torch":
            found.append(f"line {node.lineno}: the string {node.value!r}")
    for name, value in vars(module).items():
        origin = value.__name__ if isinstance(value, types.ModuleType) else getattr(value, "__module__", None)
        if isinstance(origin, str) and origin.split(".")[0] == "torch":
            found.append(f"the name {name} comes from torch")
    return found


@pytest.mark.points(1)
def test_no_torch(student):
    student.forward(2.0, 3.0)
    student.mse(XS, YS, 1.0)
    student.gradient_descent(XS, YS, 1.0, 0.01, 1)
    student.sgd(XS, YS, 1.0, 0.01, 1)
    uses = _torch_uses(student)
    if uses:
        fail(f"linear_model.py uses torch ({uses[0]})",
             hint="this exercise is plain Python and NumPy; torch comes in 02")
