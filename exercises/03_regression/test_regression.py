"""Public checks of 03_regression: run them with `pytest exercises/03_regression`."""

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from grader.checks import (
    TENSOR_TYPES,
    Mistake,
    expect,
    expect_close,
    expect_equal,
    expect_shape,
    expect_tensor,
    expect_type,
)
from grader.data import breast_cancer_path
from grader.i18n import _

# The notes' data: y = 2x.
NOTES_X = torch.tensor([[1.0], [2.0], [3.0]])
NOTES_Y = torch.tensor([[2.0], [4.0], [6.0]])


# --- what the models should give, and what common mistakes make them give -----------------------------

def _linear_mistakes(linear, x):
    return [Mistake(_("add the bias: self.linear(x) computes x·w + b"), x @ linear.weight.T)]


def _probability_mistakes(logits):
    return [Mistake(_("pass the linear layer's output through torch.sigmoid: these are raw scores"), logits)]


def _multi_feature_expected(model, x):
    """(sigmoid after every Linear layer, the mistakes' outputs) for x, through the model's own layers."""
    layers = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        h, relu = x, x
        for layer in layers[:-1]:
            h, relu = torch.sigmoid(layer(h)), torch.relu(layer(relu))
        expected = torch.sigmoid(layers[-1](h))
        mistakes = [Mistake(_("a sigmoid after the last Linear layer too: it makes the output a probability"),
                            layers[-1](h)),
                    Mistake(_("a sigmoid after every Linear layer, the hidden ones too (not ReLU)"),
                            torch.sigmoid(layers[-1](relu)))]
    return expected, mistakes


def _item(dataset, index, what):
    item = dataset[index]
    expect_type(item, (tuple, list), what, hint=_("return a pair (features, label)"))
    expect_equal(len(item), 2, _("the number of items in {what}").format(what=what))
    return item


def _features_mistakes(features, i):
    """What a dataset that rescales the features gives for row i of `features` (a float32 array of rows)."""
    hint = _("the features must be as they are in the file: do not standardise or rescale them in the dataset")
    low, high = features.min(axis=0), features.max(axis=0)
    with np.errstate(all="ignore"):
        return [Mistake(hint, torch.from_numpy((features[i] - features.mean(axis=0)) / features.std(axis=0, ddof=d)))
                for d in (0, 1)] + [Mistake(hint, torch.from_numpy((features[i] - low) / (high - low)))]


def _expect_row(dataset, table, i, what):
    """Item i of the dataset is (the features of row i of `table`, (its label,))."""
    features, label = _item(dataset, i, what)
    n = table.shape[1] - 1
    expect_shape(features, (n,), _("the features of row {i}").format(i=i), mistakes=[
        Mistake(_("the last column is the label: the features are every column but the last, table[:, :-1]"),
                (n + 1,))])
    expect_tensor(features, torch.from_numpy(table[i, :-1]), _("the features of row {i}").format(i=i),
                  mistakes=_features_mistakes(table[:, :-1], i))
    expect_shape(label, (1,), _("the label of row {i}").format(i=i), mistakes=[
        Mistake(_("keep the label a 1-element vector: table[:, [-1]], not table[:, -1]"), ())])
    expect_tensor(label, torch.from_numpy(table[i, [-1]]), _("the label of row {i}").format(i=i),
                  hint=_("the label is the last column"))


# --- the checks ----------------------------------------------------------------------------------------

@pytest.mark.points(1)
def test_linear_model_output(student):
    model = student.LinearModel()
    expect_type(model, torch.nn.Module, "LinearModel()")
    got = model(NOTES_X.clone())
    with torch.no_grad():
        expect_tensor(got, model.linear(NOTES_X), "LinearModel()(x of shape (3, 1))",
                      mistakes=_linear_mistakes(model.linear, NOTES_X), hint=_("return self.linear(x)"))


@pytest.mark.points(2)
def test_train_linear_regression_notes_data(student):
    model = student.train_linear_regression(NOTES_X.clone(), NOTES_Y.clone(), epochs=500, lr=0.05)
    expect_type(model, torch.nn.Module, "train_linear_regression(...)", hint=_("return the trained LinearModel"))
    hint = _("nn.MSELoss() and torch.optim.SGD(model.parameters(), lr=lr): one full-batch step per epoch")
    expect_close(model.linear.weight, 2.0, _("the trained weight (y = 2x)"), atol=1e-2, rtol=0, hint=hint)
    expect_close(model.linear.bias, 0.0, _("the trained bias (y = 2x)"), atol=2e-2, rtol=0, hint=hint)


@pytest.mark.points(1)
def test_logistic_outputs_are_probabilities(student):
    model = student.LogisticRegressionModel()
    x = torch.tensor([[-3.0], [0.0], [1.0], [2.0], [4.0]])
    got = model(x.clone())
    expect_shape(got, (5, 1), "LogisticRegressionModel()(x of shape (5, 1))")
    with torch.no_grad():
        expect_tensor(got, torch.sigmoid(model.linear(x)), "LogisticRegressionModel()(x of shape (5, 1))",
                      mistakes=_probability_mistakes(model.linear(x)), hint=_("sigmoid(linear(x))"))
    expect(bool(((got > 0) & (got < 1)).all()), _("LogisticRegressionModel's outputs must lie strictly between 0 "
                                                  "and 1"))


@pytest.mark.points(1)
def test_tabular_dataset_first_row(student):
    dataset = student.TabularDataset(breast_cancer_path())
    table = np.loadtxt(breast_cancer_path(), delimiter=",", dtype=np.float32)
    expect_equal(len(dataset), 569, "len(TabularDataset(breast_cancer.csv))", mistakes=[
        Mistake(_("the file has no header row: keep its first line"), 568)])
    _expect_row(dataset, table, 0, "TabularDataset(breast_cancer.csv)[0]")


@pytest.mark.points(1)
def test_tabular_dataset_is_float32(student):
    features, label = _item(student.TabularDataset(breast_cancer_path()), 0, "TabularDataset(breast_cancer.csv)[0]")
    for name, value in ((_("features"), features), (_("label"), label)):
        expect_type(value, TENSOR_TYPES, f"TabularDataset(breast_cancer.csv)[0]: {name}")
        expect(value.dtype == torch.float32,
               _("TabularDataset(...)[0]: the {name}: expected dtype torch.float32, got {dtype}").format(
                   name=name, dtype=value.dtype),
               hint=_("nn.Linear's weights are float32: read the table with np.loadtxt(..., dtype=np.float32), or "
                      "convert with .float()"))


@pytest.mark.points(1)
def test_multi_feature_model_output(student):
    model = student.MultiFeatureModel(8)
    x = torch.randn(4, 8)
    got = model(x.clone())
    expect_shape(got, (4, 1), "MultiFeatureModel(8)(x of shape (4, 8))")
    expected, mistakes = _multi_feature_expected(model, x)
    expect_tensor(got, expected, "MultiFeatureModel(8)(x of shape (4, 8))", mistakes=mistakes,
                  hint=_("sigmoid(linear3(sigmoid(linear2(sigmoid(linear1(x))))))"))


@pytest.mark.points(1)
def test_train_classifier_lowers_the_loss(student):
    x = torch.randn(32, 4)
    y = (x[:, :1] + 0.5 * x[:, 1:2] > 0).float()
    model = torch.nn.Sequential(torch.nn.Linear(4, 1), torch.nn.Sigmoid())
    start = copy.deepcopy(model)
    loader = DataLoader(TensorDataset(x.clone(), y.clone()), batch_size=8, shuffle=False)
    trained = student.train_classifier(model, loader, epochs=5, lr=0.5)
    expect_type(trained, torch.nn.Module, "train_classifier(a model, 4 batches, epochs=5, lr=0.5)",
                hint=_("return the model you trained"))
    with torch.no_grad():
        before, after = F.binary_cross_entropy(start(x), y).item(), F.binary_cross_entropy(trained(x), y).item()
    expect(any(not torch.equal(p, q) for p, q in zip(trained.parameters(), start.parameters())),
           _("train_classifier(...) returned the model with its parameters unchanged"),
           hint=_("every batch: the loss, optimizer.zero_grad(), loss.backward(), then optimizer.step() of "
                  "torch.optim.SGD(model.parameters(), lr=lr)"))
    expect(after < before, _("after train_classifier(epochs=5, lr=0.5) the BCE is {after}, at the start it was "
                             "{before}: expected it to go down").format(after=f"{after:.4g}", before=f"{before:.4g}"),
           hint=_("nn.BCELoss() (the mean) and torch.optim.SGD(model.parameters(), lr=lr), one step per batch"))
