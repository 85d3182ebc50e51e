"""Realistic mistakes in 03_regression's regression.py must cost points."""

import pytest

from grader.testing import failed_checks

MISTAKES = {
    "MSE summed, not averaged": (
        ("criterion = nn.MSELoss()", 'criterion = nn.MSELoss(reduction="sum")'),
        "test_train_linear_regression_takes_mean_mse_sgd_steps",
    ),
    "zero_grad forgotten in train_linear_regression": (
        ("        loss = criterion(model(x), y)\n        optimizer.zero_grad()\n", "        loss = criterion(model(x), y)\n"),
        "test_train_linear_regression_takes_mean_mse_sgd_steps",
    ),
    "sigmoid missing in the logistic model": (
        ("return torch.sigmoid(self.linear(x))", "return self.linear(x)"),
        "test_logistic_is_sigmoid_of_linear",
    ),
    "labels read as a vector, not (N, 1)": (("table[:, [-1]]", "table[:, -1]"), "test_tabular_dataset_batches"),
    "features left as float64": (
        ('np.loadtxt(path, delimiter=",", dtype=np.float32)', 'np.loadtxt(path, delimiter=",")'),
        "test_tabular_dataset_reads_any_csv",
    ),
    "label column kept among the features": (("table[:, :-1]", "table[:, :]"), "test_tabular_dataset_reads_any_csv"),
    "no sigmoid after the last layer": (
        ("return self.sigmoid(self.linear3(x))", "return self.linear3(x)"),
        "test_multi_feature_model_layers_and_parameters",
    ),
    "BCE summed, not averaged": (
        ("criterion = nn.BCELoss()", 'criterion = nn.BCELoss(reduction="sum")'),
        "test_train_classifier_takes_mean_bce_sgd_steps",
    ),
    "zero_grad forgotten in train_classifier": (
        ("            optimizer.zero_grad()\n", ""),
        "test_train_classifier_takes_mean_bce_sgd_steps",
    ),
    "train_classifier never steps": (
        ("            optimizer.step()\n", ""),
        "test_train_classifier_accuracy_on_breast_cancer",
    ),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_mistake_loses_points(grade_mutant, mistake):
    edit, check = MISTAKES[mistake]
    report = grade_mutant("03_regression", edit)
    assert check in failed_checks(report), f"{mistake!r} did not fail {check}"
    assert report.total < report.max_total
