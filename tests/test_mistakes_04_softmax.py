"""Realistic mistakes in 04_softmax's softmax.py must cost points."""

import pytest

from grader.testing import failed_checks

MISTAKES = {
    "softmax without subtracting the max": (
        ("exps = torch.exp(z - z.amax(dim=dim, keepdim=True))", "exps = torch.exp(z)"),
        "test_softmax_is_stable",
    ),
    "softmax always sums the last dim": (
        ("exps.sum(dim=dim, keepdim=True)", "exps.sum(dim=-1, keepdim=True)"),
        "test_softmax_matches_torch",
    ),
    "softmax calls torch.softmax": (
        ("    exps = torch.exp(z - z.amax(dim=dim, keepdim=True))", "    return torch.softmax(z, dim)"),
        "test_softmax_matches_torch",
    ),
    "cross-entropy summed, not averaged": (("].mean()", "].sum()"), "test_cross_entropy_value_and_gradient"),
    "cross-entropy picks a whole column per target": (
        ("log_probs[torch.arange(len(targets)), targets]", "log_probs[:, targets]"),
        "test_cross_entropy_value_and_gradient",
    ),
    "cross-entropy calls F.cross_entropy": (
        ("    shifted = logits - logits.amax(dim=1, keepdim=True)\n", "    return F.cross_entropy(logits, targets)\n"),
        "test_cross_entropy_value_and_gradient",
    ),
    "cross-entropy without subtracting the max": (
        ("shifted = logits - logits.amax(dim=1, keepdim=True)", "shifted = logits"),
        "test_cross_entropy_is_stable",
    ),
    "cross-entropy as log(softmax)": (
        ("log_probs = shifted - shifted.exp().sum(dim=1, keepdim=True).log()", "log_probs = softmax(logits, dim=1).log()"),
        "test_cross_entropy_is_stable",
    ),
    "normalize broadcasts over the width": ((".view(-1, 1, 1)", ".view(-1)"), "test_normalize_matches_torchvision"),
    "normalize multiplies by std": (
        ("return (x - mean) / std", "return (x - mean) * std"),
        "test_normalize_matches_torchvision",
    ),
    "normalize changes its input": (
        ("return (x - mean) / std", "return x.sub_(mean).div_(std)"),
        "test_normalize_matches_torchvision",
    ),
    "softmax in MLP.forward": (("return self.l5(x)", "return F.softmax(self.l5(x), dim=1)"), "test_mlp_returns_logits"),
    "log_softmax in MLP.forward": (("return self.l5(x)", "return F.log_softmax(self.l5(x), dim=1)"), "test_mlp_returns_logits"),
    "ReLU after the last layer": (("return self.l5(x)", "return F.relu(self.l5(x))"), "test_mlp_returns_logits"),
    "evaluate without eval()": (("    model.eval()\n", ""), "test_evaluate_uses_eval_and_no_grad"),
    "evaluate without no_grad()": (("    with torch.no_grad():\n", "    if True:\n"), "test_evaluate_uses_eval_and_no_grad"),
    "evaluate switches gradients off for good": (
        ("    with torch.no_grad():\n", "    torch.set_grad_enabled(False)\n    if True:\n"),
        "test_evaluate_uses_eval_and_no_grad",
    ),
    "evaluate averages per-batch accuracies": (
        (
            "            correct += (predicted == labels).sum().item()\n            total += len(labels)\n",
            "            correct += (predicted == labels).double().mean().item()\n            total += 1\n",
        ),
        "test_evaluate_counts_every_sample",
    ),
    "evaluate returns a percentage": (
        ("return correct / total", "return 100 * correct / total"),
        "test_evaluate_counts_every_sample",
    ),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_mistake_loses_points(grade_mutant, mistake):
    edit, check = MISTAKES[mistake]
    report = grade_mutant("04_softmax", edit)
    assert check in failed_checks(report), f"{mistake!r} did not fail {check}"
    assert report.total < report.max_total
