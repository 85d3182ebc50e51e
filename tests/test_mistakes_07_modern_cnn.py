"""Realistic mistakes in 07_modern_cnn's modern_cnn.py cost the checks about them, with a true hint.

Each mutant is graded on the checks that should catch it (and, where a mistake used to cost checks about other
things, on those too, which must pass); each failing check must show the hint of the mistake's cause, or no hint
where none would be true.
"""

import pytest

from grader.testing import assert_hint

CAT = "outputs = [branch1x1, branch5x5, branch3x3, branch_pool]"
POOL = "self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1))"
RESIDUAL = "return F.relu(x + y)"

CHANNELS = "test_inception_channels_hold_the_notes_branches_in_order"
OWNS = "test_inception_each_branch_owns_its_channels"
MIXES = "test_inception_one_by_one_branch_mixes_channels_at_one_pixel"
SPATIAL = "test_inception_keeps_the_spatial_size"
SHAPE = "test_inception_output_shape"
ZERO_CONV2 = "test_residual_block_is_relu_of_input_when_conv2_is_zero"
FORMULA = "test_residual_block_matches_its_formula"
INCEPTION_ORDER = "test_inception_net_layers_in_the_notes_order"
RESNET_ORDER = "test_resnet_layers_in_the_notes_order"
GRADIENTS = "test_gradients_reach_every_layer"

ORDER = "cat([1x1 (16), 5x5 (24), 3x3 (24), pool (24)], dim=1), each branch once"
MISSING = "a branch is missing from torch.cat"
RELU_OF_SUM = "apply relu to the sum: relu(x + conv2(relu(conv1(x))))"
NO_SKIP = "the skip connection is missing"

# mistake: ((old, new) edits of the reference, {check that must fail: the hint it must show, or None for no hint},
#           checks that must still pass)
MISTAKES = {
    "pool branch left out": (
        ((CAT, "outputs = [branch1x1, branch5x5, branch3x3]"),),
        {CHANNELS: MISSING, SHAPE: MISSING, SPATIAL: MISSING}, ()),
    "5x5 branch twice, 3x3 missing": (
        ((CAT, "outputs = [branch1x1, branch5x5, branch5x5, branch_pool]"),),
        {OWNS: ORDER, CHANNELS: "these channels hold the 5x5 branch"}, (SHAPE, MIXES)),
    "branches out of order": (
        ((CAT, "outputs = [branch1x1, branch3x3, branch5x5, branch_pool]"),),
        {CHANNELS: "these channels hold the 3x3 branch", OWNS: ORDER}, (SHAPE, MIXES)),
    "concatenated on the batch dim": (
        (("torch.cat(outputs, dim=1)", "torch.cat(outputs, dim=0)"),),
        {SPATIAL: "join them on the channel dim, torch.cat([...], dim=1)", SHAPE: "torch.cat([...], dim=1)"}, ()),
    "pool branch shrinks the map (no stride 1, no padding)": (
        ((POOL, "self.branch_pool(F.avg_pool2d(x, kernel_size=3))"),),
        {SHAPE: "avg_pool2d(x, kernel_size=3, stride=1, padding=1) keeps H x W", SPATIAL: "keeps H x W"}, ()),
    "pool branch without the pooling": (
        ((POOL, "self.branch_pool(x)"),), {CHANNELS: "the pool branch pools first"}, (OWNS, MIXES, SHAPE)),
    "max-pool in the pool branch": (
        ((POOL, "self.branch_pool(F.max_pool2d(x, kernel_size=3, stride=1, padding=1))"),),
        {CHANNELS: "the pool branch averages"}, (OWNS, MIXES)),
    "pool branch's 1x1 conv before the pool": (
        ((POOL, "F.avg_pool2d(self.branch_pool(x), kernel_size=3, stride=1, padding=1)"),),
        {CHANNELS: "pool first, then the 1x1 conv"}, (OWNS, MIXES)),
    "a ReLU on the block's output": (
        (("return torch.cat(outputs, dim=1)", "return F.relu(torch.cat(outputs, dim=1))"),),
        {CHANNELS: "no activation inside the block"}, (OWNS, MIXES, SHAPE)),
    "a ReLU between the 5x5 branch's convolutions": (
        (("self.branch5x5_2(self.branch5x5_1(x))", "self.branch5x5_2(F.relu(self.branch5x5_1(x)))"),),
        {CHANNELS: "no activation inside the block: branch5x5_2(branch5x5_1(x))"}, (OWNS, MIXES)),
    "1x1 branch on the pooled input": (
        (("branch1x1 = self.branch1x1(x)", "branch1x1 = self.branch1x1(F.avg_pool2d(x, 3, stride=1, padding=1))"),),
        {MIXES: "a 1x1 convolution sees one pixel", CHANNELS: "not pooled"}, (OWNS,)),
    # ResidualBlock
    "residual added after the relu": (
        ((RESIDUAL, "return F.relu(y) + x"),),
        {ZERO_CONV2: RELU_OF_SUM, FORMULA: "add x before the last relu, not after"}, ()),
    "no relu after the sum": (((RESIDUAL, "return x + y"),), {ZERO_CONV2: RELU_OF_SUM, FORMULA: RELU_OF_SUM}, ()),
    "skip connection missing": (((RESIDUAL, "return F.relu(y)"),), {ZERO_CONV2: NO_SKIP, FORMULA: NO_SKIP}, ()),
    "no relu between the convolutions": (
        (("y = F.relu(self.conv1(x))", "y = self.conv1(x)"),),
        {FORMULA: "a relu between the convolutions"}, (ZERO_CONV2,)),
    # The networks
    "InceptionNet without its second relu": (
        (("x = F.relu(self.pooling(self.conv2(x)))", "x = self.pooling(self.conv2(x))"),),
        {INCEPTION_ORDER: "a relu after the second conv and pool"}, (GRADIENTS,)),
    "ResNet skips its second block": (
        (("        x = self.block2(x)\n", ""),),
        {GRADIENTS: "every layer must be used in forward()", RESNET_ORDER: "forward() skips block2"}, ()),
    "ResNet flattens the batch dim too": (
        (("return self.fc(x.flatten(1))  # 32", "return self.fc(x.flatten())  # 32"),),
        {"test_resnet_output_shape": "keep the batch dim: torch.flatten(x, 1) gives (N, 512)",
         "test_resnet_shape_and_parameter_count": "keep the batch dim", RESNET_ORDER: "keep the batch dim"},
        ("test_inception_net_shape_and_parameter_count",)),
    "ResNet outputs probabilities": (
        (("return self.fc(x.flatten(1))  # 32", "return F.softmax(self.fc(x.flatten(1)), dim=1)  # 32"),),
        {RESNET_ORDER: "no softmax at the end"}, ()),  # training fails too at seed 0, but not at every seed
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_mistake_costs_its_checks_with_a_true_hint(grade_mutant, mistake):
    edits, expected, unaffected = MISTAKES[mistake]
    report = grade_mutant("07_modern_cnn", *edits, checks=[*expected, *unaffected])
    results = {}
    for check in report.checks:
        results.setdefault(check.name.split("[")[0], []).append(check)
    for name, hint in expected.items():
        failed = [c for c in results[name] if c.outcome != "passed"]
        assert failed, f"{mistake!r} did not fail {name}"
        for check in failed:
            assert_hint(check.message, hint, f"{mistake!r}: {name}")
    for name in unaffected:
        lost = [f"{c.name}: {c.message}" for c in results[name] if c.outcome != "passed"]
        assert not lost, f"{mistake!r} also cost a check about something else: {lost}"
