"""docs/adding-an-exercise.md works: its files, written into a copy of the course, make an exercise that passes
the self-check, shows in `grader list`, and whose mistakes test passes.

Every fenced block of the page whose info string names a path (```` ```python exercises/10_toy/toy.py ````)
is a file; `(append)` after the path appends the block to the course's file of that name (docs/curriculum.md,
the catalogs). The copy holds only what the steps need: pyproject.toml (it loads the grader's plugin),
docs/curriculum.md, tests/conftest.py (the `grade_mutant` fixture) and the page's files; the grader is the
installed package and the data sets are the real ones (COURSE_DATA_DIR). The catalogs the page appends to
(grader/locale/) start empty (the copy has no other messages to translate), are kept beside the course copy (a
`grader/` folder in it would shadow the package) and are compiled with `pybabel compile` as the page says; the
grader reads them there (`grader.i18n.LOCALE_DIR`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from grader import cli, i18n, selfcheck
from grader.testing import forget_modules_under

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "adding-an-exercise.md"
EXERCISE = "10_toy"
# The files a new exercise needs; the page must show each of them in full.
NEEDED = {
    "docs/curriculum.md",
    f"exercises/{EXERCISE}/toy.py",
    f"exercises/{EXERCISE}/README.md",
    f"exercises/{EXERCISE}/README.zh-CN.md",
    f"exercises/{EXERCISE}/test_toy.py",
    f"exercises/{EXERCISE}/test_toy_hidden.py",
    f"solutions/{EXERCISE}/toy.py",
    f"tests/test_mistakes_{EXERCISE}.py",
    "grader/locale/zh_CN/LC_MESSAGES/grader.po",
    "grader/locale/zh_CN/LC_MESSAGES/hidden.po",
}
LOCALE = "grader/locale/"
EMPTY_CATALOG = """\
msgid ""
msgstr ""
"Language: {language}\\n"
"MIME-Version: 1.0\\n"
"Content-Type: text/plain; charset=utf-8\\n"
"Content-Transfer-Encoding: 8bit\\n"
"Plural-Forms: nplurals=1; plural=0;\\n"
"""
# An opening fence with a language and a path, its body, and the closing fence of the same length.
FILE_BLOCK = re.compile(r"^(?P<fence>`{3,})[\w+-]+ (?P<path>[\w.-]+(?:/[\w.-]+)+)(?P<append> \(append\))?[ \t]*\n"
                        r"(?P<body>.*?)^(?P=fence)[ \t]*$", re.MULTILINE | re.DOTALL)

pytestmark = pytest.mark.timeout(180)


def files_of(text: str) -> dict[str, tuple[str, bool]]:
    """path -> (content, whether it is appended to the course's file), for every block that names a path."""
    found: dict[str, tuple[str, bool]] = {}
    for block in FILE_BLOCK.finditer(text):
        path = block["path"]
        assert path not in found, f"{DOC.name} shows {path} twice"
        found[path] = (block["body"], bool(block["append"]))
    return found


@pytest.fixture
def course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the course with only what the steps need, and the page's files written into it."""
    root = tmp_path / "course"
    for name in ("pyproject.toml", "docs/curriculum.md", "tests/conftest.py"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / name, root / name)
    (root / "exercises").mkdir()
    (root / "solutions").mkdir()
    locale = tmp_path / "locale"
    for domain, mapping in i18n.CATALOGS.items():  # what Babel extracts, and an empty catalog per language
        (locale / mapping).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(i18n.LOCALE_DIR / mapping, locale / mapping)
        for language in i18n.LANGUAGES[1:]:
            (locale / language / "LC_MESSAGES").mkdir(parents=True, exist_ok=True)
            (locale / language / "LC_MESSAGES" / f"{domain}.po").write_text(EMPTY_CATALOG.format(language=language),
                                                                           encoding="utf-8")
    for path, (content, append) in files_of(DOC.read_text(encoding="utf-8")).items():
        target = locale / path.removeprefix(LOCALE) if path.startswith(LOCALE) else root / path
        assert append == target.exists(), f"{path}: {'(append) to a file the course lacks' if append else 'exists'}"
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "a" if append else "w", encoding="utf-8") as out:
            out.write(("\n" if append else "") + content)
    pybabel = Path(sys.executable).with_name("pybabel")
    for domain in ("grader", "hidden"):  # the page's `pybabel compile -d grader/locale -D <domain>`
        assert f"$ pybabel compile -d grader/locale -D {domain}\n" in DOC.read_text(encoding="utf-8")
        subprocess.run([str(pybabel), "compile", "-d", str(locale), "-D", domain], check=True, capture_output=True)
    monkeypatch.setattr(i18n, "LOCALE_DIR", locale)
    monkeypatch.setenv("COURSE_DATA_DIR", str(ROOT / "datasets"))
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("LANGUAGE", "en")  # the page shows English output; the grader also sets LANGUAGE itself
    monkeypatch.chdir(root)
    forget_modules_under(tmp_path)
    yield root
    forget_modules_under(tmp_path)


def test_the_page_shows_every_file_an_exercise_needs():
    shown = set(files_of(DOC.read_text(encoding="utf-8")))
    assert shown == NEEDED, f"missing: {sorted(NEEDED - shown)}; not expected: {sorted(shown - NEEDED)}"


def test_the_new_exercise_passes_its_self_check_and_is_listed(course: Path, capsys: pytest.CaptureFixture):
    doc = DOC.read_text(encoding="utf-8")

    report = selfcheck.run(course, [EXERCISE], seeds=2, curriculum=course / "docs" / "curriculum.md")
    shown = StringIO()
    selfcheck.render(report, Console(file=shown, width=120))
    assert report.ok, shown.getvalue()
    verdict = "Self-check passed: the course is ready to release"
    assert verdict in shown.getvalue() and verdict in doc
    times = (course / "exercises" / "reference-times.json").read_text(encoding="utf-8")
    assert f"exercises/{EXERCISE}/test_toy.py::test_relu_small" in times  # the doc's `grader list 10_toy` limits

    with pytest.raises(SystemExit) as exit_:
        cli.run(["list"])
    out = capsys.readouterr().out
    assert exit_.value.code == 0, out
    [row] = [" ".join(line.split()) for line in out.splitlines() if line.split()[:1] == [EXERCISE]]
    [documented] = [" ".join(line.split()) for line in doc.splitlines() if line.split()[:1] == [EXERCISE]
                    and "checks" in line]
    assert row == documented, f"grader list prints {row!r}, the page shows {documented!r}"

    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    done = subprocess.run([sys.executable, "-m", "pytest", f"tests/test_mistakes_{EXERCISE}.py", "-q"], check=False,
                          cwd=course, env=env, capture_output=True, text=True, timeout=150)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"\b5 passed\b", done.stdout), done.stdout
