"""Item analysis of a batch: per check, how many students passed it and why the others did not.

Failure messages are grouped by their shape: two messages that differ only in numbers, shapes, indices, paths
or the student's own id are one group ("expected shape (64, 10), got (64, 1, 10)" and "expected shape (32, 10),
got (32, 10, 1)" are one; "expected dtype torch.float64, got torch.float32" is not "... float32, got float64").
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass, field

FAILED = ("failed", "error", "timeout", "crashed")  # outcomes that cost points; skipped is not one

_PATH = re.compile(r"(?:[A-Za-z]:)?[\w.~-]*(?:[/\\][\w.~-]+)+|\b[\w-]+\.py\b")
_HEX = re.compile(r"\b0x[0-9a-fA-F]+\b")
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+|nan|inf)(?!\w)")
_SHAPE = re.compile(r"[(\[]\s*#(?:\s*,\s*#)*\s*,?\s*[)\]]")  # (#, #), [#], [[#, #], [#, #]] once nested ones are #


def message_key(message: str, student: str = "", submission: str = "") -> str:
    """The shape of a message: the student's id and submission path, paths, numbers and shapes replaced."""
    text = message
    for own, placeholder in ((submission, "<submission>"), (student, "<student>")):
        if own:
            text = re.sub(rf"(?<!\w){re.escape(own)}(?!\w)", placeholder, text)
    text = _PATH.sub("<path>", text)
    text = _HEX.sub("#", text)
    text = _NUMBER.sub("#", text)
    while True:
        collapsed = _SHAPE.sub("#", text)
        if collapsed == text:
            return " ".join(text.split())
        text = collapsed


@dataclass
class MessageGroup:
    """The students whose message for one check has one shape."""

    key: str
    messages: Counter = field(default_factory=Counter)  # the messages as written -> students
    students: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.students)

    @property
    def example(self) -> str:
        """The group's most frequent message (the first in order on a tie)."""
        return min(self.messages.items(), key=lambda item: (-item[1], item[0]))[0]


def group_messages(failures: list[tuple[str, str, str]]) -> list[MessageGroup]:
    """(student, submission, message) triples grouped by `message_key`, the largest group first."""
    groups: dict[str, MessageGroup] = {}
    for student, submission, message in failures:
        key = message_key(message, student, submission)
        group = groups.setdefault(key, MessageGroup(key))
        group.messages[message] += 1
        group.students.append(student)
    return sorted(groups.values(), key=lambda g: (-g.count, g.example))


@dataclass
class CheckStats:
    id: str
    exercise: str
    hidden: bool
    max_points: float
    outcomes: Counter = field(default_factory=Counter)  # outcome -> students
    groups: list[MessageGroup] = field(default_factory=list)  # why it was not passed, the largest group first
    skip_reasons: Counter = field(default_factory=Counter)

    @property
    def name(self) -> str:
        return self.id.rsplit("::", 1)[-1]

    @property
    def graded(self) -> int:
        """Students for whom the check ran (not skipped)."""
        return sum(n for outcome, n in self.outcomes.items() if outcome != "skipped")

    @property
    def not_passed(self) -> int:
        return sum(self.outcomes[outcome] for outcome in FAILED)

    @property
    def pass_rate(self) -> float | None:
        """The share of the students it ran for who passed it; None when it was skipped for everyone."""
        return self.outcomes["passed"] / self.graded if self.graded else None


def item_analysis(reports: list[tuple[str, str, dict]]) -> list[CheckStats]:
    """Every check of (student, submission, report as `Report.to_dict`) triples, the most failed first; the
    checks skipped for every student come last."""
    stats: dict[str, CheckStats] = {}
    failures: dict[str, list[tuple[str, str, str]]] = {}
    for student, submission, report in reports:
        for exercise in report.get("exercises", []):
            for check in exercise.get("checks", []):
                item = stats.setdefault(check["id"], CheckStats(check["id"], exercise["name"], bool(check["hidden"]),
                                                                float(check["max_points"])))
                item.max_points = max(item.max_points, float(check["max_points"]))
                item.outcomes[check["outcome"]] += 1
                if check["outcome"] == "skipped":
                    item.skip_reasons[check.get("message") or "skipped"] += 1
                elif check["outcome"] != "passed":
                    text = check.get("message") or check["outcome"]
                    failures.setdefault(check["id"], []).append((student, submission, text))
    for check_id, items in failures.items():
        stats[check_id].groups = group_messages(items)
    return sorted(stats.values(), key=_most_failed_first)


def _most_failed_first(item: CheckStats) -> tuple:
    rate = item.pass_rate
    return (rate is None, rate if rate is not None else 0.0, -item.not_passed, item.exercise, item.id)


@dataclass
class Distribution:
    """The scores of one exercise (or of the totals) across the class."""

    name: str
    scores: list[float]
    top: float  # the most points on offer

    @property
    def mean(self) -> float:
        return statistics.fmean(self.scores) if self.scores else 0.0

    @property
    def median(self) -> float:
        return statistics.median(self.scores) if self.scores else 0.0

    @property
    def full_marks(self) -> int:
        return sum(score >= self.top > 0 for score in self.scores)


def distributions(reports: list[dict]) -> tuple[Distribution, list[Distribution]]:
    """The class's totals and each exercise's scores, from reports as `Report.to_dict`."""
    totals = Distribution("total", [float(r["total"]) for r in reports],
                          max((float(r["max_total"]) for r in reports), default=0.0))
    by_name: dict[str, Distribution] = {}
    for report in reports:
        for exercise in report.get("exercises", []):
            item = by_name.setdefault(exercise["name"], Distribution(exercise["name"], [], 0.0))
            item.scores.append(float(exercise["score"]))
            item.top = max(item.top, float(exercise["max_score"]))
    return totals, [by_name[name] for name in sorted(by_name)]
