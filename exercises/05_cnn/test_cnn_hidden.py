"""Hidden checks of 05_cnn: graded by the instructor, never shipped to students."""

import itertools

import pytest
import torch
import torch.nn.functional as F

from grader.checks import expect, expect_at_least, expect_equal, expect_shape, expect_tensor, forbid_ops, parameter_count
from grader.data import digits28, digits28_loader

NO_CONV = "conv2d must slide the kernel by hand: F.conv2d, nn.Conv2d and torch.conv2d are not allowed here"
NO_POOL = "max_pool2d must take the window maxima by hand: F.max_pool2d and nn.MaxPool2d are not allowed here"
ACCURACY_BAR = 0.80  # the reference reaches 0.87 to 0.96 over seeds


def _meta(*shape):
    return torch.empty(*shape, device="meta")


@pytest.mark.points(2)
def test_conv2d_output_size_matches_pytorch(student):
    for size, k, s, p, d in itertools.product(range(1, 34, 3), (1, 2, 3, 5, 7), (1, 2, 3), (0, 1, 2, 3), (1, 2, 3)):
        if d * (k - 1) + 1 > size + 2 * p:
            continue
        expected = F.conv2d(_meta(1, 1, size, size), _meta(1, 1, k, k), stride=s, padding=p, dilation=d).shape[-1]
        what = f"conv2d_output_size({size}, {k}, stride={s}, padding={p}, dilation={d})"
        expect_equal(student.conv2d_output_size(size, k, stride=s, padding=p, dilation=d), expected, what,
                     hint="floor((size + 2*padding - dilation*(kernel_size-1) - 1) / stride) + 1, an int")


@pytest.mark.points(2)
def test_pool2d_output_size_matches_pytorch(student):
    for size, k, s, p, ceil in itertools.product(range(2, 30, 3), (2, 3, 4), (None, 1, 2, 3), (0, 1), (False, True)):
        if p > k // 2 or k > size + 2 * p:
            continue
        expected = F.max_pool2d(_meta(1, 1, size, size), k, stride=s, padding=p, ceil_mode=ceil).shape[-1]
        what = f"pool2d_output_size({size}, {k}, stride={s}, padding={p}, ceil_mode={ceil})"
        expect_equal(student.pool2d_output_size(size, k, stride=s, padding=p, ceil_mode=ceil), expected, what,
                     hint="ceil_mode rounds up, but a window must not start in the right padding")


@pytest.mark.points(2)
@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 0), (1, 1), (2, 1)])
def test_conv2d_notes_strides_and_padding(student, stride, padding):
    x = torch.tensor([[1, 2, 0, 3, 1], [0, 1, 2, 3, 1], [1, 2, 1, 0, 0], [5, 2, 3, 1, 1], [2, 1, 0, 1, 1]],
                     dtype=torch.float64).reshape(1, 1, 5, 5)
    k = torch.tensor([[1, 2, 1], [0, 1, 0], [2, 1, 0]], dtype=torch.float64).reshape(1, 1, 3, 3)
    with forbid_ops(["convolution"], NO_CONV):
        got = student.conv2d(x, k, stride=stride, padding=padding)
    expect_tensor(got, F.conv2d(x, k, stride=stride, padding=padding),
                  f"conv2d(notes input, notes kernel, stride={stride}, padding={padding})",
                  hint="cross-correlation: do not flip the kernel")


@pytest.mark.points(3)
@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1), (3, 2)])
def test_conv2d_values_and_gradients(student, stride, padding):
    x = torch.randn(2, 3, 9, 8, dtype=torch.float64, requires_grad=True)
    w = torch.randn(4, 3, 3, 2, dtype=torch.float64, requires_grad=True)
    b = torch.randn(4, dtype=torch.float64, requires_grad=True)
    with forbid_ops(["convolution"], NO_CONV):
        got = student.conv2d(x, w, b, stride=stride, padding=padding)
    expected = F.conv2d(x, w, b, stride=stride, padding=padding)
    what = f"conv2d(x (2,3,9,8), w (4,3,3,2), bias, stride={stride}, padding={padding})"
    expect_tensor(got, expected, what, rtol=1e-10, atol=1e-10, hint="did you add the bias to every output channel?")
    upstream = torch.randn_like(expected)
    want = torch.autograd.grad(expected, (x, w, b), upstream)
    expect(got.requires_grad, f"{what}: the result is not connected to the inputs' autograd graph",
           hint="build the output from torch operations on input and weight; no .item() or .numpy()")
    have = torch.autograd.grad(got, (x, w, b), upstream, allow_unused=True)
    for name, g, e in zip(("input", "weight", "bias"), have, want):
        expect(g is not None, f"{what}: no gradient reaches {name}")
        expect_tensor(g, e, f"gradient of {what} with respect to {name}", rtol=1e-9, atol=1e-10)


@pytest.mark.points(2)
@pytest.mark.parametrize("kernel_size, stride", [(2, None), (3, 1), (3, 2)])
def test_max_pool2d_values_and_gradients(student, kernel_size, stride):
    # Distinct values, so that every window has one maximum and the gradient is well defined.
    x = torch.randperm(2 * 3 * 8 * 7).reshape(2, 3, 8, 7).double().requires_grad_()
    with forbid_ops(["max_pool2d_with_indices", "max_pool2d"], NO_POOL):
        got = student.max_pool2d(x, kernel_size, stride)
    expected = F.max_pool2d(x, kernel_size, stride)
    what = f"max_pool2d(x (2,3,8,7), {kernel_size}, stride={stride})"
    expect_tensor(got, expected, what, hint="stride=None means stride = kernel_size")
    upstream = torch.randn_like(expected)
    (want,) = torch.autograd.grad(expected, x, upstream)
    expect(got.requires_grad, f"{what}: the result is not connected to the input's autograd graph")
    (have,) = torch.autograd.grad(got, x, upstream)
    expect_tensor(have, want, f"gradient of {what}")


@pytest.mark.points(2)
def test_simple_cnn_shape_and_parameter_count(student, device):
    model = student.SimpleCNN().to(device)
    expect_shape(model(torch.randn(3, 1, 28, 28, device=device)), (3, 10), "SimpleCNN()(x of shape (3, 1, 28, 28))")
    expect_equal(parameter_count(model), 8490, "SimpleCNN's parameter count",
                 hint="conv1 260 + conv2 5,020 + fc 3,210")


@pytest.mark.points(2)
def test_simple_cnn_gradients_reach_every_parameter(student, device):
    model = student.SimpleCNN().to(device)
    x, y = digits28(train=True)
    loss = F.cross_entropy(model(x[:16].to(device)), y[:16].to(device))
    loss.backward()
    for name, p in model.named_parameters():
        expect(p.grad is not None and bool(p.grad.abs().sum() > 0), f"SimpleCNN: no gradient reaches {name}",
               hint="every layer must be used in forward()")


@pytest.mark.points(4)
@pytest.mark.timeout(120)
def test_train_reaches_accuracy_on_digits28(student, device):
    model = student.SimpleCNN().to(device)
    trained = student.train(model, digits28_loader(train=True, batch_size=64, device=device), epochs=3, lr=0.1)
    expect(isinstance(trained, torch.nn.Module), "train(...) must return the trained model")
    trained.eval()
    x, y = digits28(train=False)
    with torch.no_grad():
        logits = trained(x.to(device)).cpu()
    expect_shape(logits, (len(y), 10), "the trained model's output on the test set")
    expect_at_least((logits.argmax(1) == y).double().mean(), ACCURACY_BAR,
                    "digits28 test accuracy after train(epochs=3, lr=0.1)",
                    hint="zero the gradients, call backward() and step() every batch")
