"""Realistic mistakes in 02_backprop's backprop.py must cost points."""

import pytest

from grader.testing import failed_checks

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

MISTAKES = {
    "manual_grad with the sign flipped": (("r = y_hat - y", "r = y - y_hat"), "test_manual_grad_matches_autograd"),
    "manual_grad forgets the inner derivative": (("dyhat_dw = x ", "dyhat_dw = 1.0 "),
                                                 "test_manual_grad_matches_autograd"),
    "manual_grad forgets the factor 2": (("dloss_dr = 2 * r", "dloss_dr = r"), "test_manual_grad_matches_autograd"),
    "train_linear never zeroes the gradient": (("            w.grad.zero_()", "            pass"),
                                               "test_train_linear_matches_per_sample_updates"),
    "train_linear steps uphill": (("w.data -= lr * w.grad.data", "w.data += lr * w.grad.data"),
                                  "test_train_linear_matches_per_sample_updates"),
    "train_linear makes one batch update per epoch": (
        ("        for x, y in zip(xs, ys):\n            loss = (x * w - y) ** 2",
         "        for x, y in [(torch.tensor(xs), torch.tensor(ys))]:\n            loss = ((x * w - y) ** 2).mean()"),
        "test_train_linear_matches_per_sample_updates"),
    "train_linear returns the tensor that requires grad": (("return w.item()", "return w"),
                                                          "test_train_linear_returns_a_plain_number"),
    "train_linear returns a result still in the graph": (("return w.item()", "return w * 1"),
                                                        "test_train_linear_returns_a_plain_number"),
    "train_linear updates outside no_grad": (("w.data -= lr * w.grad.data", "w = w - lr * w.grad"),
                                             "test_train_linear_converges_on_notes_data"),
    "train_quadratic sums instead of averaging": (("** 2).mean()", "** 2).sum()"),
                                                  "test_train_quadratic_first_epochs_exact"),
    "train_quadratic never zeroes the gradients": (("                p.grad.zero_()\n", ""),
                                                   "test_train_quadratic_first_epochs_exact"),
    "train_quadratic updates per sample": ((QUADRATIC_STEP, QUADRATIC_PER_SAMPLE),
                                           "test_train_quadratic_first_epochs_exact"),
    "train_quadratic steps uphill": (("p -= lr * p.grad", "p += lr * p.grad"),
                                     "test_train_quadratic_recovers_random_parabola"),
    "train_quadratic returns tensors that require grad": (("return w1.item(), w2.item(), b.item()", "return w1, w2, b"),
                                                          "test_train_quadratic_returns_three_numbers"),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_mistake_loses_points(grade_mutant, mistake):
    edit, check = MISTAKES[mistake]
    report = grade_mutant("02_backprop", edit)
    assert check in failed_checks(report), f"{mistake!r} did not fail {check}"
    assert report.total < report.max_total
