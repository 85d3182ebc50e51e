"""What a check declares about itself, read in one place: its points, visibility, time limit and device.

    @pytest.mark.points(2)        # default DEFAULT_POINTS
    @pytest.mark.timeout(120)     # pytest-timeout's marker; without one the course's limit applies
    @pytest.mark.cuda             # needs a CUDA GPU: skipped unless grading runs with --device cuda
    def test_train_reaches_accuracy(student, device): ...

Visibility comes from the file name (`*_hidden.py`). Every grading path (the plugin's results, the batch
worker's collection, the notebooks' cells, `grader list`) reads checks through `CheckMeta.of`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

from grader.course import check_key, exercise_of, is_hidden
from grader.i18n import N_

DEFAULT_POINTS = 1.0
DEVICES = ("cpu", "cuda", "mps", "auto")  # where checks run; auto: CUDA, else Apple's MPS, else the CPU
CUDA_SKIP = N_("needs a CUDA GPU: grade with --device cuda on a machine with one")  # a `cuda` check's skip reason


@dataclass(frozen=True)
class CheckMeta:
    id: str  # pytest node id, relative to the course root: "exercises/05_cnn/test_cnn.py::test_x[1-0]"
    exercise: str
    hidden: bool
    points: float
    timeout: float | None  # the check's own limit (its `timeout` marker), None for the course's
    cuda: bool
    limit: float | None = None  # the time limit this run gives it (set by the plugin)

    @classmethod
    def of(cls, item: pytest.Item) -> CheckMeta:
        points = item.get_closest_marker("points")
        return cls(
            id=item.nodeid,
            exercise=exercise_of(Path(item.path)),
            hidden=is_hidden(item.path),
            points=float(points.args[0]) if points else DEFAULT_POINTS,
            timeout=own_timeout(item),
            cuda=item.get_closest_marker("cuda") is not None,
        )

    @property
    def key(self) -> str:
        """The id without its folders: `test_cnn.py::test_x[1-0]`."""
        return check_key(self.id)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> CheckMeta:
        """From a message of a grading process, which is not trusted to be well formed."""
        timeout = data.get("timeout")
        limit = data.get("limit")
        return cls(str(data["id"]), str(data["exercise"]), bool(data["hidden"]), float(data["points"]),
                   float(timeout) if timeout else None, bool(data.get("cuda", False)),
                   float(limit) if limit else None)


def own_timeout(item: pytest.Item) -> float | None:
    """The limit set by the check's `timeout` marker (pytest-timeout's `timeout(s)` or `timeout=s`), if any."""
    marker = item.get_closest_marker("timeout")
    if marker is None:
        return None
    limit = marker.kwargs.get("timeout", marker.args[0] if marker.args else None)
    return float(limit) if limit else None
