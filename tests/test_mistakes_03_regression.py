"""Realistic mistakes in 03_regression's regression.py cost the checks about them, with the hint of their cause."""

import pytest

from grader.testing import assert_hint, failed_checks

LINEAR_STEP = "        loss.backward()\n        optimizer.step()\n    return model\n\n\nclass LogisticRegressionModel"
CLASSIFIER_STEP = "            loss.backward()\n            optimizer.step()\n"
READ = 'table = np.loadtxt(path, delimiter=",", dtype=np.float32)'
DATASET = ["test_tabular_dataset_first_row", "test_tabular_dataset_reads_any_csv"]
MULTI = ["test_multi_feature_model_output", "test_multi_feature_model_layers_and_parameters"]

# mistake: (edit, the checks that must catch it, the hint each of them shows, or None for no hint at all)
MISTAKES = {
    "MSE summed, not averaged": (
        ("criterion = nn.MSELoss()", 'criterion = nn.MSELoss(reduction="sum")'),
        ["test_train_linear_regression_takes_mean_mse_sgd_steps"], "reduction='mean', not 'sum'"),
    "zero_grad forgotten in train_linear_regression": (
        ("        loss = criterion(model(x), y)\n        optimizer.zero_grad()\n",
         "        loss = criterion(model(x), y)\n"),
        ["test_train_linear_regression_takes_mean_mse_sgd_steps"], "the gradients were not zeroed"),
    "train_linear_regression never steps": (
        (LINEAR_STEP, LINEAR_STEP.replace("        optimizer.step()\n", "")),
        ["test_train_linear_regression_takes_mean_mse_sgd_steps"], "the parameters did not change"),
    "train_linear_regression zeroes the gradients between backward and step": (
        (LINEAR_STEP, LINEAR_STEP.replace("optimizer.step()\n", "optimizer.zero_grad()\n        optimizer.step()\n")),
        ["test_train_linear_regression_takes_mean_mse_sgd_steps"], "the parameters did not change"),
    "LinearModel without the bias": (
        ("return self.linear(x)", "return x @ self.linear.weight.T"),
        ["test_linear_model_output", "test_linear_model_is_w_x_plus_b"], "add the bias"),
    "sigmoid missing in the logistic model": (
        ("return torch.sigmoid(self.linear(x))", "return self.linear(x)"),
        ["test_logistic_outputs_are_probabilities", "test_logistic_is_sigmoid_of_linear"], "torch.sigmoid"),
    "labels read as a vector, not (N, 1)": (
        ("table[:, [-1]]", "table[:, -1]"), DATASET + ["test_tabular_dataset_batches"],
        "table[:, [-1]], not table[:, -1]"),
    "features left as float64": (
        (READ, READ.replace(", dtype=np.float32", "")), ["test_tabular_dataset_is_float32"], "dtype=np.float32"),
    "label column kept among the features": (
        ("table[:, :-1]", "table[:, :]"), DATASET, "the last column is the label"),
    "the dataset standardises the features": (
        ("self.x = torch.from_numpy(table[:, :-1])", "self.x = torch.from_numpy(table[:, :-1])\n"
         "        self.x = (self.x - self.x.mean(0)) / self.x.std(0)"), DATASET, "as they are in the file"),
    "the dataset skips a header row that is not there": (
        (READ, READ.replace(")", ", skiprows=1)")), DATASET, "no header row"),
    "no sigmoid after the last layer": (
        ("return self.sigmoid(self.linear3(x))", "return self.linear3(x)"), MULTI, "after the last Linear layer too"),
    "ReLU in the hidden layers": (
        ("x = self.sigmoid(self.linear1(x))\n        x = self.sigmoid(self.linear2(x))",
         "x = torch.relu(self.linear1(x))\n        x = torch.relu(self.linear2(x))"), MULTI, "not ReLU"),
    "BCE summed, not averaged": (
        ("criterion = nn.BCELoss()", 'criterion = nn.BCELoss(reduction="sum")'),
        ["test_train_classifier_takes_mean_bce_sgd_steps"], "reduction='mean', not 'sum'"),
    "zero_grad forgotten in train_classifier": (
        ("            optimizer.zero_grad()\n", ""),
        ["test_train_classifier_takes_mean_bce_sgd_steps"], "the gradients were not zeroed"),
    "train_classifier never steps": (
        (CLASSIFIER_STEP, "            loss.backward()\n"),
        ["test_train_classifier_takes_mean_bce_sgd_steps"], "the parameters did not change"),
    "train_classifier never steps, seen by the public check": (
        (CLASSIFIER_STEP, "            loss.backward()\n"),
        ["test_train_classifier_lowers_the_loss"], "optimizer.step()"),
    "train_classifier never steps, seen in the accuracy": (
        (CLASSIFIER_STEP, "            loss.backward()\n"),
        ["test_train_classifier_accuracy_on_breast_cancer"], "zero_grad, backward and step every batch"),
    "train_classifier re-initialises the model": (
        ("    model.train()\n", "    model.train()\n    for layer in model.modules():\n"
         "        if isinstance(layer, nn.Linear):\n            layer.reset_parameters()\n"),
        ["test_train_classifier_takes_mean_bce_sgd_steps"], "do not re-initialise it"),
}

# mistake: every check it costs, when all are graded (the others pass)
COSTS_ONLY = {
    "features left as float64": {"test_tabular_dataset_is_float32"},
    "labels read as a vector, not (N, 1)": set(MISTAKES["labels read as a vector, not (N, 1)"][1]),
    "no sigmoid after the last layer": set(MULTI),
    "the dataset standardises the features": set(DATASET),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_mistake_costs_its_checks_with_its_hint(grade_mutant, mistake):
    edit, checks, hint = MISTAKES[mistake]
    report = grade_mutant("03_regression", edit, checks=checks)
    results = {c.name: c for c in report.checks}
    assert set(results) == set(checks), f"{mistake!r}: graded {sorted(results)}"
    for name, result in results.items():
        assert result.outcome == "failed", f"{mistake!r} did not fail {name}"
        assert_hint(result.message, hint, f"{mistake!r}: {name}")


@pytest.mark.parametrize("mistake", COSTS_ONLY)
def test_mistake_costs_only_the_checks_about_it(grade_mutant, mistake):
    report = grade_mutant("03_regression", MISTAKES[mistake][0])
    assert failed_checks(report) == COSTS_ONLY[mistake]
