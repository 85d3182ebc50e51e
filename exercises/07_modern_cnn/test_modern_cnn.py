"""Public checks of 07_modern_cnn: run them with `pytest exercises/07_modern_cnn`."""

import pytest
import torch

from grader.checks import expect_shape, expect_type


@pytest.mark.points(1)
def test_inception_output_shape(student):
    block = student.InceptionA(10)
    expect_type(block, torch.nn.Module, "InceptionA(10)")
    expect_shape(block(torch.randn(2, 10, 12, 12)), (2, 88, 12, 12), "InceptionA(10)(x of shape (2, 10, 12, 12))",
                 hint="concatenate the four branches on dim 1; 16 + 24 + 24 + 24 = 88")


@pytest.mark.points(1)
def test_residual_block_keeps_the_shape(student):
    block = student.ResidualBlock(16)
    expect_type(block, torch.nn.Module, "ResidualBlock(16)")
    expect_shape(block(torch.randn(2, 16, 12, 12)), (2, 16, 12, 12), "ResidualBlock(16)(x of shape (2, 16, 12, 12))")


@pytest.mark.points(1)
def test_inception_net_output_shape(student):
    model = student.InceptionNet()
    expect_type(model, torch.nn.Module, "InceptionNet()")
    expect_shape(model(torch.randn(3, 1, 28, 28)), (3, 10), "InceptionNet()(x of shape (3, 1, 28, 28))",
                 hint="flatten (N, 88, 4, 4) to (N, 1408) before the Linear layer")


@pytest.mark.points(1)
def test_resnet_output_shape(student):
    model = student.ResNet()
    expect_type(model, torch.nn.Module, "ResNet()")
    expect_shape(model(torch.randn(3, 1, 28, 28)), (3, 10), "ResNet()(x of shape (3, 1, 28, 28))",
                 hint="flatten (N, 32, 4, 4) to (N, 512) before the Linear layer")
