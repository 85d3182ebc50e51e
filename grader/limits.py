"""Time limits that fit the work: a check's limit follows from how long the reference solution takes for it.

    limit = max(FLOOR, MULTIPLE x reference time) x slowness        (a check's own `timeout` marker wins)

The reference times are measured by `grader check` and kept with the course in `exercises/reference-times.json`
(committed; a student release ships its public part), together with how long a tiny fixed workload took on
the machine that measured them. At the start of a run the grader times that workload again: `slowness` is
how much slower this machine is now (a laptop, a loaded grading server; never below 1), and every limit
is scaled by it. A check without a reference time gets the course's default (`grader_timeout`, 60 s).

A student function that ran past a limit is met by later checks too (an endless loop in `conv2d` is in every
check that calls it): once one has timed out, a later check that calls it gets SHORT_MULTIPLE x its own
reference time (at least SHORT_FLOOR), so that the loop is paid for once. A submission's whole budget in
`grader batch` is BUDGET_MULTIPLE x the reference time of everything graded (at least BUDGET_FLOOR).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

TIMINGS = "exercises/reference-times.json"
MULTIPLE, FLOOR = 20.0, 5.0  # the floor leaves room for one-time costs: a first import, a first allocation
SHORT_MULTIPLE, SHORT_FLOOR = 3.0, 1.0
BUDGET_MULTIPLE, BUDGET_FLOOR = 10.0, 120.0
UNMEASURED_BUDGET = 1800.0  # a submission's budget where the course has no reference times


def rule() -> str:
    """A check's limit in words, in the language in use."""
    from grader.i18n import _

    return _("{multiple} x the reference's time, at least {floor} s, scaled to this machine's speed").format(
        multiple=f"{MULTIPLE:g}", floor=f"{FLOOR:g}")


BUDGET_RULE = (f"{BUDGET_MULTIPLE:g} x the reference's time of everything graded, at least {BUDGET_FLOOR:g} s "
               f"({UNMEASURED_BUDGET:g} s without reference times)")


MAX_SLOWNESS = 10.0  # a machine so loaded that the workload takes longer than this is not trusted further


def workload() -> float:
    """Seconds of a tiny fixed workload (interpreted Python and small tensor operations): the fastest of five
    (a few milliseconds each), so that one unlucky time slice on a busy machine does not count."""
    import torch

    x = torch.linspace(-1.0, 1.0, 64 * 64, dtype=torch.float64).reshape(64, 64)
    torch.tanh(x @ x.T)  # the first call of an operation pays for setting it up
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        total = 0
        for i in range(20_000):
            total += i * i % 7
        for _ in range(30):
            x = torch.tanh(x @ x.T / 64)
        best = min(best, time.perf_counter() - start)
    return best


@dataclass
class Timings:
    calibration: float | None = None  # seconds of `workload()` where the reference times were measured
    checks: dict[str, float] = field(default_factory=dict)  # check id -> seconds, on the reference solution

    @classmethod
    def load(cls, root: Path) -> Timings:
        path = Path(root) / TIMINGS
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(float(data["calibration"]), {str(k): float(v) for k, v in data["checks"].items()})
        except (OSError, ValueError, KeyError, TypeError):
            return cls()

    def save(self, root: Path) -> Path:
        path = Path(root) / TIMINGS
        data = {
            "about": "The reference solution's time for each check, in seconds, and the time of the grader's fixed "
                     "workload where they were measured. Written by `grader check`; time limits follow from it "
                     "(see grader/limits.py).",
            "calibration": round(self.calibration or 0.0, 5),
            "checks": {k: round(v, 4) for k, v in sorted(self.checks.items())},
        }
        path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return path

    def slowness(self, measured: float) -> float:
        """How much slower this machine is now than the one that measured the times (at least 1)."""
        if not self.calibration or measured <= 0:
            return 1.0
        return min(MAX_SLOWNESS, max(1.0, measured / self.calibration))

    def limit(self, check_id: str, default: float, slowness: float) -> float:
        reference = self.checks.get(check_id)
        if reference is None:
            return default * slowness
        return max(FLOOR, MULTIPLE * reference) * slowness

    def short_limit(self, check_id: str, slowness: float) -> float:
        return max(SHORT_FLOOR, SHORT_MULTIPLE * self.checks.get(check_id, SHORT_FLOOR)) * slowness

    def budget(self, exercises: list[str], slowness: float = 1.0) -> float | None:
        """The whole time one submission of these exercises may take, or None without reference times."""
        times = [t for cid, t in self.checks.items() if any(f"exercises/{name}/" in cid for name in exercises)]
        if not times:
            return None
        return max(BUDGET_FLOOR, BUDGET_MULTIPLE * sum(times)) * slowness


def shortened_message(function: str, limit: float) -> str:
    """Why a check whose limit was cut (a function that already ran past a limit) timed out."""
    from grader.i18n import _

    return _("{function} timed out in an earlier check, and did not return within this check's shortened limit "
             "of {limit} s").format(function=function, limit=f"{limit:.3g}")
