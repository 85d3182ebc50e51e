"""Public checks of 05_cnn: run them with `pytest exercises/05_cnn`."""

import pytest
import torch
import torch.nn.functional as F

from grader.checks import expect_equal, expect_shape, expect_tensor, expect_type, forbid_ops

# The notes' example: a 5x5 input and a 3x3 kernel.
NOTES_INPUT = torch.tensor(
    [[1, 2, 0, 3, 1], [0, 1, 2, 3, 1], [1, 2, 1, 0, 0], [5, 2, 3, 1, 1], [2, 1, 0, 1, 1]], dtype=torch.float64
).reshape(1, 1, 5, 5)
NOTES_KERNEL = torch.tensor([[1, 2, 1], [0, 1, 0], [2, 1, 0]], dtype=torch.float64).reshape(1, 1, 3, 3)
NO_CONV = "conv2d must slide the kernel by hand: F.conv2d, nn.Conv2d and torch.conv2d are not allowed here"


@pytest.mark.points(1)
def test_conv2d_output_size_notes_net(student):
    expect_equal(student.conv2d_output_size(28, 5), 24, "conv2d_output_size(28, 5)", hint="28 - 5 + 1")
    expect_equal(student.conv2d_output_size(12, 5), 8, "conv2d_output_size(12, 5)")


@pytest.mark.points(1)
def test_conv2d_output_size_padding_and_stride(student):
    expect_equal(student.conv2d_output_size(5, 3, padding=1), 5, "conv2d_output_size(5, 3, padding=1)")
    expect_equal(
        student.conv2d_output_size(5, 3, stride=2), 2, "conv2d_output_size(5, 3, stride=2)", hint="floor, then + 1"
    )


@pytest.mark.points(1)
def test_pool2d_output_size_default_stride(student):
    expect_equal(student.pool2d_output_size(24, 2), 12, "pool2d_output_size(24, 2)", hint="stride defaults to kernel_size")


@pytest.mark.points(2)
def test_conv2d_notes_example(student):
    with forbid_ops(["convolution"], NO_CONV):
        got = student.conv2d(NOTES_INPUT, NOTES_KERNEL)
    expect_tensor(got, F.conv2d(NOTES_INPUT, NOTES_KERNEL), "conv2d(notes 5x5 input, notes 3x3 kernel)")


@pytest.mark.points(1)
def test_max_pool2d_small(student):
    x = torch.arange(16, dtype=torch.float64).reshape(1, 1, 4, 4)
    expect_tensor(student.max_pool2d(x, 2), F.max_pool2d(x, 2), "max_pool2d(4x4 arange, 2)")


@pytest.mark.points(1)
def test_simple_cnn_output_shape(student):
    model = student.SimpleCNN()
    expect_type(model, torch.nn.Module, "SimpleCNN()")
    expect_shape(model(torch.randn(4, 1, 28, 28)), (4, 10), "SimpleCNN()(x of shape (4, 1, 28, 28))",
                 hint="flatten (N, 20, 4, 4) to (N, 320) before the Linear layer")
