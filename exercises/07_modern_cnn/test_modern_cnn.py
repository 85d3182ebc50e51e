"""Public checks of 07_modern_cnn: run them with `pytest exercises/07_modern_cnn`."""

import pytest
import torch

from grader.checks import Mistake, expect_shape, expect_type, fail
from grader.i18n import _
from grader.student import innermost_student_frame

BRANCH_ENDS = ("branch1x1", "branch5x5_2", "branch3x3_3", "branch_pool")  # the last layer of each branch
BRANCH_CHANNELS = (16, 24, 24, 24)


def _where(error, student):
    """' (modern_cnn.py line 12, in InceptionA.forward)' for the innermost frame of the student's code, or ''."""
    files = {getattr(student, "__file__", ""), *getattr(student, "__student_files__", ())}
    where = innermost_student_frame(error.__traceback__, files)
    return f" ({where})" if where else ""


def _watch(model, names):
    """Hooks that record, for each named submodule that runs, the shapes of its input and of its output (None
    while it has not returned)."""
    seen, handles = {}, []
    modules = dict(model.named_modules())
    for name in names:
        if name in modules:
            def before(module, args, name=name):
                seen[name] = (tuple(args[0].shape), None)  # returns nothing: the input goes on unchanged

            def after(module, args, output, name=name):
                seen[name] = (tuple(args[0].shape), tuple(output.shape))

            handles += [modules[name].register_forward_pre_hook(before), modules[name].register_forward_hook(after)]
    return seen, handles


def inception_cause(seen, prefix=""):
    """What the shapes recorded inside an InceptionA (`prefix`: its name in the model) say went wrong, or None."""
    block = seen.get(prefix.rstrip("."))
    pool = seen.get(prefix + "branch_pool")
    if block is None or block[1] is not None:  # the block did not run, or returned
        return None
    ends = [seen.get(prefix + name) for name in BRANCH_ENDS]
    right = [end is not None and end[1] == (block[0][0], c, *block[0][2:]) for end, c in zip(ends, BRANCH_CHANNELS)]
    # The pool branch's input has another size than the block's, or its pooling raised after the others ran.
    if (pool is not None and pool[0][2:] != block[0][2:]) or (pool is None and all(right[:3])):
        return _("avg_pool2d(x, kernel_size=3, stride=1, padding=1) keeps H x W, which torch.cat needs")
    if all(right):
        return _("the four branches give (N, 16), (N, 24), (N, 24), (N, 24) channels of the input's H x W: join "
                 "them on the channel dim, torch.cat([...], dim=1)")
    return None


def flatten_cause(seen, n, features):
    """What the input recorded at `fc` says went wrong, or None."""
    if "fc" not in seen:
        return None
    shape = seen["fc"][0]
    if len(shape) == 1 or shape[0] != n:
        return _("keep the batch dim: torch.flatten(x, 1) gives (N, {features})").format(features=features)
    if len(shape) > 2:
        return _("fc received a {rank}-d tensor {shape}: flatten it to (N, {features}) first").format(
            rank=len(shape), shape=shape, features=features)
    return None


def run(student, model, x, what, hint, cause=lambda seen: None, watch=()):
    """model(x); a RuntimeError in it fails the check with its first line, where it was raised, and the hint of
    `cause(shapes)` (the shapes of what the `watch`ed submodules received and gave), else `hint`."""
    seen, handles = _watch(model, watch)
    try:
        return model(x)
    except NotImplementedError:  # a RuntimeError too: the plugin says "not implemented yet"
        raise
    except RuntimeError as error:
        text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        fail(_("{what} raised RuntimeError: {text}{where}").format(what=what, text=text, where=_where(error, student)),
             cause(seen) or hint)
    finally:
        for handle in handles:
            handle.remove()


def run_inception(student, block, x, what, hint):
    return run(student, block, x, what, hint, inception_cause, ("", *BRANCH_ENDS))


def run_network(student, model, x, what, hint, features):
    blocks = ("inception1", "inception2")
    watch = ("fc", *blocks, *(f"{b}.{name}" for b in blocks for name in BRANCH_ENDS))

    def cause(seen):
        return (next((c for c in (inception_cause(seen, f"{b}.") for b in blocks) if c), None) or
                flatten_cause(seen, x.shape[0], features))

    return run(student, model, x, what, hint, cause, watch)


def inception_shape_mistakes(shape):
    """What a missing or doubled branch makes the shape of InceptionA's output."""
    _n, _c, h, w = shape
    return [Mistake(_("a branch is missing from torch.cat: 16 + 24 + 24 + 24 = 88 channels"),
                    lambda got: len(got) == 4 and got[1] in (64, 72) and got[2:] == (h, w)),
            Mistake(_("a branch is in torch.cat twice: each of the four once, 16 + 24 + 24 + 24 = 88 channels"),
                    lambda got: len(got) == 4 and got[1] in (104, 112) and got[2:] == (h, w))]


@pytest.mark.points(1)
def test_inception_output_shape(student):
    block = student.InceptionA(10)
    expect_type(block, torch.nn.Module, "InceptionA(10)")
    what = "InceptionA(10)(x of shape (2, 10, 12, 12))"
    hint = _("concatenate the four branches on dim 1; 16 + 24 + 24 + 24 = 88")
    out = run_inception(student, block, torch.randn(2, 10, 12, 12), what, hint)
    expect_shape(out, (2, 88, 12, 12), what, hint=hint, mistakes=inception_shape_mistakes((2, 88, 12, 12)))


@pytest.mark.points(1)
def test_residual_block_keeps_the_shape(student):
    block = student.ResidualBlock(16)
    expect_type(block, torch.nn.Module, "ResidualBlock(16)")
    what = "ResidualBlock(16)(x of shape (2, 16, 12, 12))"
    expect_shape(run(student, block, torch.randn(2, 16, 12, 12), what, None), (2, 16, 12, 12), what)


@pytest.mark.points(1)
def test_inception_net_output_shape(student):
    model = student.InceptionNet()
    expect_type(model, torch.nn.Module, "InceptionNet()")
    what = "InceptionNet()(x of shape (3, 1, 28, 28))"
    hint = _("flatten (N, 88, 4, 4) to (N, 1408) before the Linear layer")
    expect_shape(run_network(student, model, torch.randn(3, 1, 28, 28), what, hint, 1408), (3, 10), what, hint=hint)


@pytest.mark.points(1)
def test_resnet_output_shape(student):
    model = student.ResNet()
    expect_type(model, torch.nn.Module, "ResNet()")
    what = "ResNet()(x of shape (3, 1, 28, 28))"
    hint = _("flatten (N, 32, 4, 4) to (N, 512) before the Linear layer")
    expect_shape(run_network(student, model, torch.randn(3, 1, 28, 28), what, hint, 512), (3, 10), what, hint=hint)
