"""The course in the language of its notes: every message in English and in Simplified Chinese, the same grades."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.console import Console

from grader import course, i18n, release, scoreboard, session

ROOT = Path(__file__).resolve().parents[1]
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def english_afterwards():
    yield
    i18n.set_language("en")


def test_every_message_has_its_translation():
    problems = i18n.catalog_problems(ROOT)
    assert not problems, f"{len(problems)} problems, e.g.:\n" + "\n".join(problems[:20])


def _verdicts(report) -> list[tuple]:
    return [(c.id, c.outcome, c.points) for c in report.checks]


@pytest.fixture(scope="module")
def stubs_in_both_languages():
    cnn = course.select(ROOT, ["05"])
    english = session.grade(ROOT, cnn, lang="en")
    chinese = session.grade(ROOT, cnn, lang="zh_CN")
    i18n.set_language("en")
    return english, chinese


def test_a_stub_graded_in_chinese_scores_the_same_and_says_so_in_chinese(stubs_in_both_languages):
    english, chinese = stubs_in_both_languages
    assert _verdicts(chinese) == _verdicts(english) and chinese.total == english.total == 0
    assert chinese.lang == "zh_CN" and english.lang == "en"
    assert all("not implemented yet" in c.message for c in english.checks)
    assert all(CJK.search(c.message) and "not implemented yet" not in c.message for c in chinese.checks)
    # The placeholders are filled the same: the function's name is in both messages.
    assert [re.findall(r"conv2d|max_pool2d|SimpleCNN|train", c.message) for c in chinese.checks] == [
        re.findall(r"conv2d|max_pool2d|SimpleCNN|train", c.message) for c in english.checks]


def test_a_mistake_graded_in_chinese_gets_its_hint_in_chinese(tmp_path):
    solution = (ROOT / "solutions" / "05_cnn" / "cnn.py").read_text(encoding="utf-8")
    flipped = solution.replace("weight[:, :, i, j]", "weight[:, :, kh - 1 - i, kw - 1 - j]")
    assert flipped != solution
    (tmp_path / "05_cnn").mkdir()
    (tmp_path / "05_cnn" / "cnn.py").write_text(flipped, encoding="utf-8")
    ids = ["exercises/05_cnn/test_cnn_hidden.py::test_conv2d_notes_strides_and_padding"]
    english = session.grade(ROOT, course.select(ROOT, ["05"]), submission=tmp_path, node_ids=ids, lang="en")
    chinese = session.grade(ROOT, course.select(ROOT, ["05"]), submission=tmp_path, node_ids=ids, lang="zh_CN")
    assert _verdicts(chinese) == _verdicts(english) and chinese.total == english.total < english.max_total
    for en, zh in zip(english.checks, chinese.checks):
        assert "(hint:" in en.message and CJK.search(zh.message) and "(hint:" not in zh.message


def test_the_chinese_scoreboard_fits_80_columns(stubs_in_both_languages):
    _, chinese = stubs_in_both_languages
    i18n.set_language("zh_CN")
    console = Console(width=80, record=True, file=open("/dev/null", "w"), color_system=None)
    scoreboard.render(chinese, console)
    lines = console.export_text().splitlines()
    assert lines and all(cell_len(line) <= 80 for line in lines), max(lines, key=cell_len)
    assert any(CJK.search(line) for line in lines[:5])  # the headings are Chinese


@pytest.mark.parametrize("environment, expected", [
    ({"LANG": "zh_CN.UTF-8"}, "zh_CN"), ({"LC_ALL": "zh_TW.UTF-8", "LANG": "en_US.UTF-8"}, "zh_CN"),
    ({"LANG": "en_US.UTF-8"}, "en"), ({}, "en"), ({"LANGUAGE": "zh_CN:en", "LANG": "C"}, "zh_CN"),
])
def test_the_locale_chooses_the_language(monkeypatch, environment, expected):
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert i18n.set_language(None) == expected


def test_the_ini_option_chooses_the_language(toy, pytester):
    (toy / "pyproject.toml").write_text((toy / "pyproject.toml").read_text() + 'grader_lang = "zh_CN"\n')
    result = pytester.runpytest("exercises/01_toy")
    assert any(CJK.search(line) for line in result.outlines if "double" in line)


def test_the_json_keeps_english_ids_and_says_its_language(stubs_in_both_languages):
    english, chinese = stubs_in_both_languages
    en, zh = english.to_dict("message"), chinese.to_dict("message")
    assert zh["lang"] == "zh_CN" and en["lang"] == "en"
    assert [c["id"] for e in zh["exercises"] for c in e["checks"]] == [
        c["id"] for e in en["exercises"] for c in e["checks"]]


def test_a_release_has_both_languages_and_no_hidden_catalog(tmp_path):
    made = release.write_release(ROOT, tmp_path / "release", ["05"], allow_modified_stubs=True)
    files = set(made.files)
    assert {"README.md", "README.zh-CN.md", "exercises/05_cnn/README.zh-CN.md",
            "grader/locale/zh_CN/LC_MESSAGES/grader.mo"} <= files
    assert not [f for f in files if Path(f).stem == "hidden"]
    assert not made.leaks
    assert CJK.search((tmp_path / "release" / "README.zh-CN.md").read_text(encoding="utf-8"))


def test_the_notebooks_in_chinese(tmp_path):
    from grader import nbcourse

    with i18n.language("zh_CN"):
        written = nbcourse.write_course(ROOT, tmp_path / "nb", ["05"])
    text = written[0].path.read_text(encoding="utf-8")
    assert "卷积" in text and CJK.search(text.split("Working in this notebook")[0])
    shutil.rmtree(tmp_path / "nb")
