"""What checks use to compare a student's results with the expected ones.

Every helper checks in the same order (type, then shape, dtype and device, then values) and fails with a
`CheckFailed` whose message is one line a student can act on:

    conv2d(x, w): expected shape (1, 1, 3, 3), got (1, 3, 3)

A hint that names a cause appears only when that cause was detected. A check lists the mistakes it can
recognise, each with what it makes the result and the hint for it; when the student's result is what a
mistake gives, that mistake's hint is shown, and otherwise none:

    expect_tensor(got, torch.relu(x) + b, "layer(x)",
                  mistakes=[Mistake(_("the bias is missing"), torch.relu(x)),
                            Mistake(_("the bias is added before the ReLU"), torch.relu(x + b))])

`hint=` is guidance that is true whatever went wrong (a formula, the expected layout); it is shown with a
value that differs, never with a wrong type or shape. The helpers detect some causes themselves: a NumPy
array where a tensor was expected, a lower-precision dtype, values that agree only to float32 precision.

Unless a check asks for the exact dtype (`check_dtype=True`, where the dtype is the lesson), a result in
another floating dtype is compared by value at the precision of its dtype. Expected values should be
computed after the student's call and from copies of the inputs (`student.f(x.clone())`), so that neither
an in-place student function nor student code that reads the check's frames can change them.

The functions used for comparing are bound here, when the grader is imported and before any student
module is, so that student code which monkeypatches torch or NumPy cannot change a verdict.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib.util
import math
import numbers
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

from grader.course import HIDDEN_SUFFIX
from grader.i18n import N_, _

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
_np_allclose = np.allclose
_isfinite = math.isfinite

TENSOR_TYPES = (torch.Tensor, torch.nn.Parameter)
# The tolerance a result of a lower-precision dtype is held to, at the least: (rtol, atol relative to the
# largest expected value). A real mistake (a flipped kernel, a missing term) is off by far more.
PRECISION = {torch.float32: (1e-4, 1e-5), torch.float16: (1e-2, 1e-3), torch.bfloat16: (2e-2, 1e-2)}


class CheckFailed(AssertionError):
    """A check's verdict on student code: the message is what the student sees."""


@dataclass(frozen=True)
class Mistake:
    """A mistake a check recognises: `result` is what the mistake makes the value (a tensor, a number, a
    sequence), or a function of the student's value that says whether it is that mistake's."""

    hint: str
    result: Any

    def explains(self, actual: Any, close: Callable[[Any, Any], bool]) -> bool:
        try:
            return bool(self.result(actual)) if callable(self.result) else close(actual, self.result)
        except Exception:  # a mistake that does not apply to this value
            return False


HINT = N_("(hint: {hint})")  # after a failure's message: guidance, or the cause that was detected


def fail(message: str, hint: str | None = None) -> None:
    __tracebackhide__ = True
    raise CheckFailed(message + (" " + _(HINT).format(hint=hint) if hint else ""))


def _diagnosed(actual: Any, mistakes: Sequence[Mistake], close: Callable[[Any, Any], bool]) -> str | None:
    return next((m.hint for m in mistakes if m.explains(actual, close)), None)


def expect(condition: bool, message: str, hint: str | None = None) -> None:
    """`condition` holds; else fail with `message` (and `hint`, which must be true whenever it fails)."""
    __tracebackhide__ = True
    if _type(condition) is not bool and not _isinstance(condition, np.bool_):
        raise TypeError(f"expect() takes a real bool, got {_type(condition).__name__}")
    if not condition:
        fail(message, hint)


def _type_name(value: Any) -> str:
    kind = _type(value)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def _type_hint(value: Any, expected: tuple[type, ...]) -> str | None:
    """The fix for the wrong types students return most often."""
    if _isinstance(value, np.ndarray) and any(k in TENSOR_TYPES for k in expected):
        return _("return a torch.Tensor: build it with torch operations, or convert with torch.from_numpy(...)")
    if _type(value) in TENSOR_TYPES and any(k in (int, float) for k in expected):
        return _("return a Python number: .item() turns a one-element tensor into one")
    if value is None:
        return _("the function returned None: is a `return` missing?")
    return None


def expect_type(value: Any, expected: type | tuple[type, ...], what: str, hint: str | None = None) -> None:
    """`value` is exactly one of the expected types (subclasses that could override comparisons are refused).

    `hint` is shown with the failure; it should say what to return, not guess why."""
    __tracebackhide__ = True
    allowed = expected if _isinstance(expected, _tuple) else (expected,)
    if _type(value) not in allowed and not any(_exact_subclass_ok(value, kind) for kind in allowed):
        names = _(" or ").join(kind.__name__ for kind in allowed if kind is not torch.nn.Parameter)
        fail(_("{what}: expected a {expected}, got {got}").format(what=what, expected=names, got=_type_name(value)),
             hint or _type_hint(value, allowed))


def _exact_subclass_ok(value: Any, kind: type) -> bool:
    # nn.Module subclasses are what students write; tensors and numbers must be the real types.
    return kind is torch.nn.Module and _isinstance(value, torch.nn.Module)


def expect_number(value: Any, what: str, hint: str | None = None) -> float:
    """A real, finite Python/NumPy number, or a one-element tensor or NumPy array; returns it as a float."""
    __tracebackhide__ = True
    if _type(value) in TENSOR_TYPES or _type(value) is np.ndarray:
        count = value.numel() if _type(value) in TENSOR_TYPES else value.size
        shape = _tuple(_size(value)) if _type(value) in TENSOR_TYPES else value.shape
        if count != 1:
            fail(_("{what}: expected a single number, got an array of shape {shape}").format(what=what, shape=shape),
                 hint)
        array = _numpy(_cpu(_detach(value))) if _type(value) in TENSOR_TYPES else value
        if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
            fail(_("{what}: expected a number, got an array of {dtype}").format(what=what, dtype=array.dtype), hint)
        number = _float(array.reshape(-1)[0])
    elif _type(value) is bool or not _isinstance(value, numbers.Real) or _type(value).__module__ not in (
        "builtins",
        "numpy",
    ):
        fail(_("{what}: expected a number, got {got}").format(what=what, got=_type_name(value)),
             hint or _type_hint(value, (float,)))
    else:
        number = _float(value)
    if not _isfinite(number):
        fail(_("{what}: expected a finite number, got {got}").format(what=what, got=number), hint)
    return number


def shown_pair(expected: float, actual: float) -> tuple[str, str]:
    """The two numbers with as many digits as it takes to see that they differ (at most 17)."""
    for digits in (6, 10, 14, 17):
        a, b = f"{expected:.{digits}g}", f"{actual:.{digits}g}"
        if a != b:
            return a, b
    return a, b


def expect_close(
    actual: Any, expected: float, what: str, *, rtol: float = 1e-6, atol: float = 1e-9, hint: str | None = None,
    mistakes: Sequence[Mistake] = (),
) -> None:
    """A number within `atol + rtol * |expected|` of `expected`."""
    __tracebackhide__ = True
    value = expect_number(actual, what)

    def close(a: float, b: Any) -> bool:
        return abs(a - _float(b)) <= atol + rtol * abs(_float(b))

    if not close(value, expected):
        want, got = shown_pair(expected, value)
        fail(_("{what}: expected {expected}, got {got}").format(what=what, expected=want, got=got),
             _diagnosed(value, mistakes, close) or hint)


def expect_equal(actual: Any, expected: Any, what: str, hint: str | None = None,
                 mistakes: Sequence[Mistake] = ()) -> None:
    """Exact equality for ints, strings, tuples and lists of them (types compared first)."""
    __tracebackhide__ = True
    if _type(expected) is int:
        if _type(actual) is not int and not (_isinstance(actual, np.integer)):
            fail(_("{what}: expected an int ({expected}), got {got} {value}").format(
                what=what, expected=expected, got=_type_name(actual), value=f"{actual!r:.60}"),
                _("return an int: use // for the division") if _isinstance(actual, float) else None)
        actual = int(actual)
    elif _type(expected) in (tuple, list):
        expect_type(actual, (tuple, list), what)
        diagnosed = _diagnosed(actual, mistakes, _same_items) if not _same_items(actual, expected) else None
        if _len(actual) != _len(expected):
            fail(_("{what}: expected {n} items {expected}, got {m}: {got}").format(
                what=what, n=_len(expected), expected=f"{expected!r:.80}", m=_len(actual), got=f"{actual!r:.80}"),
                diagnosed or hint)
        for i, (a, e) in enumerate(zip(actual, expected)):
            expect_equal(a, e, f"{what}[{i}]", diagnosed or hint)
        return
    else:
        expect_type(actual, _type(expected), what)
    if not actual == expected:
        fail(_("{what}: expected {expected}, got {got}").format(what=what, expected=repr(expected), got=repr(actual)),
             _diagnosed(actual, mistakes, lambda a, b: a == b) or hint)


def _same_items(actual: Any, expected: Any) -> bool:
    """Equal sequences, item by item, compared as expect_equal compares them (no student __eq__ is trusted)."""
    try:
        return _len(actual) == _len(expected) and all(
            (_type(a) in (int, float, str, bool) or _isinstance(a, np.generic)) and _type(a) is not bool and a == e
            or (_type(a) in (tuple, list) and _same_items(a, e)) for a, e in zip(actual, expected))
    except TypeError:
        return False


def expect_shape(tensor: Any, shape: Iterable[int], what: str, hint: str | None = None,
                 mistakes: Sequence[Mistake] = ()) -> None:
    """A tensor of exactly this shape. `hint` is guidance shown with a wrong shape; `mistakes` (their result:
    the shape a mistake gives, or a test of the student's shape) name causes."""
    __tracebackhide__ = True
    expect_type(tensor, TENSOR_TYPES, what)
    shape = _tuple(shape)
    got = _tuple(_size(tensor))
    if got != shape:
        fail(_("{what}: expected shape {expected}, got {got}").format(what=what, expected=shape, got=got),
             _diagnosed(got, mistakes, lambda a, b: a == _tuple(b)) or hint)


def _as_float64(tensor: torch.Tensor) -> np.ndarray:
    return _np_asarray(_numpy(_to(_cpu(_detach(tensor)), torch.float64)))


def expect_tensor(
    actual: Any,
    expected: torch.Tensor,
    what: str,
    *,
    rtol: float = 1e-5,
    atol: float = 1e-8,
    check_dtype: bool = False,
    check_device: bool = True,
    hint: str | None = None,
    mistakes: Sequence[Mistake] = (),
) -> None:
    """Type, shape, dtype (when `check_dtype`: the dtype is the lesson), device, then every value within
    `atol + rtol * |expected|` (NaN and inf fail). A result of a lower-precision floating dtype than
    `expected` is held to its own precision (`PRECISION`) instead of `rtol`/`atol`."""
    __tracebackhide__ = True
    expect_type(actual, TENSOR_TYPES, what)
    shapes = [Mistake(m.hint, _tuple(_size(m.result))) for m in mistakes
              if _type(m.result) in TENSOR_TYPES and _tuple(_size(m.result)) != _tuple(_size(expected))]
    expect_shape(actual, _size(expected), what, mistakes=shapes)
    if check_dtype and actual.dtype != expected.dtype:
        fail(_("{what}: expected dtype {expected}, got {got}").format(what=what, expected=expected.dtype,
                                                                     got=actual.dtype),
             _dtype_hint(actual.dtype, expected.dtype))
    if check_device and actual.device.type != expected.device.type:
        fail(_("{what}: expected a tensor on {expected}, got one on {got}").format(
            what=what, expected=expected.device.type, got=actual.device.type),
            _("move it with .to(device), or create it on the input's device (device=x.device)"))
    if actual.dtype.is_complex != expected.dtype.is_complex or (expected.dtype.is_floating_point and not (
            actual.dtype.is_floating_point or actual.dtype.is_complex)):
        fail(_("{what}: expected dtype {expected}, got {got}").format(what=what, expected=expected.dtype,
                                                                     got=actual.dtype),
             _dtype_hint(actual.dtype, expected.dtype))
    got, want = _as_float64(actual), _as_float64(expected)
    scale = _float(_np_abs(want).max()) if want.size else 0.0
    lower = actual.dtype in PRECISION and (not expected.dtype.is_floating_point or
                                           torch.finfo(actual.dtype).eps > torch.finfo(expected.dtype).eps)
    if lower:
        floor_rtol, floor_atol = PRECISION[actual.dtype]
        rtol, atol = max(rtol, floor_rtol), max(atol, floor_atol * max(scale, 1.0))
    bad = ~_np_isfinite(got) & _np_isfinite(want)
    if bad.any():
        index = _tuple(int(i) for i in _np_unravel(_np_argmax(bad), got.shape))
        fail(_("{what}: got {got} at index {index}, expected {expected}").format(
            what=what, got=got[index], index=index, expected=f"{want[index]:.6g}"),
            _diagnosed(actual, mistakes, _tensors_close(rtol, atol)) or hint)
    error = _np_abs(got - want) - (atol + rtol * _np_abs(want))
    if got.size and (error > 0).any():
        index = _tuple(int(i) for i in _np_unravel(_np_argmax(error), got.shape))
        worst = _float(_np_abs(got - want)[index])
        shown_want, shown_got = shown_pair(_float(want[index]), _float(got[index]))
        message = _("{what}: values differ at index {index}: expected {expected}, got {got} (off by {off}; "
                    "allowed {atol} + {rtol}·|expected|)").format(
            what=what, index=index, expected=shown_want, got=shown_got, off=f"{worst:.3g}", atol=f"{atol:.0e}",
            rtol=f"{rtol:.0e}")
        precision = None
        finer = expected.dtype.is_floating_point and torch.finfo(expected.dtype).eps < torch.finfo(torch.float32).eps
        if finer and not lower and _np_allclose(got, want, rtol=PRECISION[torch.float32][0],
                                      atol=PRECISION[torch.float32][1] * max(scale, 1.0)):
            precision = _("the values agree only to float32 precision: part of your computation runs in "
                          "float32 (torch.zeros(...) and torch.tensor(...) make float32 unless given "
                          "dtype=input.dtype)")
        fail(message, _diagnosed(actual, mistakes, _tensors_close(rtol, atol)) or precision or hint)


def _tensors_close(rtol: float, atol: float) -> Callable[[Any, Any], bool]:
    def close(actual: Any, candidate: Any) -> bool:
        if _type(candidate) not in TENSOR_TYPES or _tuple(_size(actual)) != _tuple(_size(candidate)):
            return False
        return bool(_np_allclose(_as_float64(actual), _as_float64(candidate), rtol=rtol, atol=atol))

    return close


def _dtype_hint(got: torch.dtype, expected: torch.dtype) -> str:
    if expected.is_floating_point and not got.is_floating_point:
        return _("integer division or an integer tensor: make the result floating point (.float(), or / not //)")
    return _("create tensors with the input's dtype: input.new_zeros(...), or torch.zeros(..., dtype=input.dtype)")


# Filled by expect_at_least/expect_at_most while a check runs; the plugin moves them into the check's result.
THRESHOLDS: list[dict] = []


def expect_at_least(value: Any, bar: float, what: str, hint: str | None = None,
                    mistakes: Sequence[Mistake] = ()) -> float:
    """A threshold check (accuracy and the like): `value >= bar`. The margin is reported by `grader check`.
    A mistake's `result` here is a test of the value (or an explanation found by the check beforehand)."""
    __tracebackhide__ = True
    number = expect_number(value, what)
    THRESHOLDS.append({"what": what, "value": number, "bar": bar, "margin": number - bar})
    if not number >= bar:
        fail(_("{what} is {value}, expected at least {bar}").format(what=what, value=f"{number:.4g}", bar=f"{bar:g}"),
             _diagnosed(number, mistakes, lambda a, b: bool(b)) or hint)
    return number


def expect_at_most(value: Any, bar: float, what: str, hint: str | None = None,
                   mistakes: Sequence[Mistake] = ()) -> float:
    """A threshold check (a loss or an error): `value <= bar`. The margin is reported by `grader check`."""
    __tracebackhide__ = True
    number = expect_number(value, what)
    THRESHOLDS.append({"what": what, "value": number, "bar": bar, "margin": bar - number})
    if not number <= bar:
        fail(_("{what} is {value}, expected at most {bar}").format(what=what, value=f"{number:.4g}", bar=f"{bar:g}"),
             _diagnosed(number, mistakes, lambda a, b: bool(b)) or hint)
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
    """The ATen operators, whatever Python API reached them."""

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


class _ForbidFunctions(TorchFunctionMode):
    """The Python-level functions of the same names (an operator such as scaled_dot_product_attention reaches
    the dispatcher under another name, e.g. `_scaled_dot_product_flash_attention_for_cpu`)."""

    def __init__(self, ops: dict[str, str]):
        super().__init__()
        self.ops = ops

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if getattr(func, "__name__", None) in self.ops:
            raise ForbiddenCall(self.ops[func.__name__])
        return func(*args, **(kwargs or {}))


@contextlib.contextmanager
def forbid_ops(ops: Iterable[str], message: str):
    """Make the named operators fail with `message` (e.g. "convolution": F.conv2d, nn.Conv2d, torch.conv2d).

    Each name must be an ATen operator (`torch.ops.aten.<name>`); it is refused both at the dispatcher, below
    the Python API (no alias or import style gets around it), and as the Python function of that name."""
    names = list(ops)
    unknown = [name for name in names if not hasattr(torch.ops.aten, name)]
    if unknown:
        raise ValueError(f"forbid_ops: not ATen operators: {', '.join(unknown)}")
    forbidden = {name: message for name in names}
    with _ForbidFunctions(forbidden), _ForbidOps(forbidden):
        yield


def public_checks(hidden_file: str) -> types.ModuleType:
    """The public check module beside a hidden one (`test_<module>.py` beside `test_<module>_hidden.py`), loaded
    as a plain module, so that hidden checks reuse its readers and diagnoses: `public = public_checks(__file__)`."""
    hidden = Path(hidden_file)
    name = hidden.name.removesuffix(HIDDEN_SUFFIX) + ".py"
    spec = importlib.util.spec_from_file_location(f"_{hidden.parent.name}_public_checks", hidden.with_name(name))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
