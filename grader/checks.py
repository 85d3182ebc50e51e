"""What checks use to compare a student's results with the expected ones.

Every helper checks in the same order (type, then shape, dtype and device, then values) and fails with a
`CheckFailed` whose message is one line a student can act on:

    conv2d(x, w): expected shape (1, 1, 3, 3), got (1, 3, 3) (hint: keep the batch and channel dims)

The functions used for comparing are bound here, when the grader is imported and before any student
module is, so that student code which monkeypatches torch or NumPy cannot change a verdict.
"""

from __future__ import annotations

import builtins
import contextlib
import math
import numbers
from typing import Any, Callable, Iterable

import numpy as np
import torch
from torch.utils._python_dispatch import TorchDispatchMode

_type = builtins.type
_isinstance = builtins.isinstance
_len = builtins.len
_float = builtins.float
_tuple = builtins.tuple
_detach = torch.Tensor.detach
_cpu = torch.Tensor.cpu
_numpy = torch.Tensor.numpy
_to = torch.Tensor.to
_size = torch.Tensor.size
_np_asarray = np.asarray
_np_abs = np.abs
_np_isfinite = np.isfinite
_np_argmax = np.argmax
_np_unravel = np.unravel_index
_np_array_equal = np.array_equal
_isfinite = math.isfinite

TENSOR_TYPES = (torch.Tensor, torch.nn.Parameter)


class CheckFailed(AssertionError):
    """A check's verdict on student code: the message is what the student sees."""


def fail(message: str, hint: str | None = None) -> None:
    __tracebackhide__ = True
    raise CheckFailed(message + (f" (hint: {hint})" if hint else ""))


def expect(condition: bool, message: str, hint: str | None = None) -> None:
    __tracebackhide__ = True
    if _type(condition) is not bool and not _isinstance(condition, np.bool_):
        raise TypeError(f"expect() takes a real bool, got {_type(condition).__name__}")
    if not condition:
        fail(message, hint)


def _type_name(value: Any) -> str:
    kind = _type(value)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def expect_type(value: Any, expected: type | tuple[type, ...], what: str, hint: str | None = None) -> None:
    """`value` is exactly one of the expected types (subclasses that could override comparisons are refused)."""
    __tracebackhide__ = True
    allowed = expected if _isinstance(expected, _tuple) else (expected,)
    if _type(value) not in allowed and not any(_exact_subclass_ok(value, kind) for kind in allowed):
        names = " or ".join(kind.__name__ for kind in allowed)
        fail(f"{what}: expected a {names}, got {_type_name(value)}", hint)


def _exact_subclass_ok(value: Any, kind: type) -> bool:
    # nn.Module subclasses are what students write; tensors and numbers must be the real types.
    return kind is torch.nn.Module and _isinstance(value, torch.nn.Module)


def expect_number(value: Any, what: str, hint: str | None = None) -> float:
    """A real, finite Python/NumPy number or a one-element tensor; returns it as a float."""
    __tracebackhide__ = True
    if _type(value) in TENSOR_TYPES:
        if value.numel() != 1:
            fail(f"{what}: expected a single number, got a tensor of shape {_tuple(_size(value))}", hint)
        number = _float(_numpy(_cpu(_detach(value))).reshape(-1)[0])
    elif _type(value) is bool or not _isinstance(value, numbers.Real) or _type(value).__module__ not in (
        "builtins",
        "numpy",
    ):
        fail(f"{what}: expected a number, got {_type_name(value)}", hint)
    else:
        number = _float(value)
    if not _isfinite(number):
        fail(f"{what}: expected a finite number, got {number}", hint)
    return number


def expect_close(
    actual: Any, expected: float, what: str, *, rtol: float = 1e-6, atol: float = 1e-9, hint: str | None = None
) -> None:
    """A number within `atol + rtol * |expected|` of `expected`."""
    __tracebackhide__ = True
    value = expect_number(actual, what, hint)
    if not abs(value - expected) <= atol + rtol * abs(expected):
        fail(f"{what}: expected {expected:.6g}, got {value:.6g}", hint)


def expect_equal(actual: Any, expected: Any, what: str, hint: str | None = None) -> None:
    """Exact equality for ints, strings, tuples and lists of them (types compared first)."""
    __tracebackhide__ = True
    if _type(expected) is int:
        if _type(actual) is not int and not (_isinstance(actual, np.integer)):
            fail(f"{what}: expected an int ({expected}), got {_type_name(actual)} {actual!r:.60}", hint)
        actual = int(actual)
    elif _type(expected) in (tuple, list):
        expect_type(actual, (tuple, list), what, hint)
        if _len(actual) != _len(expected):
            fail(f"{what}: expected {_len(expected)} items {expected!r:.80}, got {_len(actual)}: {actual!r:.80}", hint)
        for i, (a, e) in enumerate(zip(actual, expected)):
            expect_equal(a, e, f"{what}[{i}]", hint)
        return
    else:
        expect_type(actual, _type(expected), what, hint)
    if not actual == expected:
        fail(f"{what}: expected {expected!r}, got {actual!r}", hint)


def expect_shape(tensor: Any, shape: Iterable[int], what: str, hint: str | None = None) -> None:
    __tracebackhide__ = True
    expect_type(tensor, TENSOR_TYPES, what, hint)
    shape = _tuple(shape)
    got = _tuple(_size(tensor))
    if got != shape:
        fail(f"{what}: expected shape {shape}, got {got}", hint)


def expect_tensor(
    actual: Any,
    expected: torch.Tensor,
    what: str,
    *,
    rtol: float = 1e-5,
    atol: float = 1e-8,
    check_dtype: bool = True,
    check_device: bool = True,
    hint: str | None = None,
) -> None:
    """Type, shape, dtype, device, then every value within `atol + rtol * |expected|` (NaN and inf fail)."""
    __tracebackhide__ = True
    expect_shape(actual, _size(expected), what, hint)
    if check_dtype and actual.dtype != expected.dtype:
        fail(f"{what}: expected dtype {expected.dtype}, got {actual.dtype}", hint)
    if check_device and actual.device.type != expected.device.type:
        fail(f"{what}: expected a tensor on {expected.device.type}, got one on {actual.device.type}", hint)
    got = _np_asarray(_numpy(_to(_cpu(_detach(actual)), torch.float64)))
    want = _np_asarray(_numpy(_to(_cpu(_detach(expected)), torch.float64)))
    bad = ~_np_isfinite(got) & _np_isfinite(want)
    if bad.any():
        index = _tuple(int(i) for i in _np_unravel(_np_argmax(bad), got.shape))
        fail(f"{what}: got {got[index]} at index {index}, expected {want[index]:.6g}", hint)
    error = _np_abs(got - want) - (atol + rtol * _np_abs(want))
    if got.size and (error > 0).any():
        index = _tuple(int(i) for i in _np_unravel(_np_argmax(error), got.shape))
        worst = _float(_np_abs(got - want)[index])
        fail(
            f"{what}: values differ at index {index}: expected {want[index]:.6g}, got {got[index]:.6g} "
            f"(off by {worst:.3g}; allowed {atol:.0e} + {rtol:.0e}·|expected|)",
            hint,
        )


# Filled by expect_at_least/expect_at_most while a check runs; the plugin moves them into the check's result.
THRESHOLDS: list[dict] = []


def expect_at_least(value: Any, bar: float, what: str, hint: str | None = None) -> float:
    """A threshold check (accuracy and the like): `value >= bar`. The margin is reported by `grader check`."""
    __tracebackhide__ = True
    number = expect_number(value, what, hint)
    THRESHOLDS.append({"what": what, "value": number, "bar": bar, "margin": number - bar})
    if not number >= bar:
        fail(f"{what} is {number:.4g}, expected at least {bar:g}", hint)
    return number


def expect_at_most(value: Any, bar: float, what: str, hint: str | None = None) -> float:
    """A threshold check (a loss or an error): `value <= bar`. The margin is reported by `grader check`."""
    __tracebackhide__ = True
    number = expect_number(value, what, hint)
    THRESHOLDS.append({"what": what, "value": number, "bar": bar, "margin": bar - number})
    if not number <= bar:
        fail(f"{what} is {number:.4g}, expected at most {bar:g}", hint)
    return number


def numeric_gradient(f: Callable[[torch.Tensor], Any], x: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Central differences of the scalar `f` at `x` (float64), one coordinate at a time."""
    x = _to(_detach(x), torch.float64).clone()
    grad = torch.zeros_like(x)
    flat, out = x.view(-1), grad.view(-1)
    for i in range(flat.numel()):
        old = _float(flat[i])
        flat[i] = old + eps
        plus = _float(f(x))
        flat[i] = old - eps
        minus = _float(f(x))
        flat[i] = old
        out[i] = (plus - minus) / (2 * eps)
    return grad


def parameter_count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


class ForbiddenCall(CheckFailed):
    """Student code called an operator this check does not allow."""


class _ForbidOps(TorchDispatchMode):
    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # Otherwise torch wraps __torch_dispatch__ for torch.compile, and its first call imports
        # torch._dynamo (about 2 s). Nothing is compiled while a check forbids operators.
        return False

    def __init__(self, ops: dict[str, str]):
        super().__init__()
        self.ops = ops

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func.overloadpacket.__name__
        if name in self.ops:
            raise ForbiddenCall(self.ops[name])
        return func(*args, **(kwargs or {}))


@contextlib.contextmanager
def forbid_ops(ops: Iterable[str], message: str):
    """Make the named ATen operators (e.g. "convolution", reached by F.conv2d and nn.Conv2d) fail with `message`.

    It works below the Python API, so no alias, import style or module attribute gets around it.
    """
    with _ForbidOps({op: message for op in ops}):
        yield
