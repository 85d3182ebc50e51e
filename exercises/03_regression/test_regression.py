"""Public checks of 03_regression: run them with `pytest exercises/03_regression`."""

import numpy as np
import pytest
import torch

from grader.checks import expect, expect_close, expect_equal, expect_shape, expect_tensor, expect_type
from grader.data import breast_cancer_path

# The notes' data: y = 2x.
NOTES_X = torch.tensor([[1.0], [2.0], [3.0]])
NOTES_Y = torch.tensor([[2.0], [4.0], [6.0]])


@pytest.mark.points(1)
def test_linear_model_output(student):
    model = student.LinearModel()
    expect_type(model, torch.nn.Module, "LinearModel()")
    got = model(NOTES_X)
    expect_tensor(got, model.linear(NOTES_X), "LinearModel()(x of shape (3, 1))", hint="return self.linear(x)")


@pytest.mark.points(2)
def test_train_linear_regression_notes_data(student):
    model = student.train_linear_regression(NOTES_X, NOTES_Y, epochs=500, lr=0.05)
    expect_type(model, torch.nn.Module, "train_linear_regression(...)", hint="return the trained LinearModel")
    expect_close(model.linear.weight, 2.0, "the trained weight (y = 2x)", atol=1e-2, rtol=0,
                 hint="nn.MSELoss() and torch.optim.SGD; zero the gradients before every backward()")
    expect_close(model.linear.bias, 0.0, "the trained bias (y = 2x)", atol=2e-2, rtol=0)


@pytest.mark.points(1)
def test_logistic_outputs_are_probabilities(student):
    model = student.LogisticRegressionModel()
    got = model(torch.tensor([[-3.0], [0.0], [1.0], [2.0], [4.0]]))
    expect_shape(got, (5, 1), "LogisticRegressionModel()(x of shape (5, 1))")
    expect(bool(((got > 0) & (got < 1)).all()), "LogisticRegressionModel's outputs must lie strictly between 0 and 1",
           hint="pass the linear layer's output through torch.sigmoid")


@pytest.mark.points(1)
def test_tabular_dataset_first_row(student):
    table = np.loadtxt(breast_cancer_path(), delimiter=",", dtype=np.float32)
    dataset = student.TabularDataset(breast_cancer_path())
    expect_equal(len(dataset), 569, "len(TabularDataset(breast_cancer.csv))")
    item = dataset[0]
    expect_type(item, (tuple, list), "TabularDataset(...)[0]", hint="return a pair (features, label)")
    expect_equal(len(item), 2, "the number of items in TabularDataset(...)[0]")
    features, label = item
    expect_tensor(features, torch.from_numpy(table[0, :-1]), "the features of row 0",
                  hint="30 features, float32: np.loadtxt(..., dtype=np.float32)")
    expect_tensor(label, torch.from_numpy(table[0, [-1]]), "the label of row 0",
                  hint="keep the label a 1-element vector: table[:, [-1]], not table[:, -1]")


@pytest.mark.points(1)
def test_multi_feature_model_output(student):
    model = student.MultiFeatureModel(8)
    got = model(torch.randn(4, 8))
    expect_shape(got, (4, 1), "MultiFeatureModel(8)(x of shape (4, 8))")
    expect(bool(((got > 0) & (got < 1)).all()), "MultiFeatureModel's outputs must lie strictly between 0 and 1",
           hint="a sigmoid after the last Linear layer too")
