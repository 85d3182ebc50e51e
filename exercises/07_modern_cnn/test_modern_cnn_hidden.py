"""Hidden checks of 07_modern_cnn: graded by the instructor, never shipped to students."""

import copy

import pytest
import torch
import torch.nn.functional as F

from grader.checks import expect, expect_equal, expect_number, expect_shape, expect_tensor, parameter_count
from grader.data import digits28

# The notes' order of the branches in torch.cat, with the output channels each one fills.
BRANCHES = (
    ("the 1x1 branch", "branch1x1", 0, 16),
    ("the 5x5 branch", "branch5x5_2", 16, 40),
    ("the 3x3 branch", "branch3x3_3", 40, 64),
    ("the pool branch", "branch_pool", 64, 88),
)
ORDER = "cat([1x1 (16), 5x5 (24), 3x3 (24), pool (24)], dim=1), each branch once"
ACCURACY_BAR = 0.60  # ResNet after one epoch over 640 images: the reference reaches 0.77 to 0.87 (seeds 0-10)
TRAIN_IMAGES = 640


def _branch_outputs(block, x):
    """The four branches of InceptionA computed from the block's own layers, as the notes write them."""
    return (
        block.branch1x1(x),
        block.branch5x5_2(block.branch5x5_1(x)),
        block.branch3x3_3(block.branch3x3_2(block.branch3x3_1(x))),
        block.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1)),
    )


def _channels(mask):
    ids = [i for i, changed in enumerate(mask.tolist()) if changed]
    return f"{ids[0]}-{ids[-1]} ({len(ids)} channels)" if ids and ids == list(range(ids[0], ids[-1] + 1)) else str(ids)


@pytest.mark.points(1)
@pytest.mark.parametrize("in_channels, height, width", [(3, 5, 5), (20, 4, 4), (7, 9, 6), (1, 1, 1)])
def test_inception_keeps_the_spatial_size(student, in_channels, height, width):
    block = student.InceptionA(in_channels)
    out = block(torch.randn(2, in_channels, height, width))
    what = f"InceptionA({in_channels})(x of shape (2, {in_channels}, {height}, {width}))"
    expect_shape(out, (2, 88, height, width), what,
                 hint="padding 2 for the 5x5, 1 for the 3x3s, avg_pool2d(3, stride=1, padding=1)")


@pytest.mark.points(3)
def test_inception_channels_hold_the_notes_branches_in_order(student):
    block = student.InceptionA(7).double()
    x = torch.randn(2, 7, 9, 8, dtype=torch.float64)
    out = block(x)
    expect_shape(out, (2, 88, 9, 8), "InceptionA(7)(x of shape (2, 7, 9, 8))")
    for (name, _, start, stop), expected in zip(BRANCHES, _branch_outputs(block, x)):
        expect_tensor(out[:, start:stop], expected, f"InceptionA output channels {start}-{stop - 1} ({name})",
                      rtol=1e-10, atol=1e-12, hint=f"{ORDER}; no activation inside the block")


@pytest.mark.points(2)
def test_inception_each_branch_owns_its_channels(student):
    block = student.InceptionA(6).double()
    x = torch.randn(2, 6, 7, 7, dtype=torch.float64)
    with torch.no_grad():
        out = block(x)
        expect_shape(out, (2, 88, 7, 7), "InceptionA(6)(x of shape (2, 6, 7, 7))")
        for name, layer, start, stop in BRANCHES:
            silenced = copy.deepcopy(block)
            getattr(silenced, layer).weight.zero_()
            getattr(silenced, layer).bias.zero_()
            changed = (silenced(x) - out).abs().amax(dim=(0, 2, 3)) > 1e-12
            expected = torch.zeros(88, dtype=torch.bool)
            expected[start:stop] = True
            expect(bool(torch.equal(changed, expected)),
                   f"InceptionA: zeroing {layer} ({name}'s last layer) changed output channels {_channels(changed)}, "
                   f"expected exactly channels {start}-{stop - 1}", hint=ORDER)


@pytest.mark.points(2)
def test_inception_one_by_one_branch_mixes_channels_at_one_pixel(student):
    block = student.InceptionA(5).double()
    x = torch.randn(1, 5, 9, 9, dtype=torch.float64)
    with torch.no_grad():
        out = block(x)
        expect_shape(out, (1, 88, 9, 9), "InceptionA(5)(x of shape (1, 5, 9, 9))")
        pixel = torch.zeros(9, 9, dtype=torch.bool)
        pixel[4, 4] = True
        for channel in range(5):
            nudged = x.clone()
            nudged[0, channel, 4, 4] += 1.0
            changed = (block(nudged) - out).abs()[0, :16] > 1e-12  # the 1x1 branch: (16, 9, 9)
            what = f"InceptionA: changing input channel {channel} at pixel (4, 4)"
            expect(not bool(changed[:, ~pixel].any()), f"{what} changed the 1x1 branch (output channels 0-15) "
                   "at other pixels", hint="a 1x1 convolution sees one pixel; channels 0-15 are branch1x1(x)")
            expect(bool(changed[:, 4, 4].all()), f"{what} changed only {int(changed[:, 4, 4].sum())} of the 16 "
                   "1x1-branch outputs there", hint="a 1x1 convolution mixes every input channel into every output")


@pytest.mark.points(1)
@pytest.mark.parametrize("channels, height, width", [(3, 5, 5), (32, 4, 4), (1, 9, 6)])
def test_residual_block_keeps_the_shape_for_any_input(student, channels, height, width):
    block = student.ResidualBlock(channels)
    expect_shape(block(torch.randn(2, channels, height, width)), (2, channels, height, width),
                 f"ResidualBlock({channels})(x of shape (2, {channels}, {height}, {width}))")


@pytest.mark.points(2)
def test_residual_block_is_relu_of_input_when_conv2_is_zero(student):
    block = student.ResidualBlock(6).double()
    with torch.no_grad():
        block.conv2.weight.zero_()
        block.conv2.bias.zero_()
    x = torch.randn(2, 6, 7, 7, dtype=torch.float64)
    expect_tensor(block(x), F.relu(x), "ResidualBlock(6) with conv2's weights and bias set to zero, on x",
                  hint="relu(x + conv2(...)) with conv2 = 0 is relu(x): add x before the last relu, not after")


@pytest.mark.points(2)
def test_residual_block_matches_its_formula(student):
    block = student.ResidualBlock(5).double()
    x = torch.randn(2, 5, 8, 6, dtype=torch.float64)
    expected = F.relu(x + block.conv2(F.relu(block.conv1(x))))
    expect_tensor(block(x), expected, "ResidualBlock(5)(x)", rtol=1e-10, atol=1e-12,
                  hint="relu(x + conv2(relu(conv1(x)))): a relu between the convolutions, another after the sum")


@pytest.mark.points(2)
def test_inception_net_shape_and_parameter_count(student):
    model = student.InceptionNet()
    expect_shape(model(torch.randn(3, 1, 28, 28)), (3, 10), "InceptionNet()(x of shape (3, 1, 28, 28))")
    expect_equal(parameter_count(model), 97298, "InceptionNet's parameter count",
                 hint="conv1 260 + InceptionA(10) 19,104 + conv2 44,020 + InceptionA(20) 19,824 + fc 14,090")


@pytest.mark.points(2)
def test_resnet_shape_and_parameter_count(student):
    model = student.ResNet()
    expect_shape(model(torch.randn(3, 1, 28, 28)), (3, 10), "ResNet()(x of shape (3, 1, 28, 28))")
    expect_equal(parameter_count(model), 41514, "ResNet's parameter count",
                 hint="conv1 416 + block(16) 4,640 + conv2 12,832 + block(32) 18,496 + fc 5,130")


@pytest.mark.points(2)
def test_inception_net_layers_in_the_notes_order(student):
    model = student.InceptionNet().double()
    x = torch.randn(2, 1, 28, 28, dtype=torch.float64)
    h = F.relu(F.max_pool2d(model.conv1(x), 2))
    h = F.relu(F.max_pool2d(model.conv2(model.inception1(h)), 2))
    expected = model.fc(model.inception2(h).flatten(1))
    expect_tensor(model(x), expected, "InceptionNet()(x)", rtol=1e-9, atol=1e-12,
                  hint="conv1, pool, relu, inception1, conv2, pool, relu, inception2, flatten, fc")


@pytest.mark.points(2)
def test_resnet_layers_in_the_notes_order(student):
    model = student.ResNet().double()
    x = torch.randn(2, 1, 28, 28, dtype=torch.float64)
    h = model.block1(F.max_pool2d(F.relu(model.conv1(x)), 2))
    h = model.block2(F.max_pool2d(F.relu(model.conv2(h)), 2))
    expected = model.fc(h.flatten(1))
    expect_tensor(model(x), expected, "ResNet()(x)", rtol=1e-9, atol=1e-12,
                  hint="conv1, relu, pool, block1, conv2, relu, pool, block2, flatten, fc")


@pytest.mark.points(2)
@pytest.mark.parametrize("network", ["InceptionNet", "ResNet"])
def test_gradients_reach_every_layer(student, network):
    model = getattr(student, network)()
    x, y = digits28(train=True)
    F.cross_entropy(model(x[:16]), y[:16]).backward()
    for name, p in model.named_parameters():
        expect(p.grad is not None and bool(p.grad.abs().sum() > 0), f"{network}: no gradient reaches {name}",
               hint="every layer must be used in forward(), and the output must stay connected to the input")


@pytest.mark.points(4)
@pytest.mark.timeout(120)
def test_resnet_trains_on_digits28(student):
    model = student.ResNet()
    x, y = digits28(train=True)
    x, y = x[:TRAIN_IMAGES], y[:TRAIN_IMAGES]
    optimizer = torch.optim.Adam(model.parameters(), lr=0.002)
    model.train()
    for batch in torch.randperm(TRAIN_IMAGES).split(32):
        optimizer.zero_grad()
        F.cross_entropy(model(x[batch]), y[batch]).backward()
        optimizer.step()
    model.eval()
    x_test, y_test = digits28(train=False)
    with torch.no_grad():
        logits = model(x_test)
    expect_shape(logits, (len(y_test), 10), "the trained ResNet's output on the test set")
    accuracy = expect_number((logits.argmax(1) == y_test).double().mean(), "test accuracy")
    expect(accuracy >= ACCURACY_BAR, f"ResNet's test accuracy after one epoch of Adam over {TRAIN_IMAGES} digits is "
           f"{accuracy:.3f}, expected at least {ACCURACY_BAR}", hint="check the residual block and the layer order")
