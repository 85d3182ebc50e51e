"""Hidden checks of 04_softmax: graded by the instructor, never shipped to students."""

import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from grader.checks import (
    expect,
    expect_close,
    expect_equal,
    expect_number,
    expect_shape,
    expect_tensor,
    fail,
    forbid_ops,
    parameter_count,
)
from grader.data import DIGITS28_MEAN, DIGITS28_STD, digits28, digits28_loader

NO_SOFTMAX = "write softmax by hand: torch.softmax, F.softmax and log_softmax are not allowed here"
NO_LOSS = "write cross_entropy by hand: F.cross_entropy, F.nll_loss, log_softmax and torch.softmax are not allowed here"
SOFTMAX_OPS = ["_softmax", "_log_softmax"]
LOSS_OPS = ["_softmax", "_log_softmax", "nll_loss_forward", "nll_loss2d_forward"]
STABLE_HINT = "subtract each row's largest logit before exp(); exp(1000) overflows to inf"
MLP_SIZES = [(784, 512), (512, 256), (256, 128), (128, 64), (64, 10)]
ACCURACY_BAR = 0.75  # the reference reaches 0.84 to 0.95 over seeds


@pytest.mark.points(1)
@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_softmax_matches_torch(student, dim):
    z = torch.randn(3, 4, 5, dtype=torch.float64) * 4
    with forbid_ops(SOFTMAX_OPS, NO_SOFTMAX):
        got = student.softmax(z, dim=dim)
    what = f"softmax(z of shape (3, 4, 5), dim={dim})"
    expect_tensor(got, torch.softmax(z, dim=dim), what, rtol=1e-10, atol=1e-12,
                  hint="take the max and the sum along `dim` with keepdim=True")
    expect_tensor(got.sum(dim=dim), torch.ones_like(z.sum(dim=dim)), f"the sums of {what} along dim={dim}")


@pytest.mark.points(2)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_softmax_is_stable(student, dtype):
    z = torch.tensor([[1000.0, 999.0, 998.0], [-1000.0, -1000.0, -999.0], [1000.0, -1000.0, 0.0]], dtype=dtype)
    with forbid_ops(SOFTMAX_OPS, NO_SOFTMAX):
        got = student.softmax(z)
    what = "softmax([[1000, 999, 998], [-1000, -1000, -999], [1000, -1000, 0]])"
    expect_tensor(got, torch.softmax(z, dim=-1), what, rtol=1e-5, atol=1e-7, hint=STABLE_HINT)
    expect_tensor(got.sum(dim=-1), torch.ones(3, dtype=dtype), f"the row sums of {what}", hint=STABLE_HINT)


@pytest.mark.points(2)
@pytest.mark.parametrize("n, c", [(5, 3), (16, 10)])
def test_cross_entropy_value_and_gradient(student, n, c):
    logits = (torch.randn(n, c, dtype=torch.float64) * 3).requires_grad_()
    targets = torch.randint(0, c, (n,))
    what = f"cross_entropy(logits ({n}, {c}), targets ({n},))"
    with forbid_ops(LOSS_OPS, NO_LOSS):
        got = student.cross_entropy(logits, targets)
    expected = F.cross_entropy(logits, targets)
    expect_tensor(got, expected, what, rtol=1e-10, atol=1e-12,
                  hint="one number: the mean (not the sum) over the batch of -log softmax(row)[target]")
    expect(got.requires_grad, f"{what}: the result is not connected to the logits' autograd graph",
           hint="compute with torch operations on logits; no .item() or .numpy()")
    (want,) = torch.autograd.grad(expected, logits)
    with forbid_ops(LOSS_OPS, NO_LOSS):
        (have,) = torch.autograd.grad(got, logits)
    expect_tensor(have, want, f"the gradient of {what} with respect to the logits", rtol=1e-9, atol=1e-12)


@pytest.mark.points(2)
def test_cross_entropy_is_stable(student):
    logits = torch.tensor([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 500.0], [3.0, 1.0, -2.0]],
                          dtype=torch.float64, requires_grad=True)
    targets = torch.tensor([1, 2, 0])
    what = "cross_entropy([[1000, -1000, 0], [-1000, 1000, 500], [3, 1, -2]], targets [1, 2, 0])"
    with forbid_ops(LOSS_OPS, NO_LOSS):
        got = student.cross_entropy(logits, targets)
    expected = F.cross_entropy(logits, targets)
    expect_tensor(got, expected, what, rtol=1e-10, atol=1e-12,
                  hint=STABLE_HINT + "; and log(softmax) gives log(0) = -inf: use z - max - log(sum exp(z - max))")
    (want,) = torch.autograd.grad(expected, logits)
    with forbid_ops(LOSS_OPS, NO_LOSS):
        (have,) = torch.autograd.grad(got, logits)
    expect_tensor(have, want, f"the gradient of {what}", rtol=1e-9, atol=1e-12, hint=STABLE_HINT)


@pytest.mark.points(1)
@pytest.mark.parametrize("shape", [(3, 5, 4), (2, 3, 5, 4)])
def test_normalize_matches_torchvision(student, shape):
    from torchvision import transforms  # imported here: it takes a while

    mean, std = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)
    x = torch.rand(*shape)
    before, expected = x.clone(), transforms.Normalize(mean, std)(x)
    got = student.normalize(x, mean, std)
    expect_tensor(got, expected, f"normalize(x {shape}, mean={mean}, std={std})",
                  hint="channel c is dim -3: shape mean and std as (C, 1, 1) so they broadcast over H and W")
    expect(bool(torch.equal(x, before)), "normalize changed its input x; return a new tensor instead",
           hint="x - mean, not x.sub_(mean)")
    digits = torch.rand(4, 1, 28, 28)
    expect_tensor(student.normalize(digits, (DIGITS28_MEAN,), (DIGITS28_STD,)),
                  transforms.Normalize((DIGITS28_MEAN,), (DIGITS28_STD,))(digits),
                  "normalize(a batch of 28x28 images, (0.1307,), (0.3081,))")


@pytest.mark.points(2)
def test_mlp_layer_sizes_and_parameter_count(student):
    model = student.MLP()
    expect_shape(model(torch.randn(3, 1, 28, 28)), (3, 10), "MLP()(x of shape (3, 1, 28, 28))")
    expect_shape(model(torch.randn(3, 784)), (3, 10), "MLP()(x of shape (3, 784))",
                 hint="x.view(-1, 784) flattens both (N, 1, 28, 28) and (N, 784)")
    sizes = [(m.in_features, m.out_features) for m in model.modules() if isinstance(m, torch.nn.Linear)]
    expect_equal(sizes, MLP_SIZES, "MLP's Linear layers (in, out)")
    expect_equal(parameter_count(model), 575050, "MLP's parameter count",
                 hint="401,920 + 131,328 + 32,896 + 8,256 + 650")


@pytest.mark.points(2)
def test_mlp_returns_logits(student):
    model = student.MLP()
    x = torch.randn(16, 1, 28, 28)
    got = model(x)
    expect_shape(got, (16, 10), "MLP()(x of shape (16, 1, 28, 28))")
    no_activation = "CrossEntropyLoss wants raw logits: no softmax, log_softmax or ReLU after the last layer"
    if bool((got >= 0).all()):
        fail("MLP's outputs are all >= 0, like probabilities or ReLU outputs; logits can be negative", no_activation)
    if bool(torch.allclose(got.exp().sum(dim=1), torch.ones(16), atol=1e-4)):
        fail("MLP's outputs are log-probabilities (exp sums to 1 in every row); return logits", no_activation)
    layers = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    expected = x.reshape(16, 784)
    for layer in layers[:-1]:
        expected = F.relu(layer(expected))
    expected = layers[-1](expected)
    expect_tensor(got, expected, "MLP()(x)", rtol=1e-4, atol=1e-6,
                  hint="ReLU after each of l1..l4, " + no_activation.split(": ")[1])


class _Lookup(torch.nn.Module):
    """Answers with fixed logits (input i gets row i) and records the mode and grad mode of every call."""

    def __init__(self, logits):
        super().__init__()
        self.logits = logits
        self.scale = torch.nn.Parameter(torch.ones(()))
        self.calls = []

    def forward(self, x):
        self.calls.append((self.training, torch.is_grad_enabled()))
        return self.logits[x.long().reshape(-1)] * self.scale


def _lookup_loader(logits, labels, batch_size):
    n = len(labels)
    return _Lookup(logits), DataLoader(TensorDataset(torch.arange(float(n)).reshape(n, 1), labels), batch_size)


@pytest.mark.points(2)
def test_evaluate_counts_every_sample(student):
    # Batches of 4, 4 and 2: right on 4 of 4, 0 of 4, 2 of 2, so 6 / 10 (not the mean of per-batch accuracies).
    labels = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3, 4, 5])
    predicted = torch.tensor([0, 1, 2, 3, 1, 2, 3, 4, 4, 5])
    model, loader = _lookup_loader(F.one_hot(predicted, 6).double() * 5 - 1, labels, batch_size=4)
    accuracy = expect_number(student.evaluate(model, loader), "evaluate(...)", hint="return a number")
    expect(0.0 <= accuracy <= 1.0, f"evaluate(...) returned {accuracy:g}: an accuracy lies between 0 and 1",
           hint="correct / total, not a percentage")
    expect_close(accuracy, 0.6, "evaluate(a model right on 6 of 10 samples, batches of 4, 4 and 2)", rtol=1e-9,
                 hint="count correct samples over all batches, then divide by the number of samples")


@pytest.mark.points(2)
def test_evaluate_uses_eval_and_no_grad(student):
    labels = torch.tensor([2, 0, 1, 1, 0])
    model, loader = _lookup_loader(torch.randn(5, 3), labels, batch_size=2)
    model.train()
    try:
        student.evaluate(model, loader)
    finally:
        grad_left_on = torch.is_grad_enabled()
        torch.set_grad_enabled(True)  # so that a student's set_grad_enabled(False) costs this check only
    expect(len(model.calls) > 0, "evaluate(...) never called the model")
    expect(all(not training for training, _ in model.calls), "evaluate(...) ran the model in training mode",
           hint="call model.eval() first: dropout and batch norm behave differently when evaluating")
    expect(all(not grad for _, grad in model.calls), "evaluate(...) ran the model with gradients enabled",
           hint="wrap the loop in `with torch.no_grad():`")
    expect(grad_left_on, "evaluate(...) left gradients switched off for everything that runs after it",
           hint="use `with torch.no_grad():`, which switches them back on, not torch.set_grad_enabled(False)")


@pytest.mark.points(4)
@pytest.mark.timeout(120)
def test_trained_mlp_accuracy_on_digits28(student):
    model = student.MLP()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    for _ in range(3):
        for images, labels in digits28_loader(train=True, batch_size=64):
            optimizer.zero_grad()
            F.cross_entropy(model(images), labels).backward()
            optimizer.step()
    model.eval()
    x, y = digits28(train=False)
    with torch.no_grad():
        logits = model(x)
    expect_shape(logits, (len(y), 10), "the trained MLP's output on the test set")
    accuracy = expect_number((logits.argmax(1) == y).double().mean(), "test accuracy")
    expect(accuracy >= ACCURACY_BAR, f"test accuracy of MLP after 3 epochs of Adam (lr=2e-3) is {accuracy:.3f}, "
           f"expected at least {ACCURACY_BAR}", hint="ReLU between the layers and raw logits out of l5")
