"""Grading results: one record per check, grouped by exercise, and their JSON form (the `--json` schema)."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

OUTCOMES = ("passed", "failed", "error", "timeout", "skipped", "crashed")  # crashed: the grading process died (batch)


@dataclass
class CheckResult:
    id: str  # pytest node id, the same for every target: "exercises/05_cnn/test_cnn.py::test_conv2d_values"
    exercise: str
    outcome: str  # one of OUTCOMES
    points: float
    max_points: float
    hidden: bool
    message: str = ""
    duration: float = 0.0
    thresholds: list[dict] = field(default_factory=list)  # from expect_at_least / expect_at_most

    @property
    def name(self) -> str:
        return self.id.rsplit("::", 1)[-1]


@dataclass
class ExerciseResult:
    name: str
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def score(self) -> float:
        return sum(c.points for c in self.checks)

    @property
    def max_score(self) -> float:
        # A skipped check (a GPU check on a CPU run) is not gradable here: its points are not on offer.
        return sum(c.max_points for c in self.checks if c.outcome != "skipped")

    @property
    def duration(self) -> float:
        return sum(c.duration for c in self.checks)

    @property
    def passed(self) -> int:
        return sum(c.outcome == "passed" for c in self.checks)

    @property
    def status(self) -> str:
        graded = [c for c in self.checks if c.outcome != "skipped"]
        if not graded:
            return "skipped"
        if all(c.outcome == "passed" for c in graded):
            return "passed"
        if any(c.outcome in ("error", "timeout", "crashed") for c in graded) and self.score == 0:
            return "error"
        return "failed"


@dataclass
class Report:
    target: str
    seed: int
    device: str
    exercises: list[ExerciseResult] = field(default_factory=list)
    hidden_messages: bool = True  # False: a failing hidden check says only that it failed

    @property
    def total(self) -> float:
        return sum(e.score for e in self.exercises)

    @property
    def max_total(self) -> float:
        return sum(e.max_score for e in self.exercises)

    @property
    def all_passed(self) -> bool:
        checks = [c for e in self.exercises for c in e.checks]
        return bool(checks) and all(c.outcome in ("passed", "skipped") for c in checks)

    @classmethod
    def from_checks(cls, target: str, seed: int, device: str, checks: list[CheckResult], **kw) -> "Report":
        by_name: dict[str, ExerciseResult] = {}
        for check in checks:
            by_name.setdefault(check.exercise, ExerciseResult(check.exercise)).checks.append(check)
        return cls(target, seed, device, [by_name[n] for n in sorted(by_name)], **kw)

    def shown_message(self, check: CheckResult) -> str:
        if check.hidden and not self.hidden_messages and check.outcome != "passed":
            return f"hidden check {check.outcome}"
        return check.message

    def to_dict(self) -> dict:
        return {
            "target": self.target,
            "seed": self.seed,
            "device": self.device,
            "total": self.total,
            "max_total": self.max_total,
            "exercises": [
                {
                    "name": e.name,
                    "score": e.score,
                    "max_score": e.max_score,
                    "status": e.status,
                    "duration": round(e.duration, 3),
                    "checks": [
                        {**_check_dict(c), "message": self.shown_message(c)} for c in e.checks
                    ],
                }
                for e in self.exercises
            ],
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Report":
        exercises = [
            ExerciseResult(e["name"], [CheckResult(exercise=e["name"], **c) for c in e["checks"]])
            for e in data["exercises"]
        ]
        return cls(data["target"], data["seed"], data["device"], exercises)


def _check_dict(check: CheckResult) -> dict:
    data = asdict(check)
    del data["exercise"]
    data["duration"] = round(check.duration, 3)
    return data


_UMASK = os.umask(0)
os.umask(_UMASK)


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename: a reader never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes it owner-only; results are ordinary files
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, data: dict) -> None:
    write_atomic(path, (json.dumps(data, indent=2) + "\n").encode())
