"""Realistic mistakes in 04_softmax's softmax.py must cost the checks about them, with the hint of their cause."""

import pytest

from grader.testing import has_hint

RELUS = ("        x = F.relu(self.l1(x))\n        x = F.relu(self.l2(x))\n        x = F.relu(self.l3(x))\n"
         "        x = F.relu(self.l4(x))\n")
TINY_INIT = ("        for layer in (self.l1, self.l2, self.l3, self.l4, self.l5):\n"
             "            nn.init.normal_(layer.weight, std=0.01)\n")
CE = ("test_cross_entropy_small", "test_cross_entropy_value_and_gradient")


def each(checks, hint):
    """The same hint from each of `checks`."""
    return dict.fromkeys(checks, hint)


# mistake: (edits of the reference, {check that must catch it: the hint it shows}). Every failed result of a check
# that shows a hint shows this one, and at least one does; None: no failed result of that check names a cause.
MISTAKES = {
    "softmax without subtracting the max": (
        [("exps = torch.exp(z - z.amax(dim=dim, keepdim=True))", "exps = torch.exp(z)")],
        {"test_softmax_is_stable": "exp(1000) overflows to inf"},
    ),
    "softmax always sums the last dim": (
        [("exps.sum(dim=dim, keepdim=True)", "exps.sum(dim=-1, keepdim=True)")],
        {"test_softmax_matches_torch": "your slices sum to 1 along dim=2"},
    ),
    "softmax sums the whole tensor": (
        [("exps.sum(dim=dim, keepdim=True)", "exps.sum()")],
        each(("test_softmax_small", "test_softmax_matches_torch"), "not over the whole tensor"),
    ),
    "softmax without the division": (
        [("return exps / exps.sum(dim=dim, keepdim=True)", "return exps")],
        {"test_softmax_small": "divide each exp by the sum of its row's exps"},
    ),
    "softmax calls torch.softmax": (
        [("    exps = torch.exp(z - z.amax(dim=dim, keepdim=True))", "    return torch.softmax(z, dim)")],
        each(("test_softmax_small", "test_softmax_matches_torch"), None),
    ),
    "cross-entropy summed, not averaged": (
        [("].mean()", "].sum()")],
        each(CE, "the mean over the batch, not the sum"),
    ),
    "cross-entropy without the minus sign": (
        [("return -log_probs[", "return log_probs[")],
        each(CE, "negate the picked log-probabilities"),
    ),
    "cross-entropy returns the per-sample losses": (
        [("].mean()", "]")],
        each(CE, "these are the per-sample losses"),
    ),
    "cross-entropy returns a Python number": (
        [("].mean()", "].mean().item()")],
        each(CE, "return the loss as a tensor"),
    ),
    "cross-entropy picks a whole column per target": (
        [("log_probs[torch.arange(len(targets)), targets]", "log_probs[:, targets]")],
        {"test_cross_entropy_value_and_gradient": "picks a whole column for every target"},
    ),
    "cross-entropy log-softmax along the batch": (
        [("logits.amax(dim=1, keepdim=True)", "logits.amax(dim=0, keepdim=True)"),
         ("shifted.exp().sum(dim=1, keepdim=True)", "shifted.exp().sum(dim=0, keepdim=True)")],
        {"test_cross_entropy_value_and_gradient": "take the max and the sum along dim=1"},
    ),
    "cross-entropy calls F.cross_entropy": (
        [("    shifted = logits - logits.amax(dim=1, keepdim=True)\n",
          "    return F.cross_entropy(logits, targets)\n")],
        each(CE, None),
    ),
    "cross-entropy without subtracting the max": (
        [("shifted = logits - logits.amax(dim=1, keepdim=True)", "shifted = logits")],
        {"test_cross_entropy_is_stable": "exp(1000) overflows to inf"},
    ),
    "cross-entropy as log(softmax)": (
        [("log_probs = shifted - shifted.exp().sum(dim=1, keepdim=True).log()",
          "log_probs = softmax(logits, dim=1).log()")],
        {"test_cross_entropy_is_stable": "log(0) = -inf"},
    ),
    "normalize broadcasts over the width": (
        [(".view(-1, 1, 1)", ".view(-1)")],
        {"test_normalize_matches_torchvision": "shape (C,) lines up with the width"},
    ),
    "normalize multiplies by std": (
        [("return (x - mean) / std", "return (x - mean) * std")],
        each(("test_normalize_one_channel", "test_normalize_matches_torchvision"), "divide by std, do not multiply"),
    ),
    "normalize changes its input and returns it": (
        [("return (x - mean) / std", "return x.sub_(mean).div_(std)")],
        {"test_normalize_leaves_x_unchanged": "it returned x itself"},
    ),
    "normalize subtracts in place, then divides": (
        [("return (x - mean) / std", "x -= mean\n    return x / std")],
        {"test_normalize_leaves_x_unchanged": "an in-place operation"},
    ),
    "MLP without the ReLUs": (
        [(RELUS, "        x = self.l4(self.l3(self.l2(self.l1(x))))\n")],
        {"test_mlp_returns_logits": "ReLU after each of l1 to l4"},
    ),
    "softmax in MLP.forward": (
        [("return self.l5(x)", "return F.softmax(self.l5(x), dim=1)")],
        {"test_mlp_returns_logits": "CrossEntropyLoss applies the softmax itself"},
    ),
    "log_softmax in MLP.forward": (
        [("return self.l5(x)", "return F.log_softmax(self.l5(x), dim=1)")],
        {"test_mlp_returns_logits": "without log_softmax"},
    ),
    "ReLU after the last layer": (
        [("return self.l5(x)", "return F.relu(self.l5(x))")],
        {"test_mlp_returns_logits": "nothing after l5"},
    ),
    "MLP starts from tiny weights": (
        [("        self.l5 = nn.Linear(64, 10)\n\n", "        self.l5 = nn.Linear(64, 10)\n" + TINY_INIT + "\n")],
        {"test_trained_mlp_accuracy_on_digits28": "default initialisation"},
    ),
    "evaluate without eval()": (
        [("    model.eval()\n", "")],
        {"test_evaluate_uses_eval_and_no_grad": "call model.eval() first"},
    ),
    "evaluate without no_grad()": (
        [("    with torch.no_grad():\n", "    if True:\n")],
        {"test_evaluate_uses_eval_and_no_grad": "wrap the loop in `with torch.no_grad():`"},
    ),
    "evaluate switches gradients off for good": (
        [("    with torch.no_grad():\n", "    torch.set_grad_enabled(False)\n    if True:\n")],
        {"test_evaluate_uses_eval_and_no_grad": "which switches them back on"},
    ),
    "evaluate averages per-batch accuracies": (
        [("            correct += (predicted == labels).sum().item()\n            total += len(labels)\n",
          "            correct += (predicted == labels).double().mean().item()\n            total += 1\n")],
        {"test_evaluate_counts_every_sample": "the mean of the per-batch accuracies"},
    ),
    "evaluate returns a percentage": (
        [("return correct / total", "return 100 * correct / total")],
        each(("test_evaluate_perfect_model", "test_evaluate_counts_every_sample"), "not a percentage"),
    ),
    "evaluate returns the count of correct samples": (
        [("return correct / total", "return correct")],
        each(("test_evaluate_perfect_model", "test_evaluate_counts_every_sample"),
             "divide the number of correct predictions by the number of samples"),
    ),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_mistake_costs_its_checks_with_its_hint(grade_mutant, mistake):
    edits, hints = MISTAKES[mistake]
    report = grade_mutant("04_softmax", *edits, checks=list(hints))
    failed = [c for c in report.checks if c.outcome != "passed"]
    assert {c.name.split("[")[0] for c in failed} == set(hints), f"{mistake!r}: {[c.id for c in failed]}"
    for check, hint in hints.items():
        messages = [c.message for c in failed if c.name.split("[")[0] == check]
        hinted = [m for m in messages if has_hint(m)]
        if hint is None:
            assert not hinted, f"{check}: a hint names a cause that is not there: {hinted}"
        else:
            assert hinted and all(hint in m for m in hinted), f"{check}: {messages}"
