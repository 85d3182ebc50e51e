"""Realistic mistakes in 02_backprop's backprop.py cost the checks about them, with the hint of their cause."""

import pytest

from grader.testing import assert_hint, failed_checks

QUADRATIC_STEP = """        loss = ((w1 * x**2 + w2 * x + b - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            for p in (w1, w2, b):
                p -= lr * p.grad
                p.grad.zero_()
"""
QUADRATIC_PER_SAMPLE = """        for xi, yi in zip(x, y):
            loss = (w1 * xi**2 + w2 * xi + b - yi) ** 2
            loss.backward()
            with torch.no_grad():
                for p in (w1, w2, b):
                    p -= lr * p.grad
                    p.grad.zero_()
"""
MANUAL = ["test_manual_grad_on_notes_data", "test_manual_grad_matches_autograd"]
LINEAR_STEPS = ["test_train_linear_one_epoch_per_sample", "test_train_linear_matches_per_sample_updates"]
LINEAR_ALL = LINEAR_STEPS + ["test_train_linear_converges_on_notes_data", "test_train_linear_recovers_random_slope"]
QUADRATIC_STEPS = ["test_train_quadratic_first_epochs_exact"]
QUADRATIC_ALL = QUADRATIC_STEPS + ["test_train_quadratic_fits_a_parabola",
                                   "test_train_quadratic_recovers_random_parabola"]

# mistake: (edit, the checks that must catch it, the hint each of them shows, or None for no hint at all)
MISTAKES = {
    "manual_grad with the sign flipped": (("r = y_hat - y", "r = y - y_hat"), MANUAL, "the sign is flipped"),
    "manual_grad forgets the inner derivative": (
        ("dyhat_dw = x ", "dyhat_dw = 1.0 "), MANUAL, "the factor x is missing"),
    "manual_grad forgets the factor 2": (("dloss_dr = 2 * r", "dloss_dr = r"), MANUAL, "the factor 2 is missing"),
    "train_linear never zeroes the gradient": (
        ("            w.grad.zero_()", "            pass"), LINEAR_ALL, "zero w.grad after each update"),
    "train_linear steps uphill": (
        ("w.data -= lr * w.grad.data", "w.data += lr * w.grad.data"), LINEAR_STEPS, "w moved uphill"),
    "train_linear halves the loss": (
        ("loss = (x * w - y) ** 2", "loss = (x * w - y) ** 2 / 2"), LINEAR_ALL[:2], "half as large"),
    "train_linear makes one batch update per epoch": (
        ("        for x, y in zip(xs, ys):\n            loss = (x * w - y) ** 2",
         "        for x, y in [(torch.tensor(xs), torch.tensor(ys))]:\n            loss = ((x * w - y) ** 2).mean()"),
        LINEAR_STEPS, "one update per sample, in the order given, not one per epoch"),
    "train_linear returns the tensor that requires grad": (
        ("return w.item()", "return w"), ["test_train_linear_returns_a_plain_number"], "return a plain number"),
    "train_linear returns a result still in the graph": (
        ("return w.item()", "return w * 1"), ["test_train_linear_returns_a_plain_number"], "return a plain number"),
    "train_linear updates outside no_grad": (
        ("w.data -= lr * w.grad.data", "w = w - lr * w.grad"), ["test_train_linear_converges_on_notes_data"], None),
    "train_quadratic sums instead of averaging": (
        ("** 2).mean()", "** 2).sum()"), QUADRATIC_STEPS, "MEAN squared error"),
    "train_quadratic sums and diverges": (
        ("** 2).mean()", "** 2).sum()"), QUADRATIC_ALL[1:], "training diverged"),
    "train_quadratic never zeroes the gradients": (
        ("                p.grad.zero_()\n", ""), QUADRATIC_ALL, "zero every gradient"),
    "train_quadratic updates per sample": (
        (QUADRATIC_STEP, QUADRATIC_PER_SAMPLE), QUADRATIC_STEPS, "not one per sample"),
    "train_quadratic steps uphill": (
        ("p -= lr * p.grad", "p += lr * p.grad"), QUADRATIC_STEPS, "moved uphill"),
    "train_quadratic starts at 0": (
        ("torch.tensor(1.0, dtype=torch.float64, requires_grad=True) for _ in range(3)",
         "torch.tensor(0.0, dtype=torch.float64, requires_grad=True) for _ in range(3)"),
        QUADRATIC_STEPS, "start w1, w2 and b at 1.0"),
    "train_quadratic returns tensors that require grad": (
        ("return w1.item(), w2.item(), b.item()", "return w1, w2, b"), ["test_train_quadratic_returns_three_numbers"],
        "return a plain number"),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_mistake_costs_its_checks_with_its_hint(grade_mutant, mistake):
    edit, checks, hint = MISTAKES[mistake]
    report = grade_mutant("02_backprop", edit, checks=checks)
    results = {c.name: c for c in report.checks}
    assert set(results) == set(checks), f"{mistake!r}: graded {sorted(results)}"
    for name, result in results.items():
        assert result.outcome == "failed", f"{mistake!r} did not fail {name}"
        assert_hint(result.message, hint, f"{mistake!r}: {name}")


# mistake: every check it costs, when all are graded (the others pass)
COSTS_ONLY = {
    "train_linear returns the tensor that requires grad": {"test_train_linear_returns_a_plain_number"},
    "train_quadratic returns tensors that require grad": {"test_train_quadratic_returns_three_numbers"},
    "manual_grad forgets the factor 2": set(MANUAL),
    "train_quadratic updates per sample": set(QUADRATIC_STEPS),
}


@pytest.mark.parametrize("mistake", COSTS_ONLY)
def test_mistake_costs_only_the_checks_about_it(grade_mutant, mistake):
    report = grade_mutant("02_backprop", MISTAKES[mistake][0])
    assert failed_checks(report) == COSTS_ONLY[mistake]
