"""Submissions whose code is suspiciously alike, per exercise: copydetect's fingerprints, with the released
stub as boilerplate. Evidence for a person to look at; it never changes a grade.

Each student module is tokenized and normalized by copydetect (every variable name becomes V, every function
name F, every string S; comments and whitespace dropped) and cut into k-grams of NOISE characters, every one
kept as a fingerprint. The k-grams of the stub (`exercises/NN_name/<module>.py`) are removed first, so the
scaffolding everyone was given never counts. Every pair is compared (copydetect's `compare_files`, 0.15 to
0.7 ms a pair: 300 submissions take 8 to 31 CPU seconds, see benchmarks/similarity.py). A pair's score, for
each side, is the share of that side's remaining code found in the other; a pair is reported when the larger
of the two reaches the threshold and the code in common is at least MIN_OVERLAP normalized characters.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

DEFAULT_THRESHOLD = 0.8  # a pair is reported when one side has at least this share of its own code in the other
NOISE = 25  # copydetect's noise threshold: shorter matches (in normalized characters) are noise
GUARANTEE = 25  # copydetect's guarantee threshold: as its default, every k-gram is kept (no winnowing), which
# also keeps the scores the same from run to run (winnowing picks by Python's per-process string hashes)
MIN_OVERLAP = 3 * NOISE  # less code in common than this is too little to report, whatever its share


@dataclass
class Match:
    """Two submissions of one exercise whose code overlaps."""

    students: tuple[str, str]
    scores: tuple[float, float]  # the share of each one's own code (stub removed) that is found in the other's
    overlap: int  # normalized characters in common
    code: tuple[str, str]
    regions: tuple[list[tuple[int, int]], list[tuple[int, int]]]  # the matching (start, end) offsets in each code

    @property
    def score(self) -> float:
        return max(self.scores)

    def highlighted(self, side: int) -> str:
        """One side's code as escaped HTML, the regions it shares with the other side in <mark>."""
        import numpy as np
        from copydetect.utils import highlight_overlap

        slices = np.array(self.regions[side], dtype=int).reshape(-1, 2).T  # (starts, ends), as copydetect has them
        html, _ = highlight_overlap(self.code[side], slices, "<mark>", "</mark>", escape_html=True)
        return html


@dataclass
class ExerciseSimilarity:
    exercise: str
    module: str
    threshold: float
    compared: list[str] = field(default_factory=list)  # students whose module was fingerprinted
    not_compared: dict[str, str] = field(default_factory=dict)  # student -> why not
    matches: list[Match] = field(default_factory=list)  # at or above the threshold, most alike first
    pairs: int = 0  # pairs of compared submissions
    seconds: float = 0.0


def read_modules(records: list[dict], contract: dict[str, str]) -> dict[str, dict[str, str] | str]:
    """Each student's modules as graded ("05_cnn/cnn.py" -> source), read by the batch's intake from the
    record's `submission`; or why they cannot be compared (missing on disk, changed since it was graded).
    The only place that reads submissions."""
    from grader import intake

    found: dict[str, dict[str, str] | str] = {}
    for record in records:
        student, entry = str(record["student"]), Path(str(record.get("submission", "")))
        if not record.get("submission") or not (entry.is_dir() or entry.is_file()):
            found[student] = f"the submission {entry} is missing on disk"
            continue
        submission = intake.read(entry, {name: contract[name] for name in sorted(_graded(record) & set(contract))})
        if record.get("submission_hash") and submission.hash != record["submission_hash"]:
            found[student] = f"{entry} has changed since it was graded (grade it again)"
            continue
        found[student] = {name: source.decode("utf-8", errors="replace") for name, source in submission.modules.items()}
    return found


def boilerplate_hashes(stub: str):
    """Every k-gram hash of the stub (no winnowing, as copydetect does for boilerplate)."""
    import numpy as np

    return np.unique(np.array(sorted(fingerprint(stub, window=1).hashes), dtype=np.int64))


def find_matches(codes: dict[str, str], stub: str = "", threshold: float = DEFAULT_THRESHOLD) -> list[Match]:
    """The pairs of `codes` (student -> source of one module) at or above `threshold`, most alike first."""
    from copydetect import compare_files

    boilerplate = boilerplate_hashes(stub) if stub.strip() else None
    prints = {student: fingerprint(code, boilerplate=boilerplate) for student, code in sorted(codes.items())}
    matches = []
    for (a, fa), (b, fb) in combinations(prints.items(), 2):
        overlap, scores, slices = compare_files(fa, fb)
        if overlap >= MIN_OVERLAP and max(scores) >= threshold:
            matches.append(Match((a, b), (float(scores[0]), float(scores[1])), int(overlap), (fa.raw_code, fb.raw_code),
                                 (_regions(slices[0]), _regions(slices[1]))))
    matches.sort(key=lambda m: (-m.score, -m.overlap, m.students))
    return matches


def analyse(records: list[dict], root: Path, threshold: float = DEFAULT_THRESHOLD) -> list[ExerciseSimilarity]:
    """Similarity per exercise graded in `records` (the batch's student files) of the course at `root`."""
    from grader import course

    names = sorted(set().union(*map(_graded, records)))
    known = {ex.name: ex for ex in course.exercises(root)}
    contract = {name: known[name].module for name in names if name in known}
    modules = read_modules(records, contract)
    results = []
    for name, module in contract.items():
        start = time.perf_counter()
        result = ExerciseSimilarity(name, module, threshold)
        codes = {}
        for record in records:
            student = str(record["student"])
            if name not in _graded(record):
                continue
            found = modules[student]
            if isinstance(found, str):
                result.not_compared[student] = found
            elif f"{name}/{module}.py" not in found:
                result.not_compared[student] = f"no {name}/{module}.py in the submission"
            else:
                codes[student] = found[f"{name}/{module}.py"]
        stub = known[name].path / f"{module}.py"
        result.matches = find_matches(codes, stub.read_text(encoding="utf-8", errors="replace") if stub.is_file() else "",
                                      threshold)
        result.compared = sorted(codes)
        result.pairs = len(codes) * (len(codes) - 1) // 2
        result.seconds = time.perf_counter() - start
        results.append(result)
    return results


def _graded(record: dict) -> set[str]:
    """The exercises a student's record was graded on."""
    return {str(e.get("name")) for e in record.get("exercises", [])}


def fingerprint(code: str, boilerplate=None, window: int = GUARANTEE - NOISE + 1):
    """copydetect's fingerprint of one Python module, `boilerplate` hashes removed."""
    from copydetect import CodeFingerprint

    return CodeFingerprint("module.py", NOISE, window, boilerplate, filter=True, language="python",
                           fp=io.StringIO(code))


def _regions(slices) -> list[tuple[int, int]]:
    """copydetect's 2xN array of (starts, ends) as a list of (start, end)."""
    return [(int(start), int(end)) for start, end in slices.T] if len(slices) and len(slices[0]) else []
