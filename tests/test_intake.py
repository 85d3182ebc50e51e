"""One intake for every grading path: the layouts a submission may come in, folder or zip alike."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from grader import intake

CONTRACT = {"05_cnn": "cnn", "01_linear_model": "linear_model"}
CNN = b"def conv2d():\n    return 1\n"


def _folder(root: Path, files: dict[str, bytes | str]) -> Path:
    root.mkdir()
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return root


def _zip(path: Path, files: dict[str, bytes | str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return path


@pytest.fixture(params=["folder", "zip"])
def make(request, tmp_path):
    """make(files) -> a submission holding `files`, as a folder or as a zip."""
    def build(files):
        if request.param == "folder":
            return _folder(tmp_path / "sub", files)
        return _zip(tmp_path / "sub.zip", files)
    return build


@pytest.mark.parametrize("files, note", [
    ({"05_cnn/cnn.py": CNN}, None),
    ({"alice/05_cnn/cnn.py": CNN}, "wrapping folder alice/"),
    ({"alice/exercises/05_cnn/cnn.py": CNN}, "wrapping folder alice/exercises/"),
    ({"cnn.py": CNN}, "taken from cnn.py (a module at the top)"),
    ({"hand-in/cnn.py": CNN}, "wrapping folder hand-in/"),
    ({"05_cnn/cnn.py": CNN, ".venv/lib/site-packages/x/05_cnn/cnn.py": b"other", "__MACOSX/05_cnn/._cnn.py": b"\0"},
     None),
])
def test_every_layout_gives_the_same_modules(make, files, note):
    submission = intake.read(make(files), CONTRACT)
    assert submission.modules == {"05_cnn/cnn.py": CNN}
    assert (note is None and not submission.notes) or any(note in n for n in submission.notes), submission.notes


def test_a_notebook_is_a_module_whose_cells_run_on_their_own(make):
    notebook = {"cells": [
        {"cell_type": "markdown", "source": "# 05"},
        {"cell_type": "code", "source": ["%matplotlib inline\n", "def conv2d():\n", "    return 1\n"]},
        {"cell_type": "code", "source": "1 / 0\n", "metadata": {}},
        {"cell_type": "code", "source": "_grader_nb.check('05_cnn', 'x')", "metadata": {"nbgrader": {"grade": True}}},
    ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    submission = intake.read(make({"05_cnn.ipynb": json.dumps(notebook)}), CONTRACT)
    source = submission.modules["05_cnn/cnn.py"].decode()
    assert source.startswith(intake.CELLS_MARKER) and "# %matplotlib inline" in source
    assert "1 / 0" in source and "check(" not in source
    assert "05_cnn/cnn.py taken from the notebook 05_cnn.ipynb" in submission.notes


@pytest.mark.parametrize("files, expected", [
    ({}, "no student module found: it is empty; expected e.g. 01_linear_model/linear_model.py"),
    ({"05_cnn/CNN.py": CNN}, "found 05_cnn/CNN.py, but the module must be named 05_cnn/cnn.py exactly"),
    ({"notes.txt": "hi", "src/main.py": "x"}, "no student module found: it holds notes.txt, src"),
])
def test_what_is_wrong_with_a_layout_is_one_line(make, files, expected):
    submission = intake.read(make(files), CONTRACT)
    assert not submission.modules and any(n.startswith(expected) for n in submission.notes), submission.notes


def test_modules_under_two_folders_are_refused(make):
    submission = intake.read(make({"a/05_cnn/cnn.py": CNN, "b/05_cnn/cnn.py": CNN}), CONTRACT)
    assert not submission.modules and "several folders (a, b)" in submission.notes[0]


def test_the_manifest_is_checked_never_trusted(make):
    import hashlib

    manifest = {"modules": {"05_cnn/cnn.py": hashlib.sha256(b"the handed-in version").hexdigest(),
                            "01_linear_model/linear_model.py": "0" * 64}}
    submission = intake.read(make({"05_cnn/cnn.py": CNN, intake.MANIFEST: json.dumps(manifest)}), {"05_cnn": "cnn"})
    assert submission.modules == {"05_cnn/cnn.py": CNN}
    assert submission.notes == [f"05_cnn/cnn.py changed after hand-in: its SHA-256 differs from {intake.MANIFEST}"]


def test_a_class_folder_skips_what_is_no_student(tmp_path):
    for name in ("ann", "__pycache__", ".git", "__MACOSX"):
        (tmp_path / name).mkdir()
    _zip(tmp_path / "submission-bo.zip", {"05_cnn/cnn.py": CNN})
    (tmp_path / "notes.txt").write_text("hi")
    entries, ignored = intake.discover(tmp_path)
    assert [intake.student_id(e) for e in entries] == ["ann", "bo"] and ignored == ["notes.txt"]
