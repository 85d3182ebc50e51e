"""Realistic flaws in the fairness implementations of 03_regression: each must lose points, with a true hint."""

FLAWS = [
    # (style, what the student did wrong, (old, new) edits applied to the style's module, the check that
    #  must fail, the hint that is true for this flaw or None when no hint should name a cause)
    ("notes", "MSELoss(reduction='sum'), as the notes' linear-regression script has it",
     [("    criterion = torch.nn.MSELoss(reduction='mean')\n", "    criterion = torch.nn.MSELoss(reduction='sum')\n")],
     "test_train_linear_regression_takes_mean_mse_sgd_steps", "not 'sum'"),
    ("notes", "the label taken as xy[:, -1] (shape ()) instead of xy[:, [-1]] (shape (1,))",
     [("        self.y_data = torch.from_numpy(xy[:, [-1]])\n", "        self.y_data = torch.from_numpy(xy[:, -1])\n")],
     "test_tabular_dataset_first_row", "table[:, [-1]], not table[:, -1]"),
    ("d2l", "train_classifier re-initialises the model it is given (train_ch6's `net.apply(init_weights)`)",
     [("    net, train_iter, num_epochs = model, loader, epochs\n",
       ("    net, train_iter, num_epochs = model, loader, epochs\n\n"
        "    def init_weights(m):\n"
        "        if type(m) == nn.Linear:\n"
        "            nn.init.xavier_uniform_(m.weight)\n\n"
        "    net.apply(init_weights)\n"))],
     "test_train_classifier_takes_mean_bce_sgd_steps", "do not re-initialise it"),
    ("d2l", "the per-sample losses summed, `l.sum().backward()`, with the torch optimizer (the book's other branch)",
     [("        l.mean().backward()\n", "        l.sum().backward()\n")],
     "test_train_classifier_takes_mean_bce_sgd_steps", "reduction='mean', not 'sum'"),
    ("pytorch_tutorials", "TabularDataset standardises the features itself (x - mean) / std",
     [("        self.table = np.loadtxt(path, delimiter=\",\", dtype=np.float32)\n",
       ("        self.table = np.loadtxt(path, delimiter=\",\", dtype=np.float32)\n"
        "        features = self.table[:, :-1]\n"
        "        self.table[:, :-1] = (features - features.mean(axis=0)) / features.std(axis=0)\n"))],
     "test_tabular_dataset_first_row", "as they are in the file"),
    ("pytorch_tutorials", "LogisticRegressionModel returns the linear layer's raw output (no sigmoid)",
     [("        return logits.sigmoid()\n", "        return logits\n")],
     "test_logistic_outputs_are_probabilities", "torch.sigmoid"),
]
