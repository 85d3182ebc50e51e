"""Noticing student code that replaces what the checks and the grader rely on, and putting it back.

`grader.checks` binds its comparison functions at import, but a check also calls oracles at run time
(`F.conv2d(x, w)` as the expected value, `isinstance`, `torch.randn`, ...), and the verdict goes through the
grader's own objects and pytest's. A submission that replaces one of them while a check runs
(`F.conv2d = lambda *a, **k: my_output`, `Grading.pytest_runtest_logreport = ...`, `TestReport.passed = True`)
would decide its own verdict. The grading process snapshots the namespaces below once the checks are
collected, before any student code runs; after each check it compares, fails the check if something was
replaced, and restores the originals so that the next check runs against the real library.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Iterable

MODULES = (
    "builtins", "math", "operator", "functools", "itertools", "json", "random", "struct", "os", "sys",
    "numpy", "numpy.linalg", "numpy.testing", "numpy.random",
    "torch", "torch.nn", "torch.nn.functional", "torch.nn.init", "torch.autograd", "torch.linalg", "torch.testing",
    "torch.optim", "torch.utils.data",
    "pytest", "_pytest.runner", "_pytest.reports", "_pytest.python", "_pytest.main", "pluggy", "pytest_timeout",
)
CLASSES = ("torch.Tensor", "torch.nn.Module", "torch.nn.Parameter", "torch.Size", "torch.nn.Linear", "torch.nn.Conv2d",
           "_pytest.reports.TestReport", "_pytest.runner.CallInfo", "pluggy.HookCaller", "pluggy.PluginManager")
GRADER = "grader"  # every module of the grader, and every class it defines, is watched too

_MISSING = object()
_vars, _callable, _isinstance, _setattr, _type = vars, callable, isinstance, setattr, type
_WATCHED_VALUES = (type, types.ModuleType, list, dict, set)


def _resolve(name: str):
    module, _, attr = name.rpartition(".")
    return getattr(importlib.import_module(module), attr)


class Guard:
    def __init__(self, extra_modules: Iterable[types.ModuleType] = (), objects: Iterable[object] = ()):
        owners: list = []
        for name in MODULES:
            module = sys.modules.get(name)
            if module is None:
                try:
                    module = importlib.import_module(name)
                except ImportError:
                    continue
            owners.append((name, module, False))
        grader_modules = [(name, m) for name, m in sorted(sys.modules.items())
                          if m is not None and (name == GRADER or name.startswith(GRADER + "."))]
        owners += [(name, module, False) for name, module in grader_modules]
        classes = [_resolve(name) for name in CLASSES if _resolvable(name)]
        classes += [value for _, module in grader_modules for value in _vars(module).values()
                    if _isinstance(value, type) and getattr(value, "__module__", "").startswith(GRADER)]
        owners += [(f"{c.__module__}.{c.__qualname__}", c, True) for c in dict.fromkeys(classes)]
        owners += [(module.__name__, module, False) for module in extra_modules]
        owners += [(f"the grader's {_type(obj).__name__}", obj, True) for obj in objects]
        # Per namespace, the (name, value) pairs to watch. Module globals that are data change legitimately;
        # functions, classes, modules and the containers an object keeps its state in do not.
        self._watched: list[tuple[str, object, list[tuple[str, object]]]] = []
        self._code: list[tuple[str, types.FunctionType, tuple]] = []  # a function's code can be swapped in place
        for label, owner, everything in owners:
            items = [(key, value) for key, value in list(_vars(owner).items())
                     if _callable(value) or _isinstance(value, _WATCHED_VALUES) or (everything and _is_function(value))]
            self._watched.append((label, owner, items))
            self._code += [(f"{label}.{key}", value, _state(value)) for key, value in items
                           if _isinstance(value, types.FunctionType)]

    def check(self) -> list[str]:
        """The names replaced or deleted since the snapshot ("torch.nn.functional.conv2d"); restores them."""
        changed = []
        for label, owner, items in self._watched:
            get = _vars(owner).get
            for key, value in items:
                if get(key, _MISSING) is not value:
                    changed.append(f"{label}.{key}")
                    try:
                        _setattr(owner, key, value)
                    except (AttributeError, TypeError):
                        pass
        for label, function, state in self._code:
            if any(now is not then for now, then in zip(_state(function), state)):
                changed.append(f"{label} (its code)")
                function.__code__, function.__defaults__, function.__kwdefaults__ = state
        return changed


def _resolvable(name: str) -> bool:
    try:
        _resolve(name)
        return True
    except (ImportError, AttributeError):
        return False


def _state(function: types.FunctionType) -> tuple:
    return function.__code__, function.__defaults__, function.__kwdefaults__


def _is_function(value: object) -> bool:
    return _isinstance(value, (staticmethod, classmethod, property))
