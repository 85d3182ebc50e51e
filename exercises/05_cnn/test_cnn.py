"""Public checks of 05_cnn: run them with `pytest exercises/05_cnn`."""

import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from grader.checks import Mistake, expect, expect_equal, expect_shape, expect_tensor, expect_type, forbid_ops
from grader.i18n import _

# The notes' example: a 5x5 input and a 3x3 kernel.
NOTES_INPUT = torch.tensor(
    [[1, 2, 0, 3, 1], [0, 1, 2, 3, 1], [1, 2, 1, 0, 0], [5, 2, 3, 1, 1], [2, 1, 0, 1, 1]], dtype=torch.float64
).reshape(1, 1, 5, 5)
NOTES_KERNEL = torch.tensor([[1, 2, 1], [0, 1, 0], [2, 1, 0]], dtype=torch.float64).reshape(1, 1, 3, 3)
_equal = torch.equal  # bound before any student module is imported: one may patch torch


def no_conv():
    return _("conv2d must slide the kernel by hand: F.conv2d, nn.Conv2d and torch.conv2d are not allowed here")


def size_formula():
    return _("floor((size + 2·padding − dilation·(kernel_size − 1) − 1) / stride) + 1")


@pytest.mark.points(1)
def test_conv2d_output_size_notes_net(student):
    plus_one = Mistake(_("+ 1: the first window counts too (28 − 5 + 1 = 24 positions)"), 23)
    expect_equal(student.conv2d_output_size(28, 5), 24, "conv2d_output_size(28, 5)", hint=_("28 − 5 + 1"),
                 mistakes=[plus_one])
    expect_equal(student.conv2d_output_size(12, 5), 8, "conv2d_output_size(12, 5)", hint=_("12 − 5 + 1"),
                 mistakes=[Mistake(_("+ 1: the first window counts too (12 − 5 + 1 = 8 positions)"), 7)])


@pytest.mark.points(1)
def test_conv2d_output_size_padding_and_stride(student):
    padded = student.conv2d_output_size(5, 3, padding=1)
    strided = student.conv2d_output_size(5, 3, stride=2)
    # The two sizes that each usual mistake gives: one size alone can fit two of them.
    causes = {(4, 1): _("+ 1 after the floor: the first window counts too"),
              (4, 2): _("padding is added on both sides: size + 2·padding"),
              (3, 2): _("the padding widens the input: size + 2·padding"),
              (5, 3): _("divide by the stride: floor((5 − 3) / 2) + 1 = 2")}
    both = tuple(int(n) if type(n) is int else None for n in (padded, strided))
    mistakes = [Mistake(hint, lambda _got, pair=pair: both == pair) for pair, hint in causes.items()]
    expect_equal(padded, 5, "conv2d_output_size(5, 3, padding=1)", hint=size_formula(), mistakes=mistakes)
    expect_equal(strided, 2, "conv2d_output_size(5, 3, stride=2)", hint=size_formula(), mistakes=mistakes)


@pytest.mark.points(1)
def test_pool2d_output_size_default_stride(student):
    expect_equal(student.pool2d_output_size(24, 2), 12, "pool2d_output_size(24, 2)",
                 hint=_("the same formula as for a convolution, with stride = kernel_size"),
                 mistakes=[Mistake(_("stride=None means stride = kernel_size: windows side by side"), 23)])


@pytest.mark.points(2)
def test_conv2d_notes_example(student):
    with forbid_ops(["convolution"], no_conv()):
        got = student.conv2d(NOTES_INPUT.clone(), NOTES_KERNEL.clone())
    expect_tensor(got, F.conv2d(NOTES_INPUT, NOTES_KERNEL), _("conv2d(notes 5x5 input, notes 3x3 kernel)"),
                  hint=_("out[y, x] = Σ_i Σ_j input[y + i, x + j] · kernel[i, j]; the top-left one is 10"),
                  mistakes=[Mistake(_("cross-correlation: do not flip the kernel"),
                                    F.conv2d(NOTES_INPUT, NOTES_KERNEL.flip(2, 3)))])


@pytest.mark.points(1)
def test_max_pool2d_small(student):
    x = torch.arange(16, dtype=torch.float64).reshape(1, 1, 4, 4)
    got = student.max_pool2d(x.clone(), 2)
    what = "max_pool2d(4x4 arange, 2)"
    expect_shape(got, (1, 1, 2, 2), what, mistakes=[
        Mistake(_("stride=None means stride = kernel_size: windows side by side"), (1, 1, 3, 3))])
    expect_tensor(got, F.max_pool2d(x, 2), what, hint=_("the largest value of each 2x2 window"),
                  mistakes=[Mistake(_("max pooling takes the largest value of each window, not the mean"),
                                    F.avg_pool2d(x, 2))])


@pytest.mark.points(1)
def test_simple_cnn_output_shape(student):
    model = student.SimpleCNN()
    expect_type(model, torch.nn.Module, "SimpleCNN()")
    expect_shape(model(torch.randn(4, 1, 28, 28)), (4, 10), _("SimpleCNN()(x of shape (4, 1, 28, 28))"),
                 hint=_("flatten (N, 20, 4, 4) to (N, 320) before the Linear layer: fc's output is (N, 10)"))


@pytest.mark.points(1)
def test_train_returns_the_model_and_lowers_the_loss(student):
    x, y = torch.randn(16, 1, 4, 4), torch.randint(0, 3, (16,))
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 3))
    start = [p.detach().clone() for p in model.parameters()]
    with torch.no_grad():
        before = float(F.cross_entropy(model(x), y))
    loader = DataLoader(TensorDataset(x, y), batch_size=8)
    trained = student.train(model, loader, epochs=5, lr=0.1)
    what = _("train(a linear classifier, 16 samples in batches of 8, epochs=5, lr=0.1)")
    expect_type(trained, torch.nn.Module, what, hint=_("return the model once it is trained"))
    expect(any(not _equal(p.detach().cpu(), s) for p, s in zip(trained.parameters(), start)),
           _("{what} did not change the model's weights").format(what=what),
           hint=_("build the optimizer on model.parameters() and call optimizer.step() for every batch"))
    with torch.no_grad():
        after = float(F.cross_entropy(trained.cpu()(x), y))
    expect(after < before, _("{what}: the loss on its samples went from {before:.4f} to {after:.4f}, not down").format(
        what=what, before=before, after=after))
