"""Public checks of 04_softmax: run them with `pytest exercises/04_softmax`."""

import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from grader.checks import (
    TENSOR_TYPES,
    Mistake,
    expect_close,
    expect_shape,
    expect_tensor,
    expect_type,
    fail,
    forbid_ops,
)
from grader.i18n import _

SOFTMAX_OPS = ["_softmax", "_log_softmax"]
LOSS_OPS = ["_softmax", "_log_softmax", "nll_loss_forward", "nll_loss2d_forward"]
_equal = torch.equal  # bound before any student module is imported: one may patch torch


def no_softmax():
    return _("write softmax by hand: torch.softmax, F.softmax and log_softmax are not allowed here")


def no_loss():
    return _("write cross_entropy by hand: F.cross_entropy, F.nll_loss, log_softmax and torch.softmax are not "
             "allowed here")


def one_number(got, what, n):
    """The loss as a 0-d tensor: a tensor of shape () or (1,), as README section 2 allows."""
    expect_type(got, TENSOR_TYPES, what,
                hint=_("return the loss as a tensor (no .item()), so that backward() can run through it"))
    if got.numel() != 1:
        expect_shape(got, (), what, mistakes=[
            Mistake(_("these are the per-sample losses: return their mean over the batch"), (n,)),
            Mistake(_("log_probs[:, targets] picks a whole column for every target: pick one entry per row, "
                      "log_probs[torch.arange(N), targets]"), (n, n))])
    return got.reshape(())


@pytest.mark.points(1)
def test_softmax_small(student):
    z = torch.tensor([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]], dtype=torch.float64)
    with forbid_ops(SOFTMAX_OPS, no_softmax()):
        got = student.softmax(z.clone())
    whole, unnormalised = [], []
    for exps in (z.exp(), (z - z.amax(dim=-1, keepdim=True)).exp()):  # without and with the max subtracted
        whole.append(Mistake(_("sum along `dim` only (sum(dim=dim, keepdim=True)), not over the whole tensor"),
                             exps / exps.sum()))
        unnormalised.append(Mistake(_("divide each exp by the sum of its row's exps"), exps))
    expect_tensor(got, torch.softmax(z, dim=-1), "softmax([[1, 2, 3], [1, 1, 1]])",
                  hint=_("exp of each logit divided by the sum of its row's exps"),
                  mistakes=[Mistake(_("work along `dim` (the last one by default): each row sums to 1"),
                                    torch.softmax(z, dim=0)), *whole, *unnormalised])


@pytest.mark.points(1)
def test_cross_entropy_small(student):
    logits = torch.tensor([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3], [1.0, 1.0, 3.0]], dtype=torch.float64)
    targets = torch.tensor([0, 1, 2])
    with forbid_ops(LOSS_OPS, no_loss()):
        got = student.cross_entropy(logits.clone(), targets.clone())
    what = _("cross_entropy(3 x 3 logits, targets [0, 1, 2])")
    expected = float(F.cross_entropy(logits, targets))
    expect_close(one_number(got, what, 3), expected, what, rtol=1e-9,
                 hint=_("the mean over the rows of -log softmax(row)[target]"),
                 mistakes=[Mistake(_("the mean over the batch, not the sum"), 3 * expected),
                           Mistake(_("the loss is -log softmax(z)[target]: negate the picked log-probabilities"),
                                   -expected)])


@pytest.mark.points(1)
def test_normalize_one_channel(student):
    x = torch.rand(1, 4, 4)
    got = student.normalize(x.clone(), (0.1307,), (0.3081,))
    expect_tensor(got, (x - 0.1307) / 0.3081, "normalize(x (1, 4, 4), mean=(0.1307,), std=(0.3081,))",
                  hint=_("(x - mean) / std"),
                  mistakes=[Mistake(_("divide by std, do not multiply"), (x - 0.1307) * 0.3081),
                            Mistake(_("subtract the mean first, then divide: (x - mean) / std"),
                                    x / 0.3081 - 0.1307)])


@pytest.mark.points(1)
def test_normalize_leaves_x_unchanged(student):
    x = torch.rand(3, 4, 4)
    given = x.clone()
    got = student.normalize(given, (0.5, 0.4, 0.3), (0.2, 0.25, 0.3))
    if not bool(_equal(given, x)):
        cause = (_("it returned x itself, written over: copy it first (x.clone()) or compute (x - mean) / std, "
                   "which makes a new tensor") if got is given else
                 _("an in-place operation (x -= ..., x.sub_(...), x[...] = ...) wrote into x: compute "
                   "(x - mean) / std, which makes a new tensor"))
        fail(_("normalize(x (3, 4, 4), ...) changed its input x; return a new tensor and leave x as it was"), cause)


@pytest.mark.points(1)
def test_mlp_output_shape(student):
    model = student.MLP()
    expect_type(model, torch.nn.Module, "MLP()")
    expect_shape(model(torch.randn(4, 1, 28, 28)), (4, 10), _("MLP()(x of shape (4, 1, 28, 28))"),
                 hint=_("flatten each image to 784 numbers (x.view(-1, 784)), then l1 to l5: logits (N, 10)"))


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
    expect_close(student.evaluate(model, loader), 1.0, _("evaluate(a model that is always right, ...)"),
                 hint=_("the number of correct predictions divided by the number of samples"),
                 mistakes=[Mistake(_("a fraction between 0 and 1, not a percentage"), 100.0),
                           Mistake(_("divide the number of correct predictions by the number of samples"), 8.0)])
