"""Realistic flaws in the fairness implementations of 01_linear_model: each must lose points, with a true hint."""

FLAWS = [
    # (style, what the student did wrong, (old, new) edits applied to the style's module, the check that
    #  must fail, the hint that is true for this flaw or None when no hint should name a cause)
    ("notes", "grid_search divides by a hard-coded 3, the size of the notes' data (`l_sum / 3`)",
     [("        mse_list.append(l_sum / len(xs))", "        mse_list.append(l_sum / 3)")],
     "test_grid_search_on_random_data", "divide by the number of samples"),
    ("notes", "SGD keeps the notes' bookkeeping: the loss computed after the update, recorded once per epoch",
     [("            l = loss(x, y, w)  # this sample's loss, before the update\n", ""),
      ("            loss_list.append(l)\n", "            l = loss(x, y, w)\n"),
      ('        print("progress:", epoch, "w=", w, "loss=", l)\n',
       '        print("progress:", epoch, "w=", w, "loss=", l)\n        loss_list.append(l)\n')],
     "test_sgd_one_epoch_on_notes_data", "one loss per update"),
    ("d2l", "data_iter shuffles the samples as the book's does (`random.shuffle(indices)`)",
     [("import numpy as np\n", "import random\n\nimport numpy as np\n"),
      ("    indices = list(range(num_examples))\n", "    indices = list(range(num_examples))\n    random.shuffle(indices)\n")],
     "test_sgd_trajectory_on_random_data", "in the order given"),
    ("d2l", "the book's squared_loss kept with its `/ 2`: every MSE and history entry is halved",
     [("    return (y_hat - np.reshape(y, np.shape(y_hat))) ** 2\n",
       "    return (y_hat - np.reshape(y, np.shape(y_hat))) ** 2 / 2\n")],
     "test_mse_on_notes_data", "half the MSE"),
    ("pytorch_tutorials", "the gradient of the summed loss, as the tutorial's loss is `.sum()` (no division by N)",
     [("    grad_y_pred = 2.0 * (y_pred - y) / len(x)  # the loss is a mean over the samples\n",
       "    grad_y_pred = 2.0 * (y_pred - y)\n"),
      ("        grad_y_pred = 2.0 * (y_pred - y) / len(x)\n", "        grad_y_pred = 2.0 * (y_pred - y)\n")],
     "test_gradient_on_notes_data",
     "the sum over the samples: divide it by the number of samples"),
    ("pytorch_tutorials", "gradient descent records the cost after the update instead of before it",
     [("        cost_history.append(np.square(y_pred - y).mean())\n", ""),
      ("        w -= learning_rate * grad_w\n    return w, cost_history",
       ("        w -= learning_rate * grad_w\n        cost_history.append(np.square(forward(x, w) - y).mean())\n"
        "    return w, cost_history"))],
     "test_gradient_descent_one_epoch_on_notes_data", "record the cost before the update"),
]
