"""Realistic mistakes in 01_linear_model's linear_model.py cost the checks about them, with the hint of their cause."""

import pytest

from grader.testing import assert_hint, failed_checks

GD_RECORD = "        cost_history.append(mse(xs, ys, w))  # the cost before this epoch's update\n"
GD_STEP = "        w -= lr * gradient(xs, ys, w)\n"
GD_STEP_PER_SAMPLE = "        for x, y in zip(xs, ys):\n            w -= lr * gradient([x], [y], w)\n"
SGD_LOOP = "        for x, y in zip(xs, ys):\n            loss_history"
SGD_RECORD = "            loss_history.append((forward(x, w) - y) ** 2)  # this sample's loss, before its update\n"
SGD_STEP = "            w -= lr * gradient([x], [y], w)  # a data set of one sample: its own gradient\n"
SGD_STEP_PER_EPOCH = "        w -= lr * gradient(xs, ys, w)\n"
GRADIENT_CHECKS = ["test_gradient_on_notes_data", "test_gradient_matches_central_differences"]
MSE_CHECKS = ["test_mse_on_notes_data", "test_mse_on_random_data"]
SGD_STEPS = ["test_sgd_one_epoch_on_notes_data", "test_sgd_trajectory_on_random_data"]

# mistake: (edit, the checks that must catch it, the hint each of them shows, or None for no hint at all)
MISTAKES = {
    "mse sums instead of averaging": (
        ("return squared / len(xs)", "return squared"), MSE_CHECKS, "that is the sum of the squared errors"),
    "mse halves, as the book's squared_loss does": (
        ("return squared / len(xs)", "return squared / (2 * len(xs))"), MSE_CHECKS, "half the MSE"),
    "mse divides by a hard-coded 3": (
        ("return squared / len(xs)", "return squared / 3"), ["test_mse_on_random_data"], "not by a fixed number"),
    "mse takes the square root": (
        ("return squared / len(xs)", "return (squared / len(xs)) ** 0.5"), MSE_CHECKS, "no square root"),
    "mse of the absolute errors": (
        ("squared += (forward(x, w) - y) ** 2", "squared += abs(forward(x, w) - y)"), MSE_CHECKS,
        "square the errors"),
    "grid_search returns the pair swapped": (
        ("return w_list, mse_list", "return mse_list, w_list"),
        ["test_grid_search_finds_two", "test_grid_search_on_random_data"], "return (w_list, mse_list)"),
    "gradient with the sign flipped": (
        ("2 * x * (forward(x, w) - y)", "2 * x * (y - forward(x, w))"), GRADIENT_CHECKS, "the sign is flipped"),
    "gradient forgets the inner derivative x": (
        ("2 * x * (forward(x, w) - y)", "2 * (forward(x, w) - y)"), GRADIENT_CHECKS, "the factor x is missing"),
    "gradient forgets the factor 2": (
        ("2 * x * (forward(x, w) - y)", "x * (forward(x, w) - y)"), GRADIENT_CHECKS, "the factor 2 is missing"),
    "gradient sums instead of averaging": (
        ("return grad / len(xs)", "return grad"), GRADIENT_CHECKS, "that is the sum over the samples"),
    "a flipped gradient makes gradient descent climb": (
        ("2 * x * (forward(x, w) - y)", "2 * x * (y - forward(x, w))"),
        ["test_gradient_descent_converges_on_notes_data", "test_sgd_converges_on_notes_data"], "moved uphill"),
    "gradient descent steps uphill": (
        ("w -= lr * gradient(xs, ys, w)", "w += lr * gradient(xs, ys, w)"),
        ["test_gradient_descent_one_epoch_on_notes_data", "test_gradient_descent_trajectory_on_random_data",
         "test_gradient_descent_converges_on_notes_data", "test_gradient_descent_reaches_least_squares"],
        "moved uphill"),
    "gradient descent updates per sample": (
        (GD_RECORD + GD_STEP, GD_RECORD + GD_STEP_PER_SAMPLE), ["test_gradient_descent_trajectory_on_random_data"],
        "one update per epoch, with the gradient of all the samples together"),
    "gradient descent records the cost after the update": (
        (GD_RECORD + GD_STEP, GD_STEP + GD_RECORD),
        ["test_gradient_descent_one_epoch_on_notes_data", "test_gradient_descent_trajectory_on_random_data"],
        "record the cost before the update"),
    "sgd uses the whole batch's gradient": (
        ("w -= lr * gradient([x], [y], w)", "w -= lr * gradient(xs, ys, w)"),
        SGD_STEPS, "that one sample's gradient"),
    "sgd updates once per epoch": (
        (SGD_RECORD + SGD_STEP, SGD_RECORD + SGD_STEP_PER_EPOCH),
        SGD_STEPS, "not once per epoch"),
    "sgd records the loss after the update": (
        (SGD_RECORD + SGD_STEP, SGD_STEP + SGD_RECORD),
        SGD_STEPS, "just before its update, not after"),
    "sgd visits the samples in reverse": (
        (SGD_LOOP, "        for x, y in reversed(list(zip(xs, ys))):\n            loss_history"),
        SGD_STEPS, "in the order given"),
    "sgd steps uphill": (
        ("w -= lr * gradient([x], [y], w)", "w += lr * gradient([x], [y], w)"),
        ["test_sgd_trajectory_on_random_data", "test_sgd_converges_on_notes_data", "test_sgd_recovers_slope"],
        "moved uphill"),
    "imports torch": (
        ("def forward(x, w):\n", "import torch\n\n\ndef forward(x, w):\n"), ["test_no_torch"],
        "plain Python and NumPy"),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_mistake_costs_its_checks_with_its_hint(grade_mutant, mistake):
    edit, checks, hint = MISTAKES[mistake]
    report = grade_mutant("01_linear_model", edit, checks=checks)
    results = {c.name: c for c in report.checks}
    assert set(results) == set(checks), f"{mistake!r}: graded {sorted(results)}"
    for name, result in results.items():
        assert result.outcome == "failed", f"{mistake!r} did not fail {name}"
        assert_hint(result.message, hint, f"{mistake!r}: {name}")


# mistake: every check it costs, when all are graded (the others pass)
COSTS_ONLY = {
    "mse halves, as the book's squared_loss does": set(MSE_CHECKS),
    "mse sums instead of averaging": set(MSE_CHECKS),
    "gradient sums instead of averaging": set(GRADIENT_CHECKS),
    "sgd visits the samples in reverse": set(SGD_STEPS),
}


@pytest.mark.parametrize("mistake", COSTS_ONLY)
def test_mistake_costs_only_the_checks_about_it(grade_mutant, mistake):
    report = grade_mutant("01_linear_model", MISTAKES[mistake][0])
    assert failed_checks(report) == COSTS_ONLY[mistake]
