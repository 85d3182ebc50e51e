"""Public checks of 04_softmax: run them with `pytest exercises/04_softmax`."""

import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from grader.checks import expect_close, expect_shape, expect_tensor, expect_type, forbid_ops

NO_SOFTMAX = "write softmax by hand: torch.softmax, F.softmax and log_softmax are not allowed here"
NO_LOSS = "write cross_entropy by hand: F.cross_entropy, F.nll_loss, log_softmax and torch.softmax are not allowed here"
SOFTMAX_OPS = ["_softmax", "_log_softmax"]
LOSS_OPS = ["_softmax", "_log_softmax", "nll_loss_forward", "nll_loss2d_forward"]


@pytest.mark.points(1)
def test_softmax_small(student):
    z = torch.tensor([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]], dtype=torch.float64)
    with forbid_ops(SOFTMAX_OPS, NO_SOFTMAX):
        got = student.softmax(z)
    expect_tensor(got, torch.softmax(z, dim=-1), "softmax([[1, 2, 3], [1, 1, 1]])",
                  hint="exp of each logit divided by the sum of its row's exps")


@pytest.mark.points(1)
def test_cross_entropy_small(student):
    logits = torch.tensor([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3], [1.0, 1.0, 3.0]], dtype=torch.float64)
    targets = torch.tensor([0, 1, 2])
    with forbid_ops(LOSS_OPS, NO_LOSS):
        got = student.cross_entropy(logits, targets)
    expect_close(got, float(F.cross_entropy(logits, targets)), "cross_entropy(3 x 3 logits, targets [0, 1, 2])",
                 rtol=1e-9, hint="the mean over the rows of -log softmax(row)[target]")


@pytest.mark.points(1)
def test_normalize_one_channel(student):
    x = torch.rand(1, 4, 4)
    expect_tensor(student.normalize(x, (0.1307,), (0.3081,)), (x - 0.1307) / 0.3081,
                  "normalize(x (1, 4, 4), mean=(0.1307,), std=(0.3081,))", hint="(x - mean) / std")


@pytest.mark.points(1)
def test_mlp_output_shape(student):
    model = student.MLP()
    expect_type(model, torch.nn.Module, "MLP()")
    expect_shape(model(torch.randn(4, 1, 28, 28)), (4, 10), "MLP()(x of shape (4, 1, 28, 28))",
                 hint="flatten each image to 784 numbers first: x.view(-1, 784)")


class _Lookup(torch.nn.Module):
    """Answers with fixed logits: input i (a number) gets row i of `logits`."""

    def __init__(self, logits):
        super().__init__()
        self.logits = logits

    def forward(self, x):
        return self.logits[x.long().reshape(-1)]


@pytest.mark.points(1)
def test_evaluate_perfect_model(student):
    labels = torch.tensor([3, 1, 4, 1, 5, 9, 2, 6])
    model = _Lookup(F.one_hot(labels, 10).float())
    loader = DataLoader(TensorDataset(torch.arange(8.0).reshape(8, 1), labels), batch_size=3)
    expect_close(student.evaluate(model, loader), 1.0, "evaluate(a model that is always right, ...)",
                 hint="a fraction between 0 and 1, not a percentage")
