"""Grading results: one record per check, grouped by exercise, and their JSON form (the `--json` schema)."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from grader.course import check_key
from grader.i18n import _

OUTCOMES = ("passed", "failed", "error", "timeout", "skipped", "crashed")  # crashed: the grading process died (batch)


HIDDEN_FEEDBACK = ("outcome", "message")  # what an export shows of a hidden check; "outcome" is the default
MAX_MESSAGE = 2000  # characters of a message kept from an untrusted source


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
    traceback: str = ""  # the student's own frames of the failure, when asked for (--tb=long, grader run -v)

    @property
    def name(self) -> str:
        return self.id.rsplit("::", 1)[-1]

    def to_dict(self) -> dict:
        data = asdict(self)
        data["duration"] = round(self.duration, 3)
        return data

    @classmethod
    def from_dict(cls, data: dict, exercise: str | None = None) -> CheckResult:
        """A result read from JSON that is not trusted to be well formed (a grading process's message, a file):
        every field is checked, and a malformed one raises ValueError, TypeError or KeyError."""
        outcome = str(data["outcome"])
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}")
        max_points, points = float(data["max_points"]), float(data["points"])
        if not 0 <= points <= max_points:
            raise ValueError(f"points {points} outside 0..{max_points}")
        thresholds = data.get("thresholds") or []
        if not isinstance(thresholds, list):
            raise TypeError("thresholds must be a list")
        return cls(
            id=str(data["id"]), exercise=str(data["exercise"] if exercise is None else exercise), outcome=outcome,
            points=points, max_points=max_points, hidden=bool(data["hidden"]),
            message=str(data.get("message", ""))[:MAX_MESSAGE], duration=float(data.get("duration", 0.0)),
            thresholds=[dict(t) for t in thresholds][:50], traceback=str(data.get("traceback", ""))[:MAX_MESSAGE * 4],
        )


SUBMISSION = "submission "  # a report's target, before the submission's name


def submission_target(name: object) -> str:
    """A submission's report target, as the JSON keeps it (English, stable)."""
    return f"{SUBMISSION}{name}"


def shown_target(target: str) -> str:
    """A report's target as the scoreboard shows it, in the language in use."""
    if target.startswith(SUBMISSION):
        return _("submission {name}").format(name=target[len(SUBMISSION):])
    return target


def format_points(value: float) -> str:
    """How points are written everywhere: `7`, `2.5`."""
    return f"{float(value):g}"


def hidden_id(exercise: str, key: str) -> str:
    """The opaque name of a hidden check (`key` as `CheckMeta.key`) where its real name must not show."""
    return hashlib.sha256(f"{exercise}/{key}".encode()).hexdigest()[:12]


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
    lang: str = "en"  # the language of the messages
    notes: list[str] = field(default_factory=list)  # one line each: what the grading run wants the reader to know
    # exercise -> {"checks": n, "points": p}: the hidden checks a student release does not have
    hidden_elsewhere: dict[str, dict] = field(default_factory=dict)

    @property
    def checks(self) -> list[CheckResult]:
        return [c for e in self.exercises for c in e.checks]

    @property
    def total(self) -> float:
        return sum(e.score for e in self.exercises)

    @property
    def max_total(self) -> float:
        return sum(e.max_score for e in self.exercises)

    @property
    def all_passed(self) -> bool:
        checks = self.checks
        return bool(checks) and all(c.outcome in ("passed", "skipped") for c in checks)

    @classmethod
    def from_checks(cls, target: str, seed: int, device: str, checks: list[CheckResult], **kw) -> Report:
        by_name: dict[str, ExerciseResult] = {}
        for check in checks:
            by_name.setdefault(check.exercise, ExerciseResult(check.exercise)).checks.append(check)
        return cls(target, seed, device, [by_name[n] for n in sorted(by_name)], **kw)

    def to_dict(self, hidden_feedback: str = "message") -> dict:
        """The `--json` schema. With `hidden_feedback="outcome"` a hidden check keeps its points and outcome,
        but its name and message are replaced by an opaque id (what students may be shown)."""
        if hidden_feedback not in HIDDEN_FEEDBACK:
            raise ValueError(f"hidden_feedback {hidden_feedback!r}: choose {' or '.join(HIDDEN_FEEDBACK)}")
        return {
            "target": self.target,
            "seed": self.seed,
            "device": self.device,
            "lang": self.lang,
            "hidden_feedback": hidden_feedback,
            "total": self.total,
            "max_total": self.max_total,
            "notes": list(self.notes),
            "hidden_elsewhere": dict(self.hidden_elsewhere),
            "exercises": [
                {
                    "name": e.name,
                    "score": e.score,
                    "max_score": e.max_score,
                    "status": e.status,
                    "duration": round(e.duration, 3),
                    "checks": [_shown(c, hidden_feedback) for c in e.checks],
                }
                for e in self.exercises
            ],
        }

    @classmethod
    def from_dict(cls, data: dict) -> Report:
        """The inverse of `to_dict`, for JSON that is not trusted (raises ValueError, TypeError or KeyError)."""
        exercises = [
            ExerciseResult(str(e["name"]), [CheckResult.from_dict(c, exercise=str(e["name"])) for c in e["checks"]])
            for e in data["exercises"]
        ]
        notes = [str(note) for note in data.get("notes", [])]
        elsewhere = {str(name): {"checks": int(v["checks"]), "points": float(v["points"])}
                     for name, v in dict(data.get("hidden_elsewhere", {})).items()}
        return cls(str(data["target"]), int(data["seed"]), str(data["device"]), exercises,
                   lang=str(data.get("lang", "en")), notes=notes, hidden_elsewhere=elsewhere)


def hidden_lines(report: Report) -> list[str]:
    """What a student release's run did not check: one line per exercise with hidden checks elsewhere."""
    lines = []
    for exercise in report.exercises:
        unseen = report.hidden_elsewhere.get(exercise.name)
        if unseen:
            lines.append(_("{exercise}: public checks {score} / {max} points; {more} more points are in {n} checks "
                           "your instructor runs").format(exercise=exercise.name, score=format_points(exercise.score),
                                                          max=format_points(exercise.max_score),
                                                          more=format_points(unseen["points"]), n=unseen["checks"]))
    return lines


def _shown(check: CheckResult, hidden_feedback: str) -> dict:
    data = check.to_dict()
    if check.hidden and hidden_feedback == "outcome":
        opaque = hidden_id(check.exercise, check_key(check.id))
        data.update(id=f"{check.exercise}::hidden-{opaque}", message="", thresholds=[], traceback="")
    return data


_UMASK = os.umask(0)
os.umask(_UMASK)


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename: a reader never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if hasattr(os, "fchmod"):  # not on Windows
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
