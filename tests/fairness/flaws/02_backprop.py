"""Realistic flaws in the fairness implementations of 02_backprop: each must lose points, with a true hint."""

FLAWS = [
    # (style, what the student did wrong, (old, new) edits applied to the style's module, the check that
    #  must fail, the hint that is true for this flaw or None when no hint should name a cause)
    ("notes", "w.grad.data.zero_() forgotten in train_linear: every step uses the sum of all gradients so far",
     [("            w.grad.data.zero_()\n", "")],
     "test_train_linear_one_epoch_per_sample", "zero w.grad after each update"),
    ("notes", "the update written without .data, `w = w - lr * w.grad`: w stops being a leaf and loses its .grad",
     [("            w.data = w.data - lr * w.grad.data\n", "            w = w - lr * w.grad\n")],
     "test_train_linear_one_epoch_per_sample", None),
    ("d2l", "the book's squared_loss kept with its `/ 2`: every gradient is halved",
     [("    return (y_hat - y.reshape(y_hat.shape)) ** 2\n", "    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2\n")],
     "test_train_linear_one_epoch_per_sample", "half as large"),
    ("d2l", "train_quadratic calls sgd(params, lr, 1) after l.sum().backward(): the gradient of the sum, not the mean",
     [("            sgd([w, b], lr, batch_size)\n", "            sgd([w, b], lr, 1)\n")],
     "test_train_quadratic_first_epochs_exact", "MEAN squared error"),
    ("pytorch_tutorials", "train_linear returns the tensor w itself, still requiring grad, instead of w.item()",
     [("                w.grad = None  # gradients accumulate: drop them after every update\n    return w.item()\n",
       "                w.grad = None  # gradients accumulate: drop them after every update\n    return w\n")],
     "test_train_linear_returns_a_plain_number", "return a plain number: w.item()"),
    ("pytorch_tutorials", "optimizer.zero_grad() forgotten in train_quadratic: the gradients pile up epoch after epoch",
     [("        optimizer.zero_grad()\n", "")],
     "test_train_quadratic_first_epochs_exact", "zero every gradient"),
]
