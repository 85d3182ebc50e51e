"""Hidden checks of 03_regression: graded by the instructor, never shipped to students."""

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from grader.checks import (
    expect,
    expect_close,
    expect_equal,
    expect_shape,
    expect_tensor,
    expect_type,
    fail,
    parameter_count,
)
from grader.data import breast_cancer_path

ACCURACY_BAR = 0.90  # held-out accuracy; the reference reaches 0.96 to 0.98 over seeds (majority class: 0.62)
MEAN_STEP_HINT = "use the mean loss (the default reduction, not 'sum'), zero the gradients before every backward()"
BATCH_STEP_HINT = "one SGD step per batch on nn.BCELoss() (the mean, not 'sum'); zero the gradients before every backward()"


def _probabilities_ok(p):
    return bool(((p > 0) & (p < 1)).all())


@pytest.mark.points(1)
def test_linear_model_is_w_x_plus_b(student):
    model = student.LinearModel()
    x = torch.randn(6, 1)
    got = model(x)
    expect_equal(parameter_count(model), 2, "LinearModel's parameter count", hint="one weight and one bias")
    w, b = model.linear.weight, model.linear.bias
    expect_tensor(got, x * w.reshape(()) + b.reshape(()), "LinearModel()(x of shape (6, 1))")
    got.sum().backward()
    expect(w.grad is not None and b.grad is not None, "LinearModel: no gradient reaches the weight or the bias")


@pytest.mark.points(2)
def test_train_linear_regression_takes_mean_mse_sgd_steps(student, seed):
    x = torch.tensor([[1.0], [2.0], [3.0], [4.0]])
    y = torch.tensor([[3.0], [5.5], [7.0], [9.0]])
    lr, epochs = 0.01, 3
    # The model is built from the random state, so reseeding gives the same starting point twice.
    torch.manual_seed(seed)
    start = student.train_linear_regression(x, y, epochs=0, lr=lr)
    expect_type(start, torch.nn.Module, "train_linear_regression(..., epochs=0)", hint="return the LinearModel")
    w, b = start.linear.weight.item(), start.linear.bias.item()
    xs, ys = x.double().reshape(-1), y.double().reshape(-1)
    for _ in range(epochs):
        error = w * xs + b - ys
        w, b = w - lr * float((2 * error * xs).mean()), b - lr * float((2 * error).mean())
    torch.manual_seed(seed)
    model = student.train_linear_regression(x, y, epochs=epochs, lr=lr)
    what = f"after train_linear_regression(4 points, epochs={epochs}, lr={lr}), the"
    expect_close(model.linear.weight, w, f"{what} weight", rtol=1e-4, atol=1e-5, hint=MEAN_STEP_HINT)
    expect_close(model.linear.bias, b, f"{what} bias", rtol=1e-4, atol=1e-5, hint=MEAN_STEP_HINT)


@pytest.mark.points(2)
def test_logistic_is_sigmoid_of_linear(student):
    model = student.LogisticRegressionModel()
    x = torch.randn(64, 1) * 3
    got = model(x)
    expect_tensor(got, torch.sigmoid(model.linear(x)), "LogisticRegressionModel()(x of shape (64, 1))",
                  hint="sigmoid(linear(x)): BCELoss needs probabilities, not raw scores")
    expect(_probabilities_ok(got), "LogisticRegressionModel's outputs must lie strictly between 0 and 1")
    got.sum().backward()
    expect(model.linear.weight.grad is not None, "LogisticRegressionModel: no gradient reaches the weight")


def _write_csv(path, table):
    np.savetxt(path, table, delimiter=",", fmt="%.8g")
    return path


@pytest.mark.points(2)
def test_tabular_dataset_reads_any_csv(student, tmp_path):
    table = np.round(np.random.randn(7, 5) * 10, 4)
    table[:, -1] = [0, 1, 1, 0, 1, 0, 0]
    path = _write_csv(tmp_path / "small.csv", table)
    expected = np.loadtxt(path, delimiter=",", dtype=np.float32)
    dataset = student.TabularDataset(str(path))
    expect_equal(len(dataset), 7, "len(TabularDataset(a CSV of 7 rows))")
    for i in (0, 3, 6):
        item = dataset[i]
        expect_type(item, (tuple, list), f"TabularDataset(...)[{i}]", hint="return a pair (features, label)")
        expect_equal(len(item), 2, f"the number of items in TabularDataset(...)[{i}]")
        expect_tensor(item[0], torch.from_numpy(expected[i, :-1]), f"the features of row {i} of a CSV with 4 features",
                      hint="every column but the last, float32; do not assume 30 features")
        expect_tensor(item[1], torch.from_numpy(expected[i, [-1]]), f"the label of row {i}",
                      hint="the last column, as a float32 tensor of shape (1,)")


@pytest.mark.points(2)
def test_tabular_dataset_batches(student):
    dataset = student.TabularDataset(breast_cancer_path())
    batches = list(DataLoader(dataset, batch_size=32))
    expect_equal(len(batches), 18, "the number of batches of 569 rows with batch_size=32", hint="the last holds 25")
    features, labels = batches[0]
    expect_shape(features, (32, 30), "a batch of features")
    expect_shape(labels, (32, 1), "a batch of labels",
                 hint="BCELoss compares labels with the model's (N, 1) output: give each label the shape (1,)")
    expect(features.dtype == torch.float32 and labels.dtype == torch.float32,
           f"a batch: expected float32 features and labels, got {features.dtype} and {labels.dtype}",
           hint="np.loadtxt(..., dtype=np.float32); nn.Linear's weights are float32")
    expect_shape(batches[-1][1], (25, 1), "the last batch of labels")
    expect_equal(len(DataLoader(dataset, batch_size=32, drop_last=True)), 17,
                 "the number of batches with batch_size=32 and drop_last=True")


@pytest.mark.points(2)
def test_multi_feature_model_layers_and_parameters(student):
    model = student.MultiFeatureModel(30)
    x = torch.randn(5, 30)
    got = model(x)
    expect_shape(got, (5, 1), "MultiFeatureModel(30)(x of shape (5, 30))")
    layers = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    sizes = [(m.in_features, m.out_features) for m in layers]
    expect_equal(sizes, [(30, 6), (6, 4), (4, 1)], "MultiFeatureModel(30)'s Linear layers (in, out)")
    expect_equal(parameter_count(model), 219, "MultiFeatureModel(30)'s parameter count", hint="186 + 28 + 5")
    expect_equal(parameter_count(student.MultiFeatureModel(8)), 87, "MultiFeatureModel(8)'s parameter count")
    expected = x
    for layer in layers:
        expected = torch.sigmoid(layer(expected))
    expect_tensor(got, expected, "MultiFeatureModel(30)(x)", hint="a sigmoid after each of the three Linear layers")
    got.sum().backward()
    for name, p in model.named_parameters():
        expect(p.grad is not None, f"MultiFeatureModel: no gradient reaches {name}")


@pytest.mark.points(3)
def test_train_classifier_takes_mean_bce_sgd_steps(student):
    x = torch.randn(12, 5)
    y = (torch.rand(12, 1) > 0.5).float()
    model = torch.nn.Sequential(torch.nn.Linear(5, 3), torch.nn.Sigmoid(), torch.nn.Linear(3, 1), torch.nn.Sigmoid())
    expected = copy.deepcopy(model)
    lr, epochs = 0.5, 2
    loader = DataLoader(TensorDataset(x, y), batch_size=4, shuffle=False)
    trained = student.train_classifier(model, loader, epochs=epochs, lr=lr)
    expect_type(trained, torch.nn.Module, "train_classifier(...)", hint="return the trained model")
    for _ in range(epochs):
        for xb, yb in loader:
            grads = torch.autograd.grad(F.binary_cross_entropy(expected(xb), yb), list(expected.parameters()))
            with torch.no_grad():
                for p, g in zip(expected.parameters(), grads):
                    p -= lr * g
    what = f"after train_classifier(12 samples in batches of 4, epochs={epochs}, lr={lr}), parameter"
    for (name, got), want in zip(trained.named_parameters(), expected.parameters()):
        expect_tensor(got, want, f"{what} {name}", rtol=1e-4, atol=1e-6,
                      hint=BATCH_STEP_HINT)


def _standardized_split(tmp_path):
    """The fixed split (400 rows to train on, 169 held out), each feature standardised with the training rows."""
    table = np.loadtxt(breast_cancer_path(), delimiter=",")
    order = np.random.default_rng(2024).permutation(len(table))
    train, test = table[order[:400]].copy(), table[order[400:]].copy()
    mean, std = train[:, :-1].mean(axis=0), train[:, :-1].std(axis=0)
    for part in (train, test):
        part[:, :-1] = (part[:, :-1] - mean) / std
    return _write_csv(tmp_path / "train.csv", train), _write_csv(tmp_path / "test.csv", test), test


@pytest.mark.points(4)
@pytest.mark.timeout(120)
def test_train_classifier_accuracy_on_breast_cancer(student, tmp_path):
    train_path, _, test = _standardized_split(tmp_path)
    model = student.MultiFeatureModel(30)
    loader = DataLoader(student.TabularDataset(str(train_path)), batch_size=32, shuffle=True)
    trained = student.train_classifier(model, loader, epochs=10, lr=1.0)
    expect_type(trained, torch.nn.Module, "train_classifier(...)", hint="return the trained model")
    trained.eval()
    with torch.no_grad():
        p = trained(torch.from_numpy(test[:, :-1]).float())
    expect_shape(p, (len(test), 1), "the trained model's output on the held-out rows")
    if not bool(torch.isfinite(p).all()):
        fail("the trained model's outputs are not finite", hint="is the loss the mean, and the labels (N, 1)?")
    accuracy = float(((p > 0.5).double().squeeze(1) == torch.from_numpy(test[:, -1])).double().mean())
    expect(accuracy >= ACCURACY_BAR, f"held-out accuracy after train_classifier(epochs=10, lr=1.0) is {accuracy:.3f}, "
           f"expected at least {ACCURACY_BAR}", hint="BCELoss (mean) and SGD; zero_grad, backward and step every batch")
