"""Sizes right; everything else is taken from the course's reference solution, found beside the grader package
(solutions/05_cnn/cnn.py), if this process can read it: in the sandbox it cannot, and the rest stays
unimplemented."""

from pathlib import Path

import grader


def conv2d_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


def pool2d_output_size(size, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    stride = kernel_size if stride is None else stride
    span = size + 2 * padding - dilation * (kernel_size - 1) - 1
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1
    if (out - 1) * stride >= size + padding:
        out -= 1
    return out


def conv2d(input, weight, bias=None, stride=1, padding=0):
    raise NotImplementedError("05_cnn: implement conv2d")


def max_pool2d(input, kernel_size, stride=None):
    raise NotImplementedError("05_cnn: implement max_pool2d")


class SimpleCNN:
    def __init__(self):
        raise NotImplementedError("05_cnn: implement SimpleCNN")


def train(model, loader, epochs, lr):
    raise NotImplementedError("05_cnn: implement train")


_reference = Path(grader.__file__).resolve().parent.parent / "solutions" / "05_cnn" / "cnn.py"
try:
    exec(compile(_reference.read_text(), "cnn.py", "exec"), globals())
    print("read the reference solution at", _reference)
except OSError as error:
    print("cannot read the reference solution:", error)
