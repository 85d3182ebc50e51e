"""Hidden checks of 07_modern_cnn: graded by the instructor, never shipped to students.

The blocks are run in float64 (`.double()` on the student's module), on copies of the inputs, and every expected
value is computed after the student's call from the block's own layers. The checks of the Inception wiring
shift a branch's bias and nudge an input pixel instead of looking for "any change", so that an activation
inside the block (graded by the channels check) does not also fail them.
"""

import copy

import pytest
import torch
import torch.nn.functional as F

from grader.checks import (
    Mistake,
    expect,
    expect_at_least,
    expect_equal,
    expect_number,
    expect_shape,
    expect_tensor,
    parameter_count,
    public_checks,
)
from grader.data import digits28
from grader.i18n import N_, _

# The forward runner and its diagnoses are the public checks' own.
public = public_checks(__file__)

# The notes' order of the branches in torch.cat, with the output channels each one fills.
BRANCHES = (
    (N_("the 1x1 branch"), "branch1x1", 0, 16),
    (N_("the 5x5 branch"), "branch5x5_2", 16, 40),
    (N_("the 3x3 branch"), "branch3x3_3", 40, 64),
    (N_("the pool branch"), "branch_pool", 64, 88),
)
FORMULAS = ("branch1x1(x)", "branch5x5_2(branch5x5_1(x))", "branch3x3_3(branch3x3_2(branch3x3_1(x)))",
            "branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1))")
ACCURACY_BAR = 0.60  # ResNet after one epoch over 640 images: the reference reaches 0.77 to 0.87 (seeds 0-10)
TRAIN_IMAGES = 640
FEATURES = {"InceptionNet": 1408, "ResNet": 512}  # what each network's fc takes: 88·4·4 and 32·4·4
SHIFT = 100.0  # added to a bias: large enough that a ReLU after it lets everything through


def order():
    return _("cat([1x1 (16), 5x5 (24), 3x3 (24), pool (24)], dim=1), each branch once")


def _pool(x):
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1)


def _branch_outputs(block, x):
    """The four branches of InceptionA computed from the block's own layers, as the notes write them."""
    return (
        block.branch1x1(x),
        block.branch5x5_2(block.branch5x5_1(x)),
        block.branch3x3_3(block.branch3x3_2(block.branch3x3_1(x))),
        block.branch_pool(_pool(x)),
    )


def _branch_mistakes(block, x, index, branches):
    """What known mistakes make branch `index`'s channels, each with its hint."""
    name = _(BRANCHES[index][0])
    expected = branches[index]

    def gives(compute):
        def matches(got):
            other = compute()
            return other.shape == got.shape and bool(torch.allclose(got, other, rtol=1e-9, atol=1e-12))
        return matches

    mistakes = [
        Mistake(_("the outputs of {name} are never negative: no activation inside the block (the notes' InceptionA "
                  "has none; the networks apply their ReLUs outside it)").format(name=name),
                lambda got: bool(got.min() >= 0) and bool(got.max() > 0) and bool(expected.min() < 0)),
        *(Mistake(_("these channels hold {other}: {order}").format(other=_(BRANCHES[j][0]), order=order()),
                  gives(lambda j=j: branches[j])) for j in range(4) if j != index),
    ]
    if index == 0:
        mistakes.append(Mistake(_("the 1x1 branch is branch1x1(x), on the block's input itself, not pooled"),
                                gives(lambda: block.branch1x1(_pool(x)))))
    if index == 1:
        mistakes.append(Mistake(_("no activation inside the block: branch5x5_2(branch5x5_1(x))"),
                                gives(lambda: block.branch5x5_2(F.relu(block.branch5x5_1(x))))))
    if index == 2:
        mistakes.append(Mistake(_("no activation inside the block: branch3x3_3(branch3x3_2(branch3x3_1(x)))"),
                                gives(lambda: block.branch3x3_3(F.relu(block.branch3x3_2(F.relu(
                                    block.branch3x3_1(x))))))))
    if index == 3:
        mistakes += [
            Mistake(_("the pool branch averages: F.avg_pool2d(x, kernel_size=3, stride=1, padding=1), then the 1x1 "
                      "conv"), gives(lambda: block.branch_pool(F.max_pool2d(x, 3, stride=1, padding=1)))),
            Mistake(_("pool first, then the 1x1 conv: branch_pool(avg_pool2d(x, 3, stride=1, padding=1))"),
                    gives(lambda: _pool(block.branch_pool(x)))),
            Mistake(_("the pool branch pools first: branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1))"),
                    gives(lambda: block.branch_pool(x))),
            Mistake(_("F.avg_pool2d's default count_include_pad=True: the notes divide by 9 at the borders too"),
                    gives(lambda: block.branch_pool(F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)))),
        ]
    return mistakes


def _inception(student, in_channels, shape):
    """InceptionA(in_channels) in float64, its input x of `shape` and its output (run on a copy of x)."""
    block = student.InceptionA(in_channels).double()
    x = torch.randn(*shape, dtype=torch.float64)
    what = f"InceptionA({in_channels})(x of shape {shape})"
    out = public.run_inception(student, block, x.clone(), what, None)
    expected = (shape[0], 88, *shape[2:])
    expect_shape(out, expected, what, hint=_("concatenate the four branches on dim 1; 16 + 24 + 24 + 24 = 88"),
                 mistakes=public.inception_shape_mistakes(expected))
    return block, x, out


@pytest.mark.points(1)
@pytest.mark.parametrize("in_channels, height, width", [(3, 5, 5), (20, 4, 4), (7, 9, 6), (1, 1, 1)])
def test_inception_keeps_the_spatial_size(student, in_channels, height, width):
    block = student.InceptionA(in_channels)
    shape = (2, in_channels, height, width)
    what = f"InceptionA({in_channels})(x of shape {shape})"
    hint = _("padding 2 for the 5x5, 1 for the 3x3s, avg_pool2d(3, stride=1, padding=1)")
    out = public.run_inception(student, block, torch.randn(shape), what, hint)
    expect_shape(out, (2, 88, height, width), what, hint=hint,
                 mistakes=public.inception_shape_mistakes((2, 88, height, width)))


@pytest.mark.points(3)
def test_inception_channels_hold_the_notes_branches_in_order(student):
    block, x, out = _inception(student, 7, (2, 7, 9, 8))
    with torch.no_grad():
        branches = _branch_outputs(block, x)
        for index, ((name, _layer, start, stop), expected) in enumerate(zip(BRANCHES, branches)):
            expect_tensor(out[:, start:stop], expected, _("InceptionA output channels {start}-{stop} ({name})").format(
                              start=start, stop=stop - 1, name=_(name)),
                          rtol=1e-10, atol=1e-12,
                          hint=_("channels {start}-{stop} are {formula}").format(start=start, stop=stop - 1,
                                                                              formula=FORMULAS[index]),
                          mistakes=_branch_mistakes(block, x, index, branches))


@pytest.mark.points(2)
def test_inception_each_branch_owns_its_channels(student):
    block, x, out = _inception(student, 6, (2, 6, 7, 7))
    with torch.no_grad():
        for name, layer, start, stop in BRANCHES:
            shifted = copy.deepcopy(block)
            getattr(shifted, layer).bias += SHIFT  # moves that branch's outputs, and only them, by SHIFT
            changed = (shifted(x.clone()) - out).abs().amax(dim=(0, 2, 3)) > 1e-6
            expected = torch.zeros(88, dtype=torch.bool)
            expected[start:stop] = True
            expect(bool(torch.equal(changed, expected)),
                   _("InceptionA: shifting the bias of {layer} ({name}'s last layer) changed output channels "
                     "{channels}, expected exactly channels {start}-{stop}").format(
                       layer=layer, name=_(name), channels=_channels(changed), start=start, stop=stop - 1),
                   hint=order())


def _channels(mask):
    ids = [i for i, changed in enumerate(mask.tolist()) if changed]
    if not ids:
        return _("none")
    return f"{ids[0]}-{ids[-1]} ({len(ids)})" if ids == list(range(ids[0], ids[-1] + 1)) else str(ids)


@pytest.mark.points(2)
def test_inception_one_by_one_branch_mixes_channels_at_one_pixel(student):
    block, _x, _out = _inception(student, 5, (1, 5, 9, 9))
    block = copy.deepcopy(block)
    with torch.no_grad():
        block.branch1x1.bias += SHIFT  # the 1x1 branch's outputs stay positive: a ReLU cannot hide a change
        x = torch.randn(1, 5, 9, 9, dtype=torch.float64)
        out = block(x.clone())
        pixel = torch.zeros(9, 9, dtype=torch.bool)
        pixel[4, 4] = True
        for channel in range(5):
            nudged = x.clone()
            nudged[0, channel, 4, 4] += 1.0
            changed = (block(nudged) - out).abs()[0, :16] > 1e-9  # the 1x1 branch: (16, 9, 9)
            what = _("InceptionA: changing input channel {channel} at pixel (4, 4)").format(channel=channel)
            expect(not bool(changed[:, ~pixel].any()),
                   _("{what} changed the 1x1 branch (output channels 0-15) at other pixels").format(what=what),
                   hint=_("a 1x1 convolution sees one pixel; channels 0-15 are branch1x1(x)"))
            expect(bool(changed[:, 4, 4].all()),
                   _("{what} changed only {n} of the 16 1x1-branch outputs there").format(
                       what=what, n=int(changed[:, 4, 4].sum())),
                   hint=_("a 1x1 convolution mixes every input channel into every output; channels 0-15 are "
                          "branch1x1(x)"))


@pytest.mark.points(1)
@pytest.mark.parametrize("channels, height, width", [(3, 5, 5), (32, 4, 4), (1, 9, 6)])
def test_residual_block_keeps_the_shape_for_any_input(student, channels, height, width):
    block = student.ResidualBlock(channels)
    what = f"ResidualBlock({channels})(x of shape (2, {channels}, {height}, {width}))"
    expect_shape(public.run(student, block, torch.randn(2, channels, height, width), what, None),
                 (2, channels, height, width), what)


def _residual_mistakes(block, x):
    """What known mistakes make ResidualBlock's output, each with its hint."""
    def gives(compute):
        def matches(got):
            other = compute()
            return other.shape == got.shape and bool(torch.allclose(got, other, rtol=1e-9, atol=1e-12))
        return matches

    inner = block.conv2(F.relu(block.conv1(x)))
    return [
        Mistake(_("apply relu to the sum: relu(x + conv2(relu(conv1(x))))"), gives(lambda: x + inner)),
        Mistake(_("add x before the last relu, not after: relu(x + conv2(relu(conv1(x))))"),
                gives(lambda: F.relu(inner) + x)),
        Mistake(_("a relu between the convolutions: conv2(relu(conv1(x)))"),
                gives(lambda: F.relu(x + block.conv2(block.conv1(x))))),
        Mistake(_("the skip connection is missing: add x before the last relu, relu(x + conv2(...))"),
                gives(lambda: F.relu(inner))),
    ]


@pytest.mark.points(2)
def test_residual_block_is_relu_of_input_when_conv2_is_zero(student):
    block = student.ResidualBlock(6).double()
    with torch.no_grad():
        block.conv2.weight.zero_()
        block.conv2.bias.zero_()
    x = torch.randn(2, 6, 7, 7, dtype=torch.float64)
    got = block(x.clone())
    expect_tensor(got, F.relu(x), "ResidualBlock(6) with conv2's weights and bias set to zero, on x",
                  hint=_("relu(x + conv2(...)) with conv2 = 0 is relu(x)"),
                  mistakes=[Mistake(_("the output is x, negatives included: apply relu to the sum: "
                                      "relu(x + conv2(relu(conv1(x))))"), x),
                            Mistake(_("the output is 0 where it should be relu(x): the skip connection is missing, "
                                      "relu(x + conv2(...))"), torch.zeros_like(x))])


@pytest.mark.points(2)
def test_residual_block_matches_its_formula(student):
    block = student.ResidualBlock(5).double()
    x = torch.randn(2, 5, 8, 6, dtype=torch.float64)
    got = block(x.clone())
    with torch.no_grad():
        expected = F.relu(x + block.conv2(F.relu(block.conv1(x))))
        expect_tensor(got, expected, "ResidualBlock(5)(x)", rtol=1e-10, atol=1e-12,
                      hint=_("relu(x + conv2(relu(conv1(x)))): a relu between the convolutions, another after the "
                             "sum"), mistakes=_residual_mistakes(block, x))


def _expect_shapes_for_any_batch(student, model, network):
    features = FEATURES[network]
    for n in (1, 5):
        what = f"{network}()(x of shape ({n}, 1, 28, 28))"
        hint = _("flatten to (N, {features}) before the Linear layer, whatever N").format(features=features)
        out = public.run_network(student, model, torch.randn(n, 1, 28, 28), what, hint, features)
        expect_shape(out, (n, 10), what, hint=hint, mistakes=[
            Mistake(_("keep the batch dim: torch.flatten(x, 1) gives (N, {features})").format(features=features),
                    (10,))])


@pytest.mark.points(2)
def test_inception_net_shape_and_parameter_count(student):
    model = student.InceptionNet()
    expect_equal(parameter_count(model), 97298, "InceptionNet's parameter count",
                 hint=_("conv1 260 + InceptionA(10) 19,104 + conv2 44,020 + InceptionA(20) 19,824 + fc 14,090: keep "
                        "the layers __init__ builds"))
    _expect_shapes_for_any_batch(student, model, "InceptionNet")


@pytest.mark.points(2)
def test_resnet_shape_and_parameter_count(student):
    model = student.ResNet()
    expect_equal(parameter_count(model), 41514, "ResNet's parameter count",
                 hint=_("conv1 416 + block(16) 4,640 + conv2 12,832 + block(32) 18,496 + fc 5,130: keep the layers "
                        "__init__ builds"))
    _expect_shapes_for_any_batch(student, model, "ResNet")


def _network_mistakes(compute, blocks):
    """Mistakes of a whole network: `compute(**mistake)` is what the notes' network gives with that mistake;
    `blocks`: the names of its two blocks, when skipping one is a mistake it can compute."""
    def gives(**mistake):
        def matches(got):
            other = compute(**mistake)
            return other.shape == got.shape and bool(torch.allclose(got, other, rtol=1e-9, atol=1e-12))
        return matches

    return [
        Mistake(_("a relu after the first conv and pool"), gives(relu1=False)),
        Mistake(_("a relu after the second conv and pool"), gives(relu2=False)),
        Mistake(_("return the logits: no softmax at the end (nn.CrossEntropyLoss applies it)"), gives(end=F.softmax)),
        Mistake(_("return the logits: no log_softmax at the end (nn.CrossEntropyLoss applies it)"),
                gives(end=F.log_softmax)),
        *(Mistake(_("forward() skips {block}: use each block once, in the table's order").format(block=block),
                  gives(skip=block)) for block in blocks),
    ]


@pytest.mark.points(2)
def test_inception_net_layers_in_the_notes_order(student):
    model = student.InceptionNet().double()
    x = torch.randn(2, 1, 28, 28, dtype=torch.float64)
    got = public.run_network(student, model, x.clone(), "InceptionNet()(x)", None, 1408)
    with torch.no_grad():
        def net(relu1=True, relu2=True, end=None):
            h = F.max_pool2d(model.conv1(x), 2)
            h = model.inception1(F.relu(h) if relu1 else h)
            h = F.max_pool2d(model.conv2(h), 2)
            h = model.inception2(F.relu(h) if relu2 else h)
            logits = model.fc(h.flatten(1))
            return end(logits, dim=1) if end else logits

        expect_tensor(got, net(), "InceptionNet()(x)", rtol=1e-9, atol=1e-12,
                      hint=_("conv1, pool, relu, inception1, conv2, pool, relu, inception2, flatten, fc"),
                      mistakes=_network_mistakes(net, ()))


@pytest.mark.points(2)
def test_resnet_layers_in_the_notes_order(student):
    model = student.ResNet().double()
    x = torch.randn(2, 1, 28, 28, dtype=torch.float64)
    got = public.run_network(student, model, x.clone(), "ResNet()(x)", None, 512)
    with torch.no_grad():
        def net(relu1=True, relu2=True, end=None, skip=None):
            h = model.conv1(x)
            h = F.max_pool2d(F.relu(h) if relu1 else h, 2)
            h = h if skip == "block1" else model.block1(h)
            h = model.conv2(h)
            h = F.max_pool2d(F.relu(h) if relu2 else h, 2)
            h = h if skip == "block2" else model.block2(h)
            logits = model.fc(h.flatten(1))
            return end(logits, dim=1) if end else logits

        expect_tensor(got, net(), "ResNet()(x)", rtol=1e-9, atol=1e-12,
                      hint=_("conv1, relu, pool, block1, conv2, relu, pool, block2, flatten, fc"),
                      mistakes=_network_mistakes(net, ("block1", "block2")))


@pytest.mark.points(2)
@pytest.mark.parametrize("network", ["InceptionNet", "ResNet"])
def test_gradients_reach_every_layer(student, network):
    model = getattr(student, network)()
    x, y = digits28(train=True)
    out = public.run_network(student, model, x[:16], f"{network}()(16 digits)", None, FEATURES[network])
    F.cross_entropy(out, y[:16]).backward()
    for name, p in model.named_parameters():
        expect(p.grad is not None and bool(p.grad.abs().sum() > 0),
               _("{network}: no gradient reaches {name}").format(network=network, name=name),
               hint=_("every layer must be used in forward(), and the output must stay connected to the input"))


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
    probabilities = bool(logits.min() >= 0) and bool(torch.allclose(logits.sum(1), torch.ones(len(y_test)), atol=1e-4))
    expect_at_least(accuracy, ACCURACY_BAR,
                    _("ResNet's test accuracy after one epoch of Adam over {n} digits").format(n=TRAIN_IMAGES),
                    hint=_("ResNet returns probabilities: return the logits, nn.CrossEntropyLoss applies the softmax")
                    if probabilities else None)
