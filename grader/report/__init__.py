"""`grader report OUT`: the instructor's view of a batch as static HTML, OUT/report/index.html.

    from grader.batch import store
    from grader.report import write_report
    index = write_report(out, store.collect(out), hidden_feedback="message", similarity=None)

The index holds the totals' histogram, each exercise's distribution, the item analysis (grader.report.analysis),
a sortable table of students and the similarity section (grader.similarity, computed by the caller); each
student has a page, students/<student>.html, and each reported pair of alike submissions one under similarity/.
The pages load nothing: styles, the sorting script and the plots (SVG) are inline. The report is written into
a folder beside OUT/report and then swapped in, so a reader never sees half of one.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from grader.report import analysis, pages, plots
from grader.report.pages import esc, href, percent, points
from grader.results import Report, format_points

REPORT_DIR = "report"
MAX_PAIRS = 100  # reported pairs shown per exercise, the most alike first
SIMILARITY_NOTE = ("Similarity never changes a grade. A high score is evidence for a person to look at, not a verdict: "
                   "code from the lectures and short exercises make independent solutions alike.")


@dataclass
class Student:
    id: str
    record: dict  # OUT/<student>.json as the batch wrote it
    shown: dict  # its report as the pages show it: `Report.to_dict(hidden_feedback)`
    page: str  # its file name under students/
    similar: list[tuple[str, str, float, str]] = field(default_factory=list)  # (exercise, other, score, pair page)


def page_name(student: str) -> str:
    """The file name of a student's page: the id itself when it is a plain file name, else a safe one."""
    slug = re.sub(r"[^\w.@+-]", "_", student)[:80]
    if slug != student or slug.startswith("."):
        slug = f"{slug.lstrip('.')}-{hashlib.sha256(student.encode()).hexdigest()[:8]}"
    return f"{slug}.html"


def write_report(out: Path, records: list[dict], *, hidden_feedback: str = "message",
                 similarity: list | None = None) -> Path:
    """Write OUT/report/ from the batch's student files (`store.collect(out)`) and return its index.html.
    `similarity` is `grader.similarity.analyse(...)`'s result, or None to leave the section out."""
    out = Path(out)
    students, unreadable = [], {}
    for record in records:
        student = str(record["student"])
        try:
            shown = Report.from_dict(record).to_dict(hidden_feedback)
        except (ValueError, TypeError, KeyError) as error:
            unreadable[student] = f"{type(error).__name__}: {error}"
            continue
        students.append(Student(student, record, shown, page_name(student)))
    by_id = {s.id: s for s in students}
    pair_pages = []
    for result in similarity or []:
        for k, match in enumerate(result.matches[:MAX_PAIRS], 1):
            name = f"{result.exercise}-{k}.html"
            pair_pages.append((name, result, match))
            for side in (0, 1):
                if match.students[side] in by_id:
                    by_id[match.students[side]].similar.append((result.exercise, match.students[1 - side],
                                                               match.score, name))

    staging = _staging(out)
    try:
        (staging / "students").mkdir()
        (staging / "similarity").mkdir()
        _write(staging / "index.html", index_page(out, students, unreadable, hidden_feedback, similarity, by_id))
        for student in students:
            _write(staging / "students" / student.page, student_page(student, hidden_feedback))
        for name, result, match in pair_pages:
            _write(staging / "similarity" / name, pair_page(result, match, by_id))
        target, old = out / REPORT_DIR, out / f".{REPORT_DIR}-old-{os.getpid()}"
        if target.exists():
            target.rename(old)
        staging.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target / "index.html"


def _staging(out: Path) -> Path:
    """A fresh folder beside OUT/report; those left by a report that was killed (its process gone) are removed."""
    for folder in out.glob(f".{REPORT_DIR}-*"):
        pid = folder.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(folder, ignore_errors=True)
    staging = out / f".{REPORT_DIR}-new-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    return staging


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


# --- the index ---------------------------------------------------------------------------------------------


def index_page(out: Path, students: list[Student], unreadable: dict[str, str], hidden_feedback: str,
               similarity: list | None, by_id: dict[str, Student]) -> str:
    shown = [s.shown for s in students]
    totals, exercises = analysis.distributions(shown)
    items = analysis.item_analysis([(s.id, str(s.record.get("submission", "")), s.shown) for s in students])
    when = datetime.now(timezone.utc).isoformat(timespec="seconds")
    feedback = ("hidden checks' messages shown (for the instructor)" if hidden_feedback == "message" else
                "hidden checks show only their outcome")
    parts = [f'<p class="muted">{len(students)} students in {esc(out.resolve())}; written {esc(when)}; {feedback}.</p>']
    if unreadable:
        parts.append("<p>Results that could not be read (grade these students again):</p><ul>"
                     + "".join(f"<li>{esc(s)}: {esc(why)}</li>" for s, why in sorted(unreadable.items())) + "</ul>")
    parts.append('<h2 id="totals">Totals</h2>')
    if students:
        parts.append(pages.figure(plots.histogram_svg(totals, title=f"{len(students)} students",
                                                      xlabel=f"total points (of {format_points(totals.top)})"),
                                  pages.distribution_line(totals), wide=True))
    parts.append('<h2 id="exercises">Exercises</h2><div class="plots">')
    for dist in exercises:
        svg = plots.histogram_svg(dist, title=dist.name, xlabel=f"points (of {format_points(dist.top)})",
                                  size=(4.6, 2.6))
        parts.append(pages.figure(svg, pages.distribution_line(dist)))
    parts.append("</div>")
    parts.append('<h2 id="items">Item analysis</h2><p class="muted">Every check, the ones the class failed most '
                 "first. Passed is the share of the students it ran for; a skipped check (a GPU check on a CPU run) "
                 "is not a failure. Messages that differ only in numbers, shapes, indices, paths or the student's id "
                 "are one group. Click a column's title to sort.</p>")
    parts.append(pages.item_table(items))
    parts.append('<h2 id="students">Students</h2>')
    parts.append(students_table(students, [d.name for d in exercises]))
    if similarity is not None:
        parts.append('<h2 id="similarity">Similarity</h2>')
        parts.append(similarity_section(similarity, by_id))
    nav = "".join(f'<a href="#{anchor}">{label}</a>' for anchor, label in (
        ("totals", "Totals"), ("exercises", "Exercises"), ("items", "Item analysis"), ("students", "Students"),
        *([("similarity", "Similarity")] if similarity is not None else [])))
    return pages.page(f"Batch report: {out.resolve().name}", "\n".join(parts), nav=nav, script=True)


def students_table(students: list[Student], names: list[str]) -> str:
    head = [pages.sort_header("student"), pages.sort_header("total", num=True), pages.sort_header("%", num=True),
            *(pages.sort_header(n, num=True) for n in names), pages.sort_header("not passed", num=True),
            pages.sort_header("notes", num=True), pages.sort_header("similar", num=True)]
    rows = []
    for s in students:
        report = s.shown
        scores = {e["name"]: e["score"] for e in report["exercises"]}
        not_passed = sum(c["outcome"] not in ("passed", "skipped") for e in report["exercises"] for c in e["checks"])
        notes = len(s.record.get("notes") or []) + len(s.record.get("events") or [])
        share = report["total"] / report["max_total"] if report["max_total"] else 0
        cells = [f'<td><a href="{href("students", s.page)}">{esc(s.id)}</a></td>',
                 f'<td class="num" data-sort="{float(report["total"])}">{points(report["total"])} / '
                 f'{points(report["max_total"])}</td>',
                 f'<td class="num" data-sort="{share:.4f}">{percent(report["total"], report["max_total"])}</td>',
                 *(f'<td class="num" data-sort="{float(scores[n])}">{points(scores[n])}</td>' if n in scores
                   else '<td class="num" data-sort="-1"></td>' for n in names),
                 f'<td class="num">{not_passed}</td>', f'<td class="num">{notes or ""}</td>',
                 f'<td class="num" data-sort="{len(s.similar)}">{len(s.similar) or ""}</td>']
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return (f'<div class="scroll"><table class="sortable" id="student-table"><thead><tr>{"".join(head)}</tr></thead>'
            f'<tbody>\n{chr(10).join(rows)}\n</tbody></table></div>')


def similarity_section(results: list, by_id: dict[str, Student]) -> str:
    parts = [f'<p class="note">{esc(SIMILARITY_NOTE)} The released stub is boilerplate: the scaffolding '
             "everyone was given never counts. A pair's score is, for each student, the share of their own code "
             "(copydetect's normalized tokens) that is also in the other's.</p>"]
    for result in results:
        parts.append(f"<h3>{esc(result.exercise)} <span class=\"muted\">{esc(result.module)}.py</span></h3>")
        parts.append(f"<p>{len(result.compared)} submission(s) compared, {result.pairs} pair(s), {len(result.matches)} "
                     f"at or above {result.threshold:.0%} ({result.seconds:.1f} s).</p>")
        if result.matches:
            rows = []
            for k, match in enumerate(result.matches[:MAX_PAIRS], 1):
                a, b = (_student_link(x, by_id, "") for x in match.students)
                link = href("similarity", f"{result.exercise}-{k}.html")
                rows.append(f'<tr><td class="num">{k}</td><td>{a}</td><td>{b}</td>'
                            f'<td class="num">{match.scores[0]:.0%} / {match.scores[1]:.0%}</td>'
                            f'<td class="num">{match.overlap}</td><td><a href="{link}">side by side</a></td></tr>')
            parts.append('<div class="scroll"><table><thead><tr><th class="num">#</th><th>student</th><th>student</th>'
                         '<th class="num">score (each side)</th><th class="num">characters in common</th><th></th>'
                         f'</tr></thead><tbody>{"".join(rows)}</tbody></table></div>')
            if len(result.matches) > MAX_PAIRS:
                parts.append(f"<p>{len(result.matches) - MAX_PAIRS} more pairs at or above the threshold are not "
                             "shown: raise --similarity-threshold.</p>")
        if result.not_compared:
            parts.append(f"<p>Not compared ({len(result.not_compared)}):</p><ul>"
                         + "".join(f"<li>{_student_link(s, by_id, '')}: {esc(why)}</li>"
                                   for s, why in sorted(result.not_compared.items())) + "</ul>")
    return "\n".join(parts)


def _student_link(student: str, by_id: dict[str, Student], up: str) -> str:
    if student not in by_id:
        return esc(student)
    return f'<a href="{up}{href("students", by_id[student].page)}">{esc(student)}</a>'


# --- a student's page --------------------------------------------------------------------------------------


def student_page(student: Student, hidden_feedback: str) -> str:
    record, report = student.record, student.shown
    facts = [f"{points(report['total'])} / {points(report['max_total'])} points "
             f"({percent(report['total'], report['max_total'])})",
             f"submission {esc(record.get('submission', '?'))}",
             f"graded {esc(record.get('graded_at', '?'))}, seed {esc(report['seed'])}, device {esc(report['device'])}",
             f"hash {esc(str(record.get('submission_hash', ''))[:12])}"]
    parts = [f'<p>{"<br>".join(facts)}</p>']
    notes = [*(record.get("notes") or []), *(record.get("events") or []), *report.get("notes", [])]
    if notes:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>")
    if student.similar:
        parts.append(f'<h2>Similar code</h2><p class="note">{esc(SIMILARITY_NOTE)}</p><ul>' + "".join(
            f'<li>{esc(ex)}: {score:.0%} alike with {esc(other)} '
            f'(<a href="{href("..", "similarity", name)}">side by side</a>)</li>'
            for ex, other, score, name in student.similar) + "</ul>")
    for exercise in report["exercises"]:
        parts.append(f"<h2>{esc(exercise['name'])}: {points(exercise['score'])} / {points(exercise['max_score'])} "
                     f"{pages.outcome_tag(exercise['status'])}</h2>")
        rows = []
        for check in exercise["checks"]:
            hidden = ' <span class="tag">hidden</span>' if check["hidden"] else ""
            message = check["message"] or ("" if check["outcome"] == "passed" or not check["hidden"]
                                           else f"hidden check {check['outcome']}")
            rows.append(f"<tr><td>{esc(check['id'].rsplit('::', 1)[-1])}{hidden}</td>"
                        f"<td>{pages.outcome_tag(check['outcome'])}</td>"
                        f'<td class="num">{points(check["points"])} / {points(check["max_points"])}</td>'
                        f'<td class="msg">{esc(message)}</td></tr>')
        parts.append('<div class="scroll"><table><thead><tr><th>check</th><th>outcome</th><th class="num">points</th>'
                     f'<th>feedback</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>')
    parts.append(pages.output_block(str(record.get("output") or "")))
    nav = f'<a href="{href("..", "index.html")}">&larr; class report</a>'
    return pages.page(f"Student {student.id}", "\n".join(parts), nav=nav)


# --- a pair of alike submissions ---------------------------------------------------------------------------


def pair_page(result, match, by_id: dict[str, Student]) -> str:
    a, b = match.students
    columns = "".join(
        f"<div><h3>{_student_link(s, by_id, '../')} <span class=\"muted\">{match.scores[i]:.0%} of this code is "
        f"in the other</span></h3><pre><code>{match.highlighted(i)}</code></pre></div>"
        for i, s in enumerate(match.students))
    body = (f'<p class="note">{esc(SIMILARITY_NOTE)}</p>'
            f"<p>{esc(result.exercise)}/{esc(result.module)}.py as graded. Highlighted: the code the two have in "
            f"common ({match.overlap} normalized characters: names, strings and comments aside), the stub left "
            "out.</p>" f'<div class="code-pair">{columns}</div>')
    nav = f'<a href="{href("..", "index.html")}#similarity">&larr; class report</a>'
    return pages.page(f"{result.exercise}: {a} and {b}", body, nav=nav)
