"""Realistic mistakes in 07_modern_cnn's modern_cnn.py must cost points."""

import pytest

from grader.testing import failed_checks

CAT = "outputs = [branch1x1, branch5x5, branch3x3, branch_pool]"
MISTAKES = {
    "pool branch left out": ((CAT, "outputs = [branch1x1, branch5x5, branch3x3]"),
                             "test_inception_channels_hold_the_notes_branches_in_order"),
    "5x5 branch twice, 3x3 branch missing": ((CAT, "outputs = [branch1x1, branch5x5, branch5x5, branch_pool]"),
                                             "test_inception_each_branch_owns_its_channels"),
    "branches out of order": ((CAT, "outputs = [branch1x1, branch3x3, branch5x5, branch_pool]"),
                              "test_inception_channels_hold_the_notes_branches_in_order"),
    "concatenated on the batch dim": (("torch.cat(outputs, dim=1)", "torch.cat(outputs, dim=0)"),
                                      "test_inception_keeps_the_spatial_size"),
    "pool branch without the pooling": (
        ("self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1))", "self.branch_pool(x)"),
        "test_inception_channels_hold_the_notes_branches_in_order",
    ),
    "1x1 branch on the pooled input": (
        ("branch1x1 = self.branch1x1(x)", "branch1x1 = self.branch1x1(F.avg_pool2d(x, 3, stride=1, padding=1))"),
        "test_inception_one_by_one_branch_mixes_channels_at_one_pixel",
    ),
    "residual added after the relu": (("return F.relu(x + y)", "return F.relu(y) + x"),
                                      "test_residual_block_is_relu_of_input_when_conv2_is_zero"),
    "skip connection missing": (("return F.relu(x + y)", "return F.relu(y)"),
                                "test_residual_block_is_relu_of_input_when_conv2_is_zero"),
    "no relu between the convolutions": (("y = F.relu(self.conv1(x))", "y = self.conv1(x)"),
                                         "test_residual_block_matches_its_formula"),
    "InceptionNet without its second relu": (
        ("x = F.relu(self.pooling(self.conv2(x)))", "x = self.pooling(self.conv2(x))"),
        "test_inception_net_layers_in_the_notes_order",
    ),
    "ResNet skips its second block": (("        x = self.block2(x)\n", ""), "test_gradients_reach_every_layer"),
    "ResNet outputs probabilities": (
        ("return self.fc(x.flatten(1))  # 32", "return F.softmax(self.fc(x.flatten(1)), dim=1)  # 32"),
        "test_resnet_trains_on_digits28",
    ),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_mistake_loses_points(grade_mutant, mistake):
    edit, check = MISTAKES[mistake]
    report = grade_mutant("07_modern_cnn", edit)
    assert check in failed_checks(report), f"{mistake!r} did not fail {check}"
    assert report.total < report.max_total
