"""The similarity step of `grader report` on a class of 300 generated submissions of one exercise.

    python benchmarks/similarity.py [--students 300] [--copies 10] [--threshold 0.8]

Two classes, written as submission folders into a temporary directory and compared as `grader report` does
(`grader.similarity.analyse`: the batch intake reads every module, the stub is boilerplate):

- varied: 01_linear_model written from the stub, each function from one of 3-4 different implementations,
  local names drawn at random, functions reordered, comments, debugging prints and a helper here and there.
  COPIES of them are copied by another student who renamed the variables, reordered the functions and
  changed the comments (and the prints). The planted copies must all be found.
- alike: 05_cnn, every student the reference with renamed locals and reordered functions: every pair
  matches nearly everywhere, the worst case for time (copydetect's comparison of two files costs the most
  when they share the most), not a class one meets.

Prints, per class, the wall-clock and CPU seconds of the whole step (CPU seconds do not depend on what else
the machine is doing), the pairs compared and reported and, for the varied class, the planted copies found,
their scores, and how alike the other pairs reported were written. The goal: the varied class of 300 in
under 60 s on a 2-core machine, every planted copy found.
"""

from __future__ import annotations

import argparse
import ast
import random
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader import similarity

GOAL = 60.0
NAMES = ["total", "acc", "s", "err", "res", "value", "tmp", "out", "running", "summed", "result", "loss", "g", "cur"]

# 01_linear_model: interchangeable bodies of every function; {a}, {b}, {c} are local names drawn per student.
BODIES = {
    "forward": [
        "return x * w",
        "return w * x",
        "{a} = x * w\n    return {a}",
        "return np.multiply(x, w)",
    ],
    "mse": [
        "{a} = 0.0\n    for {b}, {c} in zip(xs, ys):\n        {a} += (forward({b}, w) - {c}) ** 2\n"
        "    return {a} / len(xs)",
        "return sum((forward({b}, w) - {c}) ** 2 for {b}, {c} in zip(xs, ys)) / len(xs)",
        "{a} = np.asarray(xs, dtype=float) * w - np.asarray(ys, dtype=float)\n    return float(np.mean({a} ** 2))",
        "{a} = 0\n    for {b} in range(len(xs)):\n        {c} = forward(xs[{b}], w) - ys[{b}]\n"
        "        {a} = {a} + {c} * {c}\n    return {a} / len(xs)",
    ],
    "grid_search": [
        "w_list, mse_list = [], []\n    for {a} in ws:\n        w_list.append({a})\n"
        "        mse_list.append(mse(xs, ys, {a}))\n    return w_list, mse_list",
        "w_list = list(ws)\n    mse_list = [mse(xs, ys, {a}) for {a} in w_list]\n    return w_list, mse_list",
        "{b} = [({a}, mse(xs, ys, {a})) for {a} in ws]\n    return [p[0] for p in {b}], [p[1] for p in {b}]",
    ],
    "gradient": [
        "{a} = 0.0\n    for {b}, {c} in zip(xs, ys):\n        {a} += 2 * {b} * (forward({b}, w) - {c})\n"
        "    return {a} / len(xs)",
        "return sum(2 * {b} * ({b} * w - {c}) for {b}, {c} in zip(xs, ys)) / len(xs)",
        "{b} = np.asarray(xs, dtype=float)\n    {c} = np.asarray(ys, dtype=float)\n"
        "    return float(np.mean(2 * {b} * ({b} * w - {c})))",
        "{a} = 0\n    n = len(xs)\n    for {b} in range(n):\n        {a} += 2 * xs[{b}] * (xs[{b}] * w - ys[{b}]) / n\n"
        "    return {a}",
    ],
    "gradient_descent": [
        "w = w0\n    {a} = []\n    for _ in range(epochs):\n        {a}.append(mse(xs, ys, w))\n"
        "        w -= lr * gradient(xs, ys, w)\n    return w, {a}",
        "{b} = w0\n    {a} = []\n    for {c} in range(epochs):\n        cost = mse(xs, ys, {b})\n"
        "        {a}.append(cost)\n        grad = gradient(xs, ys, {b})\n        {b} = {b} - lr * grad\n"
        "    return {b}, {a}",
        "w, {a}, {c} = w0, [], 0\n    while {c} < epochs:\n        {a} += [mse(xs, ys, w)]\n"
        "        w = w - lr * gradient(xs, ys, w)\n        {c} += 1\n    return w, {a}",
    ],
    "sgd": [
        "w = w0\n    {a} = []\n    for _ in range(epochs):\n        for {b}, {c} in zip(xs, ys):\n"
        "            {a}.append((forward({b}, w) - {c}) ** 2)\n            w -= lr * gradient([{b}], [{c}], w)\n"
        "    return w, {a}",
        "w = w0\n    {a} = []\n    for epoch in range(epochs):\n        for {b}, {c} in zip(xs, ys):\n"
        "            loss = ({b} * w - {c}) ** 2\n            {a}.append(loss)\n"
        "            grad = 2 * {b} * ({b} * w - {c})\n            w = w - lr * grad\n    return w, {a}",
        "{b} = w0\n    {a} = []\n    for _ in range(epochs):\n        for i in range(len(xs)):\n"
        "            {c} = xs[i] * {b} - ys[i]\n            {a}.append({c} * {c})\n"
        "            {b} -= lr * 2 * xs[i] * {c}\n    return {b}, {a}",
    ],
}
COMMENTS = ["# loop over the data", "# TODO: check this", "# from the lecture", "# vectorized", "# accumulate",
            "# w moves against the gradient", "# FIXME", "# average over samples"]


def stub_functions(stub: str) -> tuple[str, dict[str, str]]:
    """The stub's header (docstring, imports) and each function's signature and docstring, without its body."""
    tree = ast.parse(stub)
    lines = stub.splitlines()
    header = "\n".join(lines[: tree.body[1].lineno - 1]) if len(tree.body) > 1 else ""
    heads = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            heads[node.name] = "\n".join(lines[node.lineno - 1: node.body[0].end_lineno])
    return header.rstrip() + "\n", heads


def varied_student(rng: random.Random, header: str, heads: dict[str, str],
                   choice: dict | None = None) -> tuple[str, dict]:
    """One student's 01_linear_model; `choice` (another student's) makes a disguised copy of that one."""
    if choice is None:
        choice = {name: rng.randrange(len(BODIES[name])) for name in BODIES}
        choice["print"] = {name: rng.random() < 0.2 for name in BODIES}
        choice["helper"] = rng.random() < 0.2
    order = list(BODIES)
    if rng.random() < 0.5:
        rng.shuffle(order)
    parts = [header]
    if choice["helper"]:
        parts.append(f"def _{rng.choice(['check', 'same_length', 'validate'])}(xs, ys):\n"
                     f"    assert len(xs) == len(ys), \"{rng.choice(['lengths differ', 'bad data'])}\"\n")
    for name in order:
        a, b, c = rng.sample(NAMES, 3)
        body = BODIES[name][choice[name]].format(a=a, b=b, c=c)
        head = heads[name] if rng.random() < 0.9 else heads[name].split('"""')[0].rstrip()
        lines = [head]
        if rng.random() < 0.3:
            lines.append(f"    {rng.choice(COMMENTS)}")
        if choice["print"][name]:
            lines.append(f"    print(\"{name}\", {rng.choice(['w', 'xs', 'len(xs)'] if name != 'forward' else ['x'])})")
        lines.append(f"    {body}")
        parts.append("\n".join(lines) + "\n")
    return "\n\n".join(parts), choice


def alike_student(rng: random.Random, header: str, solution: str) -> str:
    """The reference 05_cnn with its local names renamed and its top-level definitions reordered."""
    tree = ast.parse(solution)
    locals_ = sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
                      and len(n.id) > 1})
    lines = solution.splitlines()
    blocks = [("\n".join(lines[(n.decorator_list[0].lineno if getattr(n, "decorator_list", None) else n.lineno) - 1:
                               n.end_lineno]))
              for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    rng.shuffle(blocks)
    code = "\n\n\n".join(blocks)
    for name in locals_:
        code = re.sub(rf"\b{name}\b", f"{name}_{rng.randrange(100)}", code)
    return header + "\n\n" + code + "\n"


def write(folder: Path, students: dict[str, str], relative: str) -> list[dict]:
    """Lay the modules out as submission folders and return the records a batch would have written."""
    records = []
    for student, code in students.items():
        path = folder / student / relative
        path.parent.mkdir(parents=True)
        path.write_text(code)
        records.append({"student": student, "submission": str(folder / student),
                        "exercises": [{"name": relative.split("/")[0]}]})
    return records


def timed(records: list[dict], threshold: float) -> tuple[str, float, similarity.ExerciseSimilarity]:
    """(the seconds as printed, wall-clock seconds, the result) of the similarity step."""
    start, cpu = time.perf_counter(), time.process_time()
    [result] = similarity.analyse(records, ROOT, threshold)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return f"{wall:.1f} s ({cpu:.1f} s CPU)", wall, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--copies", type=int, default=10, help="planted copied pairs in the varied class")
    parser.add_argument("--threshold", type=float, default=similarity.DEFAULT_THRESHOLD)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="bench-similarity-"))
    ok = True
    try:
        header, heads = stub_functions((ROOT / "exercises/01_linear_model/linear_model.py").read_text())
        codes, choices, planted = {}, {}, set()
        for i in range(args.students - args.copies):
            codes[f"s{i:03d}"], choices[f"s{i:03d}"] = varied_student(rng, header, heads)
        for k, original in enumerate(rng.sample(sorted(codes), args.copies)):
            copy = f"s{args.students - args.copies + k:03d}"
            codes[copy], choices[copy] = varied_student(rng, header, heads, choices[original])
            planted.add(tuple(sorted((original, copy))))
        records = write(work / "varied", codes, "01_linear_model/linear_model.py")
        shown, seconds, result = timed(records, args.threshold)
        found = {m.students for m in result.matches}
        same = Counter(sum(choices[a][f] == choices[b][f] for f in BODIES)
                       for a, b in (m.students for m in result.matches) if (a, b) not in planted)
        copied = ", ".join(f"{m.score:.2f}" for m in result.matches if m.students in planted)
        print(f"varied: {len(records)} students of 01_linear_model, {result.pairs} pairs compared, "
              f"{len(result.matches)} reported at {args.threshold:g}: {shown}")
        print(f"  planted copies found: {len(found & planted)} of {len(planted)}, scored {copied}")
        print("  other pairs reported, by how many of the 6 functions the two wrote the same way: "
              + ", ".join(f"{k}: {same[k]}" for k in sorted(same)))
        ok &= planted <= found and seconds < GOAL

        stub = (ROOT / "exercises/05_cnn/cnn.py").read_text()
        cnn_header = stub.split("\n\n\ndef ", 1)[0] if "\n\n\ndef " in stub else ""
        solution = (ROOT / "solutions/05_cnn/cnn.py").read_text()
        alike = {f"s{i:03d}": alike_student(rng, cnn_header, solution) for i in range(args.students)}
        records = write(work / "alike", alike, "05_cnn/cnn.py")
        shown, _, result = timed(records, args.threshold)
        print(f"alike (the worst case): {len(records)} students of 05_cnn, {result.pairs} pairs compared, "
              f"{len(result.matches)} reported: {shown}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"goal: the varied class under {GOAL:g} s, every planted copy found: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
