"""Realistic flaws in the fairness implementations of 04_softmax: each must lose points, with a true hint."""

FLAWS = [
    # (style, what the student did wrong, (old, new) edits applied to the style's module, the check that
    #  must fail, the hint that is true for this flaw or None when no hint should name a cause)
    ("d2l", "the book's first softmax, exp(X) / sum without subtracting the maximum: overflows at 1000",
     [("    X_exp = torch.exp(X - X.max(dim=dim, keepdim=True).values)\n", "    X_exp = torch.exp(X)\n")],
     "test_softmax_is_stable", "subtract each row's largest logit"),
    ("d2l", "the book's cross_entropy: the log of the softmax probabilities, -log(y_hat[range(n), y])",
     [(("    shifted = y_hat - y_hat.max(dim=1, keepdim=True).values\n"
        "    log_y_hat = shifted - torch.log(torch.exp(shifted).sum(1, keepdim=True))\n"),
       "    log_y_hat = torch.log(softmax(y_hat, dim=1))\n")],
     "test_cross_entropy_is_stable", "log(0) = -inf"),
    ("d2l", "init_weights with the book's normal(std=0.01) weights on the five-layer MLP: it barely trains in 3 epochs",
     [("        nn.init.xavier_uniform_(m.weight)\n", "        nn.init.normal_(m.weight, std=0.01)\n")],
     "test_trained_mlp_accuracy_on_digits28", "default initialisation"),
    ("notes", "evaluate without model.eval(), as the notes' test() is written",
     [("    model.eval()\n", "")],
     "test_evaluate_uses_eval_and_no_grad", "call model.eval() first"),
    ("notes", "normalize writes into x itself (`out = x` instead of `x.clone()`)",
     [("    out = x.clone()\n", "    out = x\n")],
     "test_normalize_leaves_x_unchanged", "it returned x itself"),
    ("notes", "cross_entropy sums the per-sample losses (the division by batch_size left out)",
     [("    return loss / batch_size\n", "    return loss\n")],
     "test_cross_entropy_value_and_gradient", "the mean over the batch, not the sum"),
    ("pytorch_tutorials", "MLP ends in F.log_softmax, as examples/mnist's network does",
     [("        logits = self.l5(x)\n        return logits\n", "        return F.log_softmax(self.l5(x), dim=1)\n")],
     "test_mlp_returns_logits", "log-probabilities"),
    ("pytorch_tutorials", "evaluate returns the percentage the tutorial prints (100 * correct)",
     [("    return correct\n", "    return 100 * correct\n")],
     "test_evaluate_counts_every_sample", "not a percentage"),
]
