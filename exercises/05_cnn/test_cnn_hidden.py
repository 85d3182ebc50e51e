"""Hidden checks of 05_cnn: graded by the instructor, never shipped to students."""

import copy
import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from grader.checks import (
    TENSOR_TYPES,
    Mistake,
    expect,
    expect_at_least,
    expect_equal,
    expect_shape,
    expect_tensor,
    expect_type,
    fail,
    forbid_ops,
    parameter_count,
)
from grader.data import digits28, digits28_loader
from grader.i18n import _

ACCURACY_BAR = 0.80  # the reference reaches 0.87 to 0.96 over seeds
# conv2d's values and gradients in float64 agree with F.conv2d's to about 1e-15; computed (partly) in float32, to
# about 1e-7. A flipped kernel, a missing bias or a wrong stride is off by far more than this.
CONV_RTOL, CONV_ATOL = 1e-5, 1e-6
_equal = torch.equal  # bound before any student module is imported: one may patch torch


def no_conv():
    return _("conv2d must slide the kernel by hand: F.conv2d, nn.Conv2d and torch.conv2d are not allowed here")


def no_pool():
    return _("max_pool2d must take the window maxima by hand: F.max_pool2d and nn.MaxPool2d are not allowed here")


def size_formula():
    return _("floor((size + 2·padding − dilation·(kernel_size − 1) − 1) / stride) + 1, an int")


def conv_formula():
    return _("out[n, o, y, x] = bias[o] + Σ_c Σ_i Σ_j input_padded[n, c, y·stride + i, x·stride + j] · "
             "weight[o, c, i, j]")


def stride_none():
    return _("stride=None means stride = kernel_size: windows side by side")


def expect_computed_from_the_input(f, x, got, what):
    """`f(2 * x)` differs from `got = f(x)`: an output that ignores the input earns no point for its dtype."""
    doubled = f(2 * x)
    expect(type(doubled) in TENSOR_TYPES and tuple(doubled.shape) == tuple(got.shape) and not _equal(doubled, got),
           _("{what}: the output stays the same when the input is doubled: compute it from the input").format(
               what=what))


def buffer_dtype():
    return _("compute in the input's dtype: torch.zeros(...) and torch.tensor(...) make float32 unless given "
             "dtype=input.dtype (input.new_zeros(...) does that), and .float() converts to float32")


def _meta(*shape):
    return torch.empty(*shape, device="meta")


def _as_int(value):
    """`value` as a plain int if it is an int (Python's or NumPy's), else None."""
    return int(value) if type(value) is int or isinstance(value, np.integer) else None


def expect_sizes(cases, hint):
    """Every `(what, got, expected, mistakes)` case has `got == expected`, an int. A mistake's hint is shown when
    that mistake (a `(hint, value)` per case) gives every wrong size, since some wrong sizes fit several mistakes."""
    wrong = [case for case in cases if _as_int(case[1]) != case[2]]
    if not wrong:
        return
    what, got, expected, mistakes = wrong[0]
    causes = [h for h, _value in mistakes if all(dict(m)[h] == _as_int(g) for _w, g, _e, m in wrong)]
    expect_equal(got, expected, what, hint=hint, mistakes=[Mistake(h, got) for h in causes[:1]])


@pytest.mark.points(2)
def test_conv2d_output_size_matches_pytorch(student):
    cases = []
    for size, k, s, p, d in itertools.product(range(1, 34, 3), (1, 2, 3, 5, 7), (1, 2, 3), (0, 1, 2, 3), (1, 2, 3)):
        if d * (k - 1) + 1 > size + 2 * p:
            continue
        expected = F.conv2d(_meta(1, 1, size, size), _meta(1, 1, k, k), stride=s, padding=p, dilation=d).shape[-1]
        span = size + 2 * p - d * (k - 1) - 1
        cases.append((f"conv2d_output_size({size}, {k}, stride={s}, padding={p}, dilation={d})",
                      student.conv2d_output_size(size, k, stride=s, padding=p, dilation=d), expected,
                      [(_("+ 1 after the floor: the first window counts too"), span // s),
                       (_("round down (floor, //), not up"), math.ceil(span / s) + 1),
                       (_("a kernel of k taps spaced dilation apart covers dilation·(k − 1) + 1 pixels"),
                        (size + 2 * p - k) // s + 1),
                       (_("padding is added on both sides: size + 2·padding"),
                        (size + p - d * (k - 1) - 1) // s + 1)]))
    expect_sizes(cases, size_formula())


def _pool_size(size, k, s, p, ceil, drop=True):
    """Pooling's output size; `drop=False` keeps a last window that starts in the right padding."""
    span = size + 2 * p - (k - 1) - 1
    if not ceil:
        return span // s + 1
    out = math.ceil(span / s) + 1
    return out - 1 if drop and (out - 1) * s >= size + p else out


@pytest.mark.points(2)
def test_pool2d_output_size_matches_pytorch(student):
    cases = []
    for size, k, s, p, ceil in itertools.product(range(2, 30, 3), (2, 3, 4), (None, 1, 2, 3), (0, 1), (False, True)):
        if p > k // 2 or k > size + 2 * p:
            continue
        expected = F.max_pool2d(_meta(1, 1, size, size), k, stride=s, padding=p, ceil_mode=ceil).shape[-1]
        stride = k if s is None else s
        mistakes = [(_("ceil_mode=True rounds up: a partial window at the edge still gives an output"),
                     _pool_size(size, k, stride, p, False)),
                    (_("with ceil_mode, drop a last window that would start in the right padding: "
                       "if (out − 1)·stride ≥ size + padding, out − 1"),
                     _pool_size(size, k, stride, p, ceil, drop=False)),
                    (stride_none(), _pool_size(size, k, 1 if s is None else s, p, ceil))]
        cases.append((f"pool2d_output_size({size}, {k}, stride={s}, padding={p}, ceil_mode={ceil})",
                      student.pool2d_output_size(size, k, stride=s, padding=p, ceil_mode=ceil), expected, mistakes))
    expect_sizes(cases, _("the convolution's formula with stride defaulting to kernel_size; ceil_mode rounds up, but "
                          "a window must not start in the right padding"))


def _conv_shape_mistakes(x, w, stride, padding):
    """The output shapes of a conv2d that ignores the padding or the stride, when they differ from the right one."""
    right = F.conv2d(x, w, stride=stride, padding=padding).shape
    found = []
    for hint, shape in ((_("pad the input with `padding` zeros on every side (F.pad(input, (p, p, p, p)))"),
                         F.conv2d(x, w, stride=stride).shape),
                        (_("step `stride` pixels from one window to the next: y·stride + i"),
                         F.conv2d(x, w, padding=padding).shape)):
        if shape != right:
            found.append(Mistake(hint, tuple(shape)))
    return found


def _conv_mistakes(x, w, b, stride, padding):
    """What a flipped kernel or a forgotten bias make of conv2d(x, w, b)."""
    flip = Mistake(_("cross-correlation: do not flip the kernel"),
                   F.conv2d(x, w.flip(2, 3), b, stride=stride, padding=padding))
    if b is None:
        return [flip]
    return [flip, Mistake(_("add bias[o] to every position of output channel o"),
                          F.conv2d(x, w, stride=stride, padding=padding))]


@pytest.mark.points(2)
@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 0), (1, 1), (2, 1)])
def test_conv2d_notes_strides_and_padding(student, stride, padding):
    x = torch.tensor([[1, 2, 0, 3, 1], [0, 1, 2, 3, 1], [1, 2, 1, 0, 0], [5, 2, 3, 1, 1], [2, 1, 0, 1, 1]],
                     dtype=torch.float64).reshape(1, 1, 5, 5)
    k = torch.tensor([[1, 2, 1], [0, 1, 0], [2, 1, 0]], dtype=torch.float64).reshape(1, 1, 3, 3)
    with forbid_ops(["convolution"], no_conv()):
        got = student.conv2d(x.clone(), k.clone(), stride=stride, padding=padding)
    expected = F.conv2d(x, k, stride=stride, padding=padding)
    what = _("conv2d(notes input, notes kernel, stride={stride}, padding={padding})").format(
        stride=stride, padding=padding)
    expect_shape(got, expected.shape, what, mistakes=_conv_shape_mistakes(x, k, stride, padding))
    expect_tensor(got, expected, what, rtol=CONV_RTOL, atol=CONV_ATOL, hint=conv_formula(),
                  mistakes=_conv_mistakes(x, k, None, stride, padding))


@pytest.mark.points(3)
@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1), (3, 2)])
def test_conv2d_values_and_gradients(student, stride, padding):
    x = torch.randn(2, 3, 9, 8, dtype=torch.float64, requires_grad=True)
    w = torch.randn(4, 3, 3, 2, dtype=torch.float64, requires_grad=True)
    b = torch.randn(4, dtype=torch.float64, requires_grad=True)
    with forbid_ops(["convolution"], no_conv()):
        got = student.conv2d(x, w, b, stride=stride, padding=padding)
    expected = F.conv2d(x, w, b, stride=stride, padding=padding)
    what = f"conv2d(x (2,3,9,8), w (4,3,3,2), bias, stride={stride}, padding={padding})"
    expect_shape(got, expected.shape, what, mistakes=_conv_shape_mistakes(x.detach(), w.detach(), stride, padding))
    expect_tensor(got, expected, what, rtol=CONV_RTOL, atol=CONV_ATOL, hint=conv_formula(),
                  mistakes=_conv_mistakes(x.detach(), w.detach(), b.detach(), stride, padding))
    upstream = torch.randn_like(expected)
    want = torch.autograd.grad(expected, (x, w, b), upstream)
    expect(got.requires_grad, _("{what}: the result is not connected to the inputs' autograd graph").format(what=what),
           hint=_("build the output from torch operations on input and weight; no .item() or .numpy()"))
    have = torch.autograd.grad(got, (x, w, b), upstream, allow_unused=True)
    for name, g, e in zip(("input", "weight", "bias"), have, want):
        expect(g is not None, _("{what}: no gradient reaches {name}").format(what=what, name=name))
        expect_tensor(g, e, _("gradient of {what} with respect to {name}").format(what=what, name=name),
                      rtol=CONV_RTOL, atol=CONV_ATOL)


@pytest.mark.points(1)
def test_conv2d_keeps_the_input_dtype(student):
    x = torch.randn(1, 2, 6, 5, dtype=torch.float64)
    w = torch.randn(3, 2, 3, 3, dtype=torch.float64)
    with forbid_ops(["convolution"], no_conv()):
        got = student.conv2d(x.clone(), w.clone())
    what = "conv2d(x (1,2,6,5) float64, w (3,2,3,3) float64)"
    expect_type(got, TENSOR_TYPES, what)
    with forbid_ops(["convolution"], no_conv()):
        expect_computed_from_the_input(lambda t: student.conv2d(t, w.clone()), x, got, what)
    if got.dtype != x.dtype:
        fail(_("{what}: the output is {got}, expected torch.float64, the input's dtype").format(what=what,
                                                                                              got=got.dtype),
             buffer_dtype())


@pytest.mark.points(2)
@pytest.mark.parametrize("kernel_size, stride", [(2, None), (3, 1), (3, 2)])
def test_max_pool2d_values_and_gradients(student, kernel_size, stride):
    # Distinct values, so that every window has one maximum and the gradient is well defined.
    x = torch.randperm(2 * 3 * 8 * 7).reshape(2, 3, 8, 7).double().requires_grad_()
    with forbid_ops(["max_pool2d_with_indices", "max_pool2d"], no_pool()):
        got = student.max_pool2d(x, kernel_size, stride)
    expected = F.max_pool2d(x, kernel_size, stride)
    what = f"max_pool2d(x (2,3,8,7), {kernel_size}, stride={stride})"
    step = kernel_size if stride is None else stride
    shapes = [(stride_none(), F.max_pool2d(x, kernel_size, 1).shape)] if stride is None else [
        (_("step `stride` pixels from one window to the next"), F.max_pool2d(x, kernel_size).shape)]
    expect_shape(got, expected.shape, what, mistakes=[Mistake(h, tuple(s)) for h, s in shapes if s != expected.shape])
    expect_tensor(got, expected, what, hint=_("the largest value of each kernel_size x kernel_size window"),
                  mistakes=[Mistake(_("max pooling takes the largest value of each window, not the mean"),
                                    F.avg_pool2d(x.detach(), kernel_size, step))])
    upstream = torch.randn_like(expected)
    (want,) = torch.autograd.grad(expected, x, upstream)
    expect(got.requires_grad, _("{what}: the result is not connected to the input's autograd graph").format(
        what=what), hint=_("build the output from torch operations on the input; no .item() or .numpy()"))
    (have,) = torch.autograd.grad(got, x, upstream)
    expect_tensor(have, want, _("gradient of {what}").format(what=what))


@pytest.mark.points(1)
def test_max_pool2d_keeps_the_input_dtype(student):
    x = torch.randn(1, 2, 6, 6, dtype=torch.float64)
    with forbid_ops(["max_pool2d_with_indices", "max_pool2d"], no_pool()):
        got = student.max_pool2d(x.clone(), 2)
    what = "max_pool2d(x (1,2,6,6) float64, 2)"
    expect_type(got, TENSOR_TYPES, what)
    with forbid_ops(["max_pool2d_with_indices", "max_pool2d"], no_pool()):
        expect_computed_from_the_input(lambda t: student.max_pool2d(t, 2), x, got, what)
    if got.dtype != x.dtype:
        fail(_("{what}: the output is {got}, expected torch.float64, the input's dtype").format(what=what,
                                                                                              got=got.dtype),
             buffer_dtype())


@pytest.mark.points(2)
def test_simple_cnn_shape_and_parameter_count(student, device):
    model = student.SimpleCNN().to(device)
    expect_shape(model(torch.randn(3, 1, 28, 28, device=device)), (3, 10), _("SimpleCNN()(x of shape (3, 1, 28, 28))"))
    expect_equal(parameter_count(model), 8490, _("SimpleCNN's parameter count"),
                 hint=_("conv1 260 + conv2 5,020 + fc 3,210"))


def _cnn_oracle(model, x, relu=True):
    """fc(flatten(relu(pool(conv2(relu(pool(conv1(x)))))))) from the model's own layers."""
    act = F.relu if relu else (lambda t: t)
    x = act(F.max_pool2d(model.conv1(x), 2))
    x = act(F.max_pool2d(model.conv2(x), 2))
    return model.fc(x.flatten(1))


@pytest.mark.points(2)
def test_simple_cnn_returns_logits(student):
    model = student.SimpleCNN()
    x = torch.randn(16, 1, 28, 28)
    with torch.no_grad():
        got = model(x.clone())
        expected = _cnn_oracle(model, x)
    expect_shape(got, (16, 10), _("SimpleCNN()(x of shape (16, 1, 28, 28))"))
    if bool(torch.allclose(got.sum(dim=1), torch.ones(16), atol=1e-4)) and bool((got >= 0).all()):
        fail(_("SimpleCNN's outputs are probabilities (every row sums to 1); return logits"),
             _("return fc's output: CrossEntropyLoss applies the softmax itself"))
    if bool((got >= 0).all()):
        fail(_("SimpleCNN's outputs are all >= 0, like ReLU outputs; logits can be negative"),
             _("nothing after fc: CrossEntropyLoss wants raw logits"))
    if bool(torch.allclose(got.exp().sum(dim=1), torch.ones(16), atol=1e-4)):
        fail(_("SimpleCNN's outputs are log-probabilities (exp sums to 1 in every row); return logits"),
             _("return fc's output, without log_softmax: CrossEntropyLoss applies it itself"))
    expect_tensor(got, expected, "SimpleCNN()(x)", rtol=1e-4, atol=1e-5,
                  hint=_("conv1, max-pool 2, relu, conv2, max-pool 2, relu, flatten, fc; nothing after fc"),
                  mistakes=[Mistake(_("relu after each max-pool"), _cnn_oracle(model, x, relu=False))])


@pytest.mark.points(2)
def test_simple_cnn_gradients_reach_every_parameter(student, device):
    model = student.SimpleCNN().to(device)
    x, y = digits28(train=True)
    loss = F.cross_entropy(model(x[:16].to(device)), y[:16].to(device))
    loss.backward()
    for name, p in model.named_parameters():
        expect(p.grad is not None and bool(p.grad.abs().sum() > 0),
               _("SimpleCNN: no gradient reaches {name}").format(name=name),
               hint=_("every layer must be used in forward()"))


def _replay(model, loader, epochs, lr, momentum=0.5, zero_grad=True, reduction="mean"):
    """The README's training loop on a copy of `model`; returns the copy."""
    model = copy.deepcopy(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    for _epoch in range(epochs):
        for images, labels in loader:
            if zero_grad:
                optimizer.zero_grad()
            F.cross_entropy(model(images), labels, reduction=reduction).backward()
            optimizer.step()
    return model


@pytest.mark.points(2)
def test_train_takes_sgd_momentum_steps(student, device):
    x, y = torch.randn(12, 1, 6, 6, device=device), torch.randint(0, 3, (12,), device=device)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                                torch.nn.Linear(32, 3)).to(device)
    start = copy.deepcopy(model)
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    epochs, lr = 2, 0.1
    trained = student.train(model, loader, epochs=epochs, lr=lr)
    expected = _replay(start, loader, epochs, lr)
    variants = [(_("momentum=0.5: torch.optim.SGD(model.parameters(), lr=lr, momentum=0.5)"),
                 _replay(start, loader, epochs, lr, momentum=0.0)),
                (_("zero the gradients every batch (optimizer.zero_grad()): otherwise they add up"),
                 _replay(start, loader, epochs, lr, zero_grad=False)),
                (_("the mean loss over the batch, as nn.CrossEntropyLoss() gives it, not the sum"),
                 _replay(start, loader, epochs, lr, reduction="sum")),
                (_("the weights did not change: build the optimizer on model.parameters() and call "
                   "optimizer.step() for every batch"), start)]
    what = _("train(a small CNN, 12 samples in batches of 4, epochs={epochs}, lr={lr})").format(epochs=epochs, lr=lr)
    expect_type(trained, torch.nn.Module, what, hint=_("return the model once it is trained"))
    got = dict(trained.named_parameters())
    for name, want in expected.named_parameters():
        expect(name in got, _("{what} returned a model without the parameter {name}").format(what=what, name=name))
        mistakes = [Mistake(hint, dict(v.named_parameters())[name].detach().cpu()) for hint, v in variants]
        expect_tensor(got[name].detach().cpu(), want.detach().cpu(),
                      _("after {what}, parameter {name}").format(what=what, name=name), rtol=1e-4, atol=1e-6,
                      mistakes=mistakes)


@pytest.mark.points(4)
@pytest.mark.timeout(120)
def test_train_reaches_accuracy_on_digits28(student, device):
    model = student.SimpleCNN().to(device)
    trained = student.train(model, digits28_loader(train=True, batch_size=64, device=device), epochs=3, lr=0.1)
    expect_type(trained, torch.nn.Module, "train(...)", hint=_("return the model once it is trained"))
    trained.eval()
    x, y = digits28(train=False)
    where = next(trained.parameters()).device  # where train left it
    with torch.no_grad():
        logits = trained(x.to(where)).cpu()
    expect_shape(logits, (len(y), 10), _("the trained model's output on the test set"))
    expect_at_least((logits.argmax(1) == y).double().mean(), ACCURACY_BAR,
                    _("digits28 test accuracy after train(epochs=3, lr=0.1)"),
                    hint=_("the loop of README section 5: for every batch zero_grad(), the mean cross-entropy, "
                           "backward(), step() of SGD(lr=lr, momentum=0.5)"))
