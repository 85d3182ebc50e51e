"""Hidden checks of 04_softmax: graded by the instructor, never shipped to students."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from grader.checks import (
    TENSOR_TYPES,
    Mistake,
    expect,
    expect_at_least,
    expect_close,
    expect_equal,
    expect_number,
    expect_shape,
    expect_tensor,
    expect_type,
    fail,
    forbid_ops,
    parameter_count,
)
from grader.data import DIGITS28_MEAN, DIGITS28_STD, digits28, digits28_loader
from grader.i18n import _

SOFTMAX_OPS = ["_softmax", "_log_softmax"]
LOSS_OPS = ["_softmax", "_log_softmax", "nll_loss_forward", "nll_loss2d_forward"]
MLP_SIZES = [(784, 512), (512, 256), (256, 128), (128, 64), (64, 10)]
ACCURACY_BAR = 0.75  # the reference reaches 0.84 to 0.95 over seeds
# Tolerances of the values at logits of +-1000, by dtype: float32 resolves 1000 only to 6e-5, so any stable
# formula (max subtraction, logsumexp) is off by about 1e-5 there; an overflow gives inf or NaN.
STABLE_TOLERANCE = {torch.float32: (1e-4, 1e-6), torch.float64: (1e-10, 1e-12)}


def no_softmax():
    return _("write softmax by hand: torch.softmax, F.softmax and log_softmax are not allowed here")


def no_loss():
    return _("write cross_entropy by hand: F.cross_entropy, F.nll_loss, log_softmax and torch.softmax are not "
             "allowed here")


def overflow():
    return _("subtract each row's largest logit before exp(): exp(1000) overflows to inf")


def not_finite(got):
    return not bool(torch.isfinite(got).all())


def _sums_to_one(dim):
    """Whether a tensor's slices along `dim` sum to 1."""
    return lambda got: bool(torch.allclose(got.sum(dim=dim), torch.ones_like(got.sum(dim=dim)), atol=1e-9))


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
@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_softmax_matches_torch(student, dim):
    z = torch.randn(3, 4, 5, dtype=torch.float64) * 4
    with forbid_ops(SOFTMAX_OPS, no_softmax()):
        got = student.softmax(z.clone(), dim=dim)
    what = _("softmax(z of shape (3, 4, 5), dim={dim})").format(dim=dim)
    exps = (z - z.amax(dim=dim, keepdim=True)).exp()
    off_max = (z - z.amax(dim=-1, keepdim=True)).exp()
    expect_tensor(got, torch.softmax(z, dim=dim), what, rtol=1e-10, atol=1e-12,
                  hint=_("take the max and the sum along `dim` with keepdim=True"),
                  mistakes=[Mistake(_("work along `dim`, not always along the last dimension"),
                                    torch.softmax(z, dim=-1)),
                            *[Mistake(_("sum along `dim` only (sum(dim=dim, keepdim=True)), not over the whole "
                                        "tensor"), e / e.sum()) for e in (exps, z.exp())],
                            Mistake(_("take the max along `dim` too: a number subtracted before exp() must be the "
                                      "same along `dim`"), off_max / off_max.sum(dim=dim, keepdim=True)),
                            *[Mistake(_("your slices sum to 1 along dim={other}: take the sum along `dim` "
                                        "(sum(dim=dim, keepdim=True))").format(other=other), _sums_to_one(other))
                              for other in range(z.dim()) if other != dim % z.dim()]])
    expect_tensor(got.sum(dim=dim), torch.ones_like(z.sum(dim=dim)), _("the sums of {what} along dim={dim}").format(
        what=what, dim=dim))


@pytest.mark.points(2)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_softmax_is_stable(student, dtype):
    z = torch.tensor([[1000.0, 999.0, 998.0], [-1000.0, -1000.0, -999.0], [1000.0, -1000.0, 0.0]], dtype=dtype)
    with forbid_ops(SOFTMAX_OPS, no_softmax()):
        got = student.softmax(z.clone())
    what = "softmax([[1000, 999, 998], [-1000, -1000, -999], [1000, -1000, 0]])"
    rtol, atol = STABLE_TOLERANCE[dtype]
    blows_up = [Mistake(overflow(), not_finite)]
    expect_tensor(got, torch.softmax(z, dim=-1), what, rtol=rtol, atol=atol, mistakes=blows_up)
    expect_tensor(got.sum(dim=-1), torch.ones(3, dtype=dtype), _("the row sums of {what}").format(what=what),
                  rtol=rtol, atol=atol, mistakes=blows_up)


def _loss_mistakes(logits, targets, expected):
    """What the usual mistakes make of cross_entropy(logits, targets), whose right value is `expected`."""
    rows = torch.arange(len(targets))
    log_probs = F.log_softmax(logits, dim=1)
    return [Mistake(_("the mean over the batch, not the sum"), expected * len(targets)),
            Mistake(_("the loss is -log softmax(z)[target]: negate the picked log-probabilities"), -expected),
            Mistake(_("log_probs[:, targets] picks a whole column for every target: pick one entry per row, "
                      "log_probs[torch.arange(N), targets]"), -log_probs[:, targets].mean()),
            Mistake(_("the log-softmax of each row: take the max and the sum along dim=1"),
                    -F.log_softmax(logits, dim=0)[rows, targets].mean())]


@pytest.mark.points(2)
@pytest.mark.parametrize("n, c", [(5, 3), (16, 10)])
def test_cross_entropy_value_and_gradient(student, n, c):
    logits = (torch.randn(n, c, dtype=torch.float64) * 3).requires_grad_()
    targets = torch.randint(0, c, (n,))
    what = f"cross_entropy(logits ({n}, {c}), targets ({n},))"
    with forbid_ops(LOSS_OPS, no_loss()):
        got = one_number(student.cross_entropy(logits, targets.clone()), what, n)
    expected = F.cross_entropy(logits, targets)
    expect_tensor(got, expected, what, rtol=1e-10, atol=1e-12,
                  hint=_("the mean over the batch of -log softmax(row)[target]"),
                  mistakes=_loss_mistakes(logits.detach(), targets, expected.detach()))
    expect(got.requires_grad, _("{what}: the result is not connected to the logits' autograd graph").format(what=what),
           hint=_("compute it with torch operations on logits (no .item(), .numpy(), .detach() or torch.tensor(...) "
                  "of the values)"))
    (want,) = torch.autograd.grad(expected, logits)
    with forbid_ops(LOSS_OPS, no_loss()):
        (have,) = torch.autograd.grad(got, logits)
    expect_tensor(have, want, _("the gradient of {what} with respect to the logits").format(what=what), rtol=1e-9,
                  atol=1e-12)


def _instability(student):
    """Why cross_entropy gave inf or NaN on logits of +-1000, told apart on two probes (None if neither shows it):
    [1000, 999] overflows exp() unless the max is subtracted; [0, -2000] has a probability that underflows to 0,
    which only log(softmax(z)) turns into log(0) = -inf."""
    def blows_up(logits, target):
        try:
            with forbid_ops(LOSS_OPS, no_loss()):
                loss = student.cross_entropy(torch.tensor([logits], dtype=torch.float64), torch.tensor([target]))
            return type(loss) in TENSOR_TYPES and not_finite(loss)
        except Exception:  # the student's code fails on the probe: no cause shown
            return False

    if blows_up([1000.0, 999.0], 0):
        return overflow()
    if blows_up([0.0, -2000.0], 1):
        return _("log(softmax(z)) is log(0) = -inf once a probability underflows to 0: compute the log-softmax as "
                 "z - max - log(sum exp(z - max))")
    return None


@pytest.mark.points(2)
def test_cross_entropy_is_stable(student):
    logits = torch.tensor([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 500.0], [3.0, 1.0, -2.0]],
                          dtype=torch.float64, requires_grad=True)
    targets = torch.tensor([1, 2, 0])
    what = "cross_entropy([[1000, -1000, 0], [-1000, 1000, 500], [3, 1, -2]], targets [1, 2, 0])"
    with forbid_ops(LOSS_OPS, no_loss()):
        got = one_number(student.cross_entropy(logits, targets.clone()), what, 3)
    expected = F.cross_entropy(logits, targets)
    mistakes = _loss_mistakes(logits.detach(), targets, expected.detach())
    if not_finite(got):
        cause = _instability(student)
        mistakes = [Mistake(cause, not_finite)] if cause else []
    expect_tensor(got, expected, what, rtol=1e-10, atol=1e-12, mistakes=mistakes)
    (want,) = torch.autograd.grad(expected, logits)
    with forbid_ops(LOSS_OPS, no_loss()):
        (have,) = torch.autograd.grad(got, logits)
    expect_tensor(have, want, _("the gradient of {what}").format(what=what), rtol=1e-9, atol=1e-12)


@pytest.mark.points(1)
@pytest.mark.parametrize("shape", [(3, 5, 4), (2, 3, 5, 3)])
def test_normalize_matches_torchvision(student, shape):
    from torchvision import transforms  # imported here: it takes a while

    mean, std = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)
    x = torch.rand(*shape)
    got = student.normalize(x.clone(), mean, std)
    m, s = torch.tensor(mean).view(-1, 1, 1), torch.tensor(std).view(-1, 1, 1)
    mistakes = [Mistake(_("divide by std, do not multiply"), (x - m) * s)]
    if shape[-1] == len(mean):  # the width is the channel count: (C,)-shaped mean and std broadcast silently
        mistakes.append(Mistake(_("channel c is dim -3: shape mean and std as (C, 1, 1); shape (C,) lines up "
                                  "with the width"), (x - m.view(-1)) / s.view(-1)))
    expect_tensor(got, transforms.Normalize(mean, std)(x), f"normalize(x {shape}, mean={mean}, std={std})",
                  hint=_("(x[..., c, :, :] - mean[c]) / std[c] for every channel c, the dim -3"), mistakes=mistakes)
    digits = torch.rand(4, 1, 28, 28)
    expect_tensor(student.normalize(digits.clone(), (DIGITS28_MEAN,), (DIGITS28_STD,)),
                  transforms.Normalize((DIGITS28_MEAN,), (DIGITS28_STD,))(digits),
                  _("normalize(a batch of 28x28 images, (0.1307,), (0.3081,))"))


@pytest.mark.points(2)
def test_mlp_layer_sizes_and_parameter_count(student):
    model = student.MLP()
    expect_shape(model(torch.randn(3, 1, 28, 28)), (3, 10), _("MLP()(x of shape (3, 1, 28, 28))"))
    expect_shape(model(torch.randn(3, 784)), (3, 10), _("MLP()(x of shape (3, 784))"),
                 hint=_("x.view(-1, 784) flattens both (N, 1, 28, 28) and (N, 784)"))
    sizes = [(m.in_features, m.out_features) for m in model.modules() if isinstance(m, torch.nn.Linear)]
    expect_equal(sizes, MLP_SIZES, _("MLP's Linear layers (in, out)"))
    expect_equal(parameter_count(model), 575050, _("MLP's parameter count"),
                 hint=_("401,920 + 131,328 + 32,896 + 8,256 + 650"))


def _mlp_oracle(model, x, relu=True):
    """l5(relu(l4(...relu(l1(x))))) from the model's own Linear layers (without the ReLUs if not `relu`)."""
    layers = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    out = x.reshape(len(x), -1)
    for layer in layers[:-1]:
        out = F.relu(layer(out)) if relu else layer(out)
    return layers[-1](out)


@pytest.mark.points(2)
def test_mlp_returns_logits(student):
    model = student.MLP()
    x = torch.randn(16, 1, 28, 28)
    got = model(x.clone())
    expect_shape(got, (16, 10), _("MLP()(x of shape (16, 1, 28, 28))"))
    if bool(torch.allclose(got.sum(dim=1), torch.ones(16), atol=1e-4)) and bool((got >= 0).all()):
        fail(_("MLP's outputs are probabilities (every row sums to 1); return logits"),
             _("return l5's output: CrossEntropyLoss applies the softmax itself"))
    if bool((got >= 0).all()):
        fail(_("MLP's outputs are all >= 0, like ReLU outputs; logits can be negative"),
             _("nothing after l5: CrossEntropyLoss wants raw logits"))
    if bool(torch.allclose(got.exp().sum(dim=1), torch.ones(16), atol=1e-4)):
        fail(_("MLP's outputs are log-probabilities (exp sums to 1 in every row); return logits"),
             _("return l5's output, without log_softmax: CrossEntropyLoss applies it itself"))
    expect_tensor(got, _mlp_oracle(model, x), "MLP()(x)", rtol=1e-4, atol=1e-6,
                  hint=_("l5(relu(l4(relu(l3(relu(l2(relu(l1(x))))))))), nothing after l5"),
                  mistakes=[Mistake(_("ReLU after each of l1 to l4"), _mlp_oracle(model, x, relu=False))])


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
    accuracy = expect_number(student.evaluate(model, loader), "evaluate(...)")
    expect_close(accuracy, 0.6, _("evaluate(a model right on 6 of 10 samples, batches of 4, 4 and 2)"), rtol=1e-9,
                 hint=_("count the correct samples over all batches, then divide by the number of samples"),
                 mistakes=[Mistake(_("a fraction between 0 and 1, not a percentage"), 60.0),
                           Mistake(_("divide the number of correct predictions by the number of samples"), 6.0),
                           Mistake(_("the mean of the per-batch accuracies gives the short last batch the weight of "
                                     "a full one: count the correct samples over all batches, then divide by the "
                                     "number of samples"), 2 / 3),
                           Mistake(_("the last batch holds 2 samples, not 4: divide by the number of samples, not "
                                     "by batches x batch_size"), 0.5)])


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
    expect(len(model.calls) > 0, _("evaluate(...) never called the model"))
    expect(all(not training for training, _grad in model.calls), _("evaluate(...) ran the model in training mode"),
           hint=_("call model.eval() first: dropout and batch norm behave differently when evaluating"))
    expect(all(not grad for _training, grad in model.calls), _("evaluate(...) ran the model with gradients enabled"),
           hint=_("wrap the loop in `with torch.no_grad():`"))
    expect(grad_left_on, _("evaluate(...) left gradients switched off for everything that runs after it"),
           hint=_("use `with torch.no_grad():`, which switches them back on, not torch.set_grad_enabled(False)"))


def _why_it_did_not_learn(model):
    """What makes a correct-looking MLP fail to learn in 3 epochs, judged before training: None if nothing found."""
    for layer in (m for m in model.modules() if isinstance(m, torch.nn.Linear)):
        default_std = 1 / math.sqrt(3 * layer.in_features)  # nn.Linear's default: uniform(+-1/sqrt(in))
        if float(layer.weight.detach().std()) < default_std / 2:
            return _("the weights start far smaller than nn.Linear's default initialisation: through five layers "
                     "the signal and the gradients fade, and 3 epochs are not enough; keep the default")
    x = torch.randn(8, 1, 28, 28, generator=torch.Generator().manual_seed(0))  # leaves the check's stream alone
    with torch.no_grad():
        if not bool(torch.allclose(model(x), _mlp_oracle(model, x), rtol=1e-4, atol=1e-6)):
            return _("MLP(x) is not l5(relu(l4(relu(l3(relu(l2(relu(l1(x))))))))): fix forward first")
    return None


@pytest.mark.points(4)
@pytest.mark.timeout(120)
def test_trained_mlp_accuracy_on_digits28(student):
    model = student.MLP()
    cause = _why_it_did_not_learn(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    for _epoch in range(3):
        for images, labels in digits28_loader(train=True, batch_size=64):
            optimizer.zero_grad()
            F.cross_entropy(model(images), labels).backward()
            optimizer.step()
    model.eval()
    x, y = digits28(train=False)
    with torch.no_grad():
        logits = model(x)
    expect_shape(logits, (len(y), 10), _("the trained MLP's output on the test set"))
    expect_at_least((logits.argmax(1) == y).double().mean(), ACCURACY_BAR,
                    _("test accuracy of MLP after 3 epochs of Adam (lr=2e-3)"), hint=cause)
