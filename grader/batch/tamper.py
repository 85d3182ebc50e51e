"""Noticing student code that replaces functions the checks rely on, and putting them back.

`grader.checks` binds its comparison functions at import, but a check also calls oracles at run time
(`F.conv2d(x, w)` as the expected value, `isinstance`, `torch.randn`, ...). A submission that replaces one
of them while a check runs (`F.conv2d = lambda *a, **k: my_output`) would make the check compare its
result with itself. The grading process snapshots the namespaces below once the checks are collected,
before any student code runs; after each check it compares, fails the check if something was replaced,
and restores the originals so that the next check runs against the real library.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Iterable

MODULES = (
    "builtins", "math", "operator", "functools", "itertools", "json", "random",
    "numpy", "numpy.linalg", "numpy.testing", "numpy.random",
    "torch", "torch.nn", "torch.nn.functional", "torch.nn.init", "torch.autograd", "torch.linalg", "torch.testing",
    "torch.optim", "torch.utils.data",
    "pytest", "grader.checks", "grader.plugin", "grader.student", "grader.results", "grader.data",
)
CLASSES = ("torch.Tensor", "torch.nn.Module", "torch.nn.Parameter", "torch.Size", "torch.nn.Linear", "torch.nn.Conv2d")

_MISSING = object()
_vars, _callable, _isinstance, _setattr, _type = vars, callable, isinstance, setattr, type


def _resolve(name: str):
    module, _, attr = name.rpartition(".")
    return getattr(importlib.import_module(module), attr)


class Guard:
    def __init__(self, extra_modules: Iterable[types.ModuleType] = ()):
        owners: list = []
        for name in MODULES:
            module = sys.modules.get(name)
            if module is None:
                try:
                    module = importlib.import_module(name)
                except ImportError:
                    continue
            owners.append((name, module, False))
        for name in CLASSES:
            try:
                owners.append((name, _resolve(name), True))
            except (ImportError, AttributeError):
                pass
        for module in extra_modules:
            owners.append((module.__name__, module, False))
        # Per namespace, the (name, value) pairs to watch.
        self._watched: list[tuple[str, object, list[tuple[str, object]]]] = []
        for label, owner, is_class in owners:
            # Module globals that are data change legitimately; functions, classes and modules do not.
            items = [(key, value) for key, value in list(_vars(owner).items())
                     if is_class or _callable(value) or _isinstance(value, (type, types.ModuleType))]
            self._watched.append((label, owner, items))

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
        return changed
