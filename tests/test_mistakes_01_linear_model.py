"""Realistic mistakes in 01_linear_model's linear_model.py must cost points."""

import pytest

from grader.testing import failed_checks

GD_RECORD = "        cost_history.append(mse(xs, ys, w))  # the cost before this epoch's update\n"
GD_STEP = "        w -= lr * gradient(xs, ys, w)\n"
GD_STEP_PER_SAMPLE = "        for x, y in zip(xs, ys):\n            w -= lr * gradient([x], [y], w)\n"
SGD_RECORD = "            loss_history.append((forward(x, w) - y) ** 2)  # this sample's loss, before its update\n"
SGD_STEP = "            w -= lr * gradient([x], [y], w)  # a data set of one sample: its own gradient\n"
SGD_STEP_PER_EPOCH = "        w -= lr * gradient(xs, ys, w)\n"

MISTAKES = {
    "mse sums instead of averaging": (("return squared / len(xs)", "return squared"), "test_mse_on_random_data"),
    "grid_search returns the pair swapped": (
        ("return w_list, mse_list", "return mse_list, w_list"), "test_grid_search_on_random_data"),
    "gradient with the sign flipped": (
        ("2 * x * (forward(x, w) - y)", "2 * x * (y - forward(x, w))"), "test_gradient_matches_central_differences"),
    "gradient forgets the inner derivative x": (
        ("2 * x * (forward(x, w) - y)", "2 * (forward(x, w) - y)"), "test_gradient_matches_central_differences"),
    "gradient sums instead of averaging": (
        ("return grad / len(xs)", "return grad"), "test_gradient_matches_central_differences"),
    "gradient descent steps uphill": (
        ("w -= lr * gradient(xs, ys, w)", "w += lr * gradient(xs, ys, w)"),
        "test_gradient_descent_trajectory_on_random_data"),
    "gradient descent updates per sample": (
        (GD_RECORD + GD_STEP, GD_RECORD + GD_STEP_PER_SAMPLE),
        "test_gradient_descent_trajectory_on_random_data"),
    "gradient descent records the cost after the update": (
        (GD_RECORD + GD_STEP, GD_STEP + GD_RECORD),
        "test_gradient_descent_trajectory_on_random_data"),
    "sgd uses the whole batch's gradient": (
        ("w -= lr * gradient([x], [y], w)", "w -= lr * gradient(xs, ys, w)"), "test_sgd_trajectory_on_random_data"),
    "sgd updates once per epoch": (
        (SGD_RECORD + SGD_STEP, SGD_RECORD + SGD_STEP_PER_EPOCH),
        "test_sgd_trajectory_on_random_data"),
    "sgd records the loss after the update": (
        (SGD_RECORD + SGD_STEP, SGD_STEP + SGD_RECORD), "test_sgd_trajectory_on_random_data"),
    "sgd steps uphill": (
        ("w -= lr * gradient([x], [y], w)", "w += lr * gradient([x], [y], w)"), "test_sgd_recovers_slope"),
    "imports torch": (("def forward(x, w):\n", "import torch\n\n\ndef forward(x, w):\n"), "test_no_torch"),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_mistake_loses_points(grade_mutant, mistake):
    edit, check = MISTAKES[mistake]
    report = grade_mutant("01_linear_model", edit)
    assert check in failed_checks(report), f"{mistake!r} did not fail {check}"
    assert report.total < report.max_total
