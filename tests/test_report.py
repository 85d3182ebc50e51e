"""`grader report OUT`: item analysis, message groups, escaping, hidden feedback, similarity, and the pages in a
real headless browser (Debian's chromium driven by Playwright; skipped where either is missing)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import similarity
from grader.batch import Limits, grade_batch, store
from grader.commands.report import report
from grader.report import page_name, write_report
from grader.report.analysis import group_messages, item_analysis, message_key
from grader.results import CheckResult, Report

ROOT = Path(__file__).resolve().parents[1]
MODULE = "01_linear_model/linear_model.py"
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
CHROMIUM = Path("/usr/bin/chromium")

pytestmark = pytest.mark.timeout(120)


def check(name: str, outcome: str, message: str = "", *, hidden: bool = False, points: float = 1.0) -> CheckResult:
    file = "test_toy_hidden.py" if hidden else "test_toy.py"
    return CheckResult(f"exercises/01_toy/{file}::{name}", "01_toy", outcome,
                       points if outcome == "passed" else 0.0, points, hidden, message)


def record(student: str, checks: list[CheckResult], **extra) -> dict:
    """What `grader batch` writes as OUT/<student>.json (the keys the report reads)."""
    data = Report.from_checks(f"submission {student}", 0, "cpu", checks).to_dict()
    return {**data, "schema": store.SCHEMA, "student": student, "submission": f"/nowhere/{student}",
            "notes": [], "events": [], "output": "", **extra}


# --- message groups and item analysis ---------------------------------------------------------------------


def test_messages_that_differ_only_in_numbers_shapes_indices_paths_are_one_group():
    failures = [(f"s{i}", f"/subs/s{i}", "expected dtype torch.float64, got torch.float32") for i in range(12)]
    failures += [("a", "/subs/a", "expected shape (64, 10), got (64, 1, 10)"),
                 ("b", "/subs/b", "expected shape (32, 10), got (32, 10, 1)"),
                 ("c", "/subs/c", "cost_history[3]: expected 5.75913, got -2.6e-05"),
                 ("d", "/subs/d", "cost_history[0]: expected 1, got nan"),
                 ("e", "/subs/e", "ZeroDivisionError: division by zero (/tmp/w1/01_toy/toy.py, line 12)"),
                 ("f", "/subs/f", "ZeroDivisionError: division by zero (/tmp/w2/01_toy/toy.py, line 7)"),
                 ("g", "/subs/g", "01_toy/toy.py is missing from submission g"),
                 ("h", "/subs/h", "01_toy/toy.py is missing from submission h"),
                 ("i", "/subs/i", "expected dtype torch.float32, got torch.float64")]
    groups = group_messages(failures)
    assert [(g.count, g.example) for g in groups] == [
        (12, "expected dtype torch.float64, got torch.float32"),
        (2, "01_toy/toy.py is missing from submission g"),
        (2, "ZeroDivisionError: division by zero (/tmp/w1/01_toy/toy.py, line 12)"),
        (2, "cost_history[0]: expected 1, got nan"),
        (2, "expected shape (32, 10), got (32, 10, 1)"),
        (1, "expected dtype torch.float32, got torch.float64"),  # other dtypes: another mistake
    ]
    assert len(groups[1].messages) == 2 and sorted(groups[1].students) == ["g", "h"]
    assert message_key("got tensor([[1.0, 2.0], [3.0, 4.0]]) at 0x7f3a") == "got tensor# at #"


def test_item_analysis_puts_the_most_failed_first_and_skipped_apart():
    reports = []
    for i in range(4):
        checks = [check("test_easy", "passed"),
                  check("test_hard", "passed" if i == 0 else "failed", f"expected {i}, got {i + 1}"),
                  check("test_medium", "passed" if i < 2 else "error", "TypeError: bad"),
                  check("test_gpu", "skipped", "needs --device cuda"),
                  check("test_secret", "passed" if i < 3 else "timeout", "took too long", hidden=True)]
        reports.append((f"s{i}", f"/subs/s{i}", Report.from_checks("t", 0, "cpu", checks).to_dict()))
    items = item_analysis(reports)
    assert [i.name for i in items] == ["test_hard", "test_medium", "test_secret", "test_easy", "test_gpu"]
    hard, gpu = items[0], items[-1]
    assert hard.pass_rate == 0.25 and hard.not_passed == 3
    assert [(g.count, len(g.messages)) for g in hard.groups] == [(3, 3)]
    assert gpu.pass_rate is None and gpu.not_passed == 0 and gpu.groups == []
    assert gpu.skip_reasons == {"needs --device cuda": 4}


# --- the pages: escaping, hidden feedback, file names -----------------------------------------------------


def hostile_class(out: Path) -> None:
    out.mkdir()
    for student, checks, extra in [
        (f"eve {HOSTILE}", [check("test_a", "failed", f"got {HOSTILE}"),
                            check("test_b", "failed", "HIDDEN-SECRET expected 2", hidden=True)],
         {"notes": [HOSTILE], "output": HOSTILE}),
        ("bob", [check("test_a", "passed"), check("test_b", "passed", hidden=True)], {}),
    ]:
        store.save(out, page_name(student)[:-5], record(student, checks, **extra))


def all_pages(out: Path) -> dict[str, str]:
    return {str(p.relative_to(out / "report")): p.read_text() for p in sorted((out / "report").rglob("*.html"))}


def test_hostile_text_is_escaped_everywhere(tmp_path):
    hostile_class(tmp_path / "out")
    index = write_report(tmp_path / "out", store.collect(tmp_path / "out"))
    pages = all_pages(tmp_path / "out")
    assert index == tmp_path / "out" / "report" / "index.html"
    assert set(pages) == {"index.html", "students/bob.html", f"students/{page_name('eve ' + HOSTILE)}"}
    assert re.fullmatch(r"eve_[\w.@+-]+-[0-9a-f]{8}\.html", page_name("eve " + HOSTILE), re.ASCII)
    for name, text in pages.items():
        assert "<img" not in text and "<script>alert" not in text, name
        assert len(re.findall(r"<script>", text)) == (1 if name == "index.html" else 0), name
    student = pages[f"students/{page_name('eve ' + HOSTILE)}"]
    assert "got &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in student
    assert student.count("&lt;img src=x onerror=alert(1)&gt;") >= 4  # title, heading, message, note, output


def test_hidden_feedback_outcome_shows_only_the_outcome(tmp_path):
    hostile_class(tmp_path / "out")
    records = store.collect(tmp_path / "out")
    write_report(tmp_path / "out", records)
    assert "HIDDEN-SECRET" in all_pages(tmp_path / "out")[f"students/{page_name('eve ' + HOSTILE)}"]
    write_report(tmp_path / "out", records, hidden_feedback="outcome")
    pages = all_pages(tmp_path / "out")
    assert not any("HIDDEN-SECRET" in text for text in pages.values())
    assert "hidden check failed" in pages[f"students/{page_name('eve ' + HOSTILE)}"]
    assert "got &lt;script&gt;" in pages["index.html"]  # public messages still shown
    assert not list((tmp_path / "out").glob(".report-*"))  # the old report swapped out and removed


# --- similarity --------------------------------------------------------------------------------------------


def test_similarity_ignores_the_stub_and_finds_a_disguised_copy():
    pytest.importorskip("copydetect")
    stub = (ROOT / "exercises" / MODULE).read_text()
    solution = (ROOT / "solutions" / MODULE).read_text()
    disguised = (solution.replace("squared", "total").replace("grad ", "g ").replace("grad\n", "g\n")
                 .replace("# the cost before this epoch's update", "# NOTE"))
    own = stub.replace('raise NotImplementedError("01_linear_model: implement forward")', "return w * x")
    matches = similarity.find_matches({"a": solution, "b": disguised, "c": stub, "d": stub, "e": own}, stub)
    assert [m.students for m in matches] == [("a", "b")]
    assert min(matches[0].scores) > 0.9
    highlighted = matches[0].highlighted(1)
    assert "<mark>" in highlighted and "total" in highlighted
    assert similarity.find_matches({"a": solution, "b": disguised}, stub, threshold=1.01) == []


# --- a real batch, the command, a browser -----------------------------------------------------------------


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Five 01_linear_model submissions graded by `grade_batch`: the reference and a disguised copy of it (with
    hostile text in a comment), the stub, two functions written independently, and a one-line bug in the
    reference whose folder is gone after grading."""
    pytest.importorskip("copydetect")
    base = tmp_path_factory.mktemp("report")
    subs, solution = base / "submissions", (ROOT / "solutions" / MODULE).read_text()
    bad = f"# {HOSTILE}\n" + solution
    stub = (ROOT / "exercises" / MODULE).read_text()
    own = (stub.replace('raise NotImplementedError("01_linear_model: implement forward")', "return w * x")
           .replace('raise NotImplementedError("01_linear_model: implement mse")',
                    "return sum((x * w - y) ** 2 for x, y in zip(xs, ys)) / len(xs)"))
    files = {"alice": bad, "bob": bad.replace("squared", "acc").replace("w_list", "ws_tried"), "carol": stub,
             "dave": own, "erin": solution.replace("/ len(xs)", "/ (len(xs) + 1)")}
    for student, text in files.items():
        (subs / student / MODULE).parent.mkdir(parents=True)
        (subs / student / MODULE).write_text(text)
    out = base / "out"
    summary = grade_batch(ROOT, subs, out, exercises=["01"], jobs=2, histogram=False,
                          limits=Limits(check_timeout=10, submission_timeout=120, memory_mb=1024, output_kb=256))
    assert sorted(summary.graded) == sorted(files)
    shutil.rmtree(subs / "erin")
    return out


def test_report_command_writes_every_page(batch, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(report, [str(batch)], standalone_mode=False)
    assert result.exception is None, result.output
    assert "01_linear_model: 4 compared, 1 pair(s) at or above 80%, 1 not compared" in result.output
    pages = all_pages(batch)
    assert {"index.html", "students/alice.html", "similarity/01_linear_model-1.html"} <= set(pages)
    index = pages["index.html"]
    assert index.count("<svg") == 2 and "never changes a grade" in index
    assert re.search(r"erin</a>: the submission \S*erin is missing on disk", index)
    pair = pages["similarity/01_linear_model-1.html"]
    assert "<mark>" in pair and "&lt;script&gt;alert(" in pair and "<img" not in pair
    grades = {r["student"]: r["total"] for r in map(json.loads, (p.read_text() for p in batch.glob("*.json")))}
    assert grades["alice"] == grades["bob"] == 30  # similarity changes no grade


def test_pages_in_a_headless_browser(batch, monkeypatch, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip(f"no {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs Playwright for Python (pip install playwright)")
    monkeypatch.chdir(ROOT)
    assert CliRunner().invoke(report, [str(batch)], standalone_mode=False).exception is None
    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run"]
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 800})
            problems, requests = [], []
            page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on("request", lambda r: requests.append(r.url))
            page.on("dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
            page.goto((batch / "report" / "index.html").as_uri())
            assert page.locator("figure svg").count() == 2
            assert page.locator("#items tbody tr").count() == 17
            assert page.locator("#student-table tbody tr").count() == 5
            names = lambda: page.locator("#student-table tbody tr td:first-child").all_inner_texts()
            assert names() == ["alice", "bob", "carol", "dave", "erin"]
            total = page.locator("#student-table thead th", has_text="total").locator("button")
            total.click()
            assert names()[0] == "carol" and names()[-1] in ("alice", "bob")
            total.click()
            assert names()[-1] == "carol"
            assert page.locator("#student-table thead th", has_text="total").get_attribute("aria-sort") == "descending"
            page.screenshot(path=str(tmp_path / "index.png"), full_page=True)
            page.locator("#student-table a", has_text="dave").click()
            page.wait_for_load_state()
            assert page.url.endswith("/students/dave.html")
            assert page.locator("table tbody tr").count() == 17
            page.screenshot(path=str(tmp_path / "dave.png"), full_page=True)
            page.goto((batch / "report" / "similarity" / "01_linear_model-1.html").as_uri())
            assert page.locator("mark").count() >= 2
            page.screenshot(path=str(tmp_path / "pair.png"), full_page=True)
        finally:
            browser.close()
    assert problems == []
    assert all(url.startswith("file://") for url in requests), requests
    assert (tmp_path / "index.png").stat().st_size > 10_000
