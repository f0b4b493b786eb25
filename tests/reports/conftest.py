"""Small gradebooks built with nbgrader's own API (`nbgrader.api.Gradebook`) for the report tests."""
from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

# nbgrader runs `alembic` from PATH when it creates a gradebook.
os.environ["PATH"] = f"{Path(__file__).resolve().parents[2] / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"

# The fixed example of test_itemstats: 4 trainees × 4 items of a01 (see the arithmetic there).
A01_ITEMS = {"q1": 1.0, "q2": 2.0, "q3": 1.0, "q4": 2.0}
A01_SCORES = {
    "s1": {"q1": 1, "q2": 2, "q3": 0, "q4": 2},
    "s2": {"q1": 1, "q2": 1, "q3": 0, "q4": 2},
    "s3": {"q1": 1, "q2": 1, "q3": 1, "q4": 1},
    "s4": {"q1": 1, "q2": 0, "q3": 1, "q4": 0},
}
STUDENTS = {
    "s1": ("三", "张"),
    "s2": ('小,"明"', "王"),  # a comma and quotes inside a Chinese name
    "s3": ("丽", "李"),
    "s4": ("强", "赵"),
    "s5": ("芳", "刘"),  # never submits anything
}
A01_DUE = datetime(2026, 11, 1, 10, 0)


def build_gradebook(path: Path) -> Path:
    """a01: auto-graded, s2 one hour late (past a one-hour extension); a02: one written answer, graded for s1 only; a03: nobody submitted."""
    with Gradebook(f"sqlite:///{path}") as gb:
        for sid, (first, last) in STUDENTS.items():
            gb.add_student(sid, first_name=first, last_name=last)
        gb.add_assignment("a01", duedate=A01_DUE)
        gb.add_notebook("quiz", "a01")
        for name, max_score in A01_ITEMS.items():
            gb.add_grade_cell(name, "quiz", "a01", max_score=max_score, cell_type="code")
        gb.add_assignment("a02", duedate=datetime(2026, 11, 8, 10, 0))
        gb.add_notebook("essay", "a02")
        gb.add_grade_cell("answer", "essay", "a02", max_score=4.0, cell_type="markdown")
        gb.add_assignment("a03", duedate=datetime(2026, 11, 15, 10, 0))
        gb.add_notebook("final", "a03")
        gb.add_grade_cell("f1", "final", "a03", max_score=1.0, cell_type="code")

        for sid, marks in A01_SCORES.items():
            late = sid == "s2"
            # s2 hands in at 12:00 UTC, two hours after the deadline, with a one-hour extension.
            extension = {"extension": timedelta(hours=1)} if late else {}
            gb.add_submission("a01", sid, timestamp=datetime(2026, 11, 1, 12 if late else 9, 0), **extension)
            for cell, mark in marks.items():
                grade = gb.find_grade(cell, "quiz", "a01", sid)
                grade.auto_score = float(mark)
                grade.needs_manual_grade = False
        for sid in ("s1", "s3"):
            gb.add_submission("a02", sid, timestamp=datetime(2026, 11, 8, 9, 0))
        answer = gb.find_grade("answer", "essay", "a02", "s1")
        answer.manual_score = 3.0
        answer.needs_manual_grade = False
        gb.db.commit()
    return path


@pytest.fixture(scope="session")
def empty_gradebook_file(tmp_path_factory) -> Path:
    """A fresh nbgrader gradebook (creating one runs alembic, seconds on a busy machine: do it once)."""
    path = tmp_path_factory.mktemp("empty") / "gradebook.db"
    Gradebook(f"sqlite:///{path}").close()
    return path


@pytest.fixture(scope="session")
def gradebook_file(tmp_path_factory, empty_gradebook_file) -> Path:
    path = tmp_path_factory.mktemp("course") / "gradebook.db"
    path.write_bytes(empty_gradebook_file.read_bytes())
    return build_gradebook(path)


@pytest.fixture
def empty_course(tmp_path, empty_gradebook_file) -> Path:
    folder = tmp_path / "empty-course"
    folder.mkdir()
    (folder / "gradebook.db").write_bytes(empty_gradebook_file.read_bytes())
    return folder


@pytest.fixture
def course(tmp_path, gradebook_file) -> Path:
    """A course folder with a private copy of the gradebook (tests may not share writes)."""
    folder = tmp_path / "course"
    folder.mkdir()
    (folder / "gradebook.db").write_bytes(gradebook_file.read_bytes())
    return folder


@pytest.fixture(scope="session")
def students() -> dict[str, tuple[str, str]]:
    """The fixture's trainees: id → (first name, last name)."""
    return dict(STUDENTS)
