"""Fixture banks and blueprints for the assessment tests.

Drawing and scoring are tested on banks of known shape, built with the bank's own `Question` (levels,
difficulties, essay rubrics included) and written in its YAML format where a test needs files. Stems,
options and answers are placeholders (测试题), never shown to anyone.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dangxiao.paths import assignments_dir
from dangxiao.questions import DIFFICULTIES, LEVELS, Question

FINAL_MIX = {
    ("m1", "single"): 4, ("m2", "single"): 4, ("m3", "single"): 4, ("m4", "single"): 3,
    ("m1", "multiple"): 1, ("m2", "multiple"): 1, ("m3", "multiple"): 2, ("m4", "multiple"): 1,
    ("m1", "truefalse"): 3, ("m2", "truefalse"): 2, ("m3", "truefalse"): 3, ("m4", "truefalse"): 2,
}
CELL_TIMEOUT = 20  # seconds per cell in the temp course (as tests/assignments)


def make_question(module: str, qtype: str, number: int, **extra) -> Question:
    qid = f"{module}-{qtype[:2]}{number:02d}"
    options: tuple[str, ...] = ()
    answer: object
    fields: dict = {}
    if qtype == "single":
        options = tuple(f"{qid} 选项{c}" for c in "甲乙丙丁")
        answer = options[number % 4]
    elif qtype == "multiple":
        options = tuple(f"{qid} 选项{c}" for c in "甲乙丙丁")
        answer = (options[0], options[(number % 3) + 1])
    elif qtype == "truefalse":
        answer = number % 2 == 0
    elif qtype == "fill":
        answer = f"答案{number}"
        fields["accepted"] = (f"答案 {number}",)
    elif qtype == "numeric":
        answer = 100 + number
        fields["tolerance"] = 0.5
    elif qtype == "essay":
        answer = None
        fields["rubric"] = ((f"{qid} 要点一", 1.0), (f"{qid} 要点二", 1.0))
        fields["key_points"] = (("党建引领", ()), ("群众参与", ("居民参与",)), ("法治保障", ()))
        fields["points"] = 2.0
    else:
        raise ValueError(qtype)
    base = dict(
        id=qid, type=qtype, stem=f"测试题 {qid}：题干", explanation=f"解析-{qid}-EXPLAIN", source="yangquan",
        answer=answer, options=options, tags=("测试", f"组{number % 2}"), module=module,
        level=LEVELS[number % 4], difficulty=DIFFICULTIES[number % 3], **fields,
    )
    base.update(extra)
    return Question(**base)


def make_bank(counts: dict[tuple[str, str], int]) -> dict[str, FixtureQuestion]:
    bank = {}
    for (module, qtype), count in counts.items():
        for number in range(1, count + 1):
            question = make_question(module, qtype, number)
            bank[question.id] = question
    return bank


def write_blueprint(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


FINAL_LIKE = """\
id: __ID__
title: 测试结业
mode: exam
points: {single: 3, multiple: 5, truefalse: 3}
draws:
""" + "".join(
    f"  - {{module: {m}, type: {t}, count: {n}}}\n" for (m, t), n in FINAL_MIX.items()
) + """\
time_limit: 40
pass_mark: 60
"""


def final_like(assessment_id: str) -> str:
    """A blueprint with the final's mix (tests/assessments: FINAL_MIX) under another id."""
    return FINAL_LIKE.replace("__ID__", assessment_id)


def venv_env() -> dict:
    """nbgrader needs this Python's bin (alembic) on PATH."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    """Plain `nbgrader …` run in the course folder, as an instructor would."""
    nbgrader_bin = Path(sys.executable).parent / "nbgrader"
    result = subprocess.run([str(nbgrader_bin), *args], cwd=course, env=venv_env(), capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def temp_course(target: Path) -> Path:
    """The committed course config in `target`, with no assignment sources and a short cell timeout."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(assignments_dir() / "nbgrader_config.py", target / "nbgrader_config.py")
    with open(target / "nbgrader_config.py", "a", encoding="utf-8") as handle:
        handle.write(f"\nc.Execute.timeout = {CELL_TIMEOUT}\n")
    (target / "source").mkdir(exist_ok=True)
    return target


@pytest.fixture(scope="session")
def kit():
    """This module's helpers (test modules cannot import conftest in importlib mode)."""
    return sys.modules[__name__]


@pytest.fixture
def final_bank():
    """Three times the final's mix in every cell, with a few fill items that no draw asks for."""
    counts = {cell: 3 * n for cell, n in FINAL_MIX.items()}
    counts["m1", "fill"] = 2
    return make_bank(counts)


def write_bank_files(folder: Path, counts: dict[tuple[str, str], int]) -> Path:
    """A bank in the shipped YAML format, one file per module."""
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    modules: dict[str, list] = {}
    for question in make_bank(counts).values():
        raw = {"id": question.id, "type": question.type, "stem": question.stem, "explanation": question.explanation,
               "source": question.source, "tags": list(question.tags), "level": question.level,
               "difficulty": question.difficulty}
        if question.options:
            raw["options"] = list(question.options)
        raw["answer"] = list(question.answer) if question.type == "multiple" else question.answer
        if question.accepted:
            raw["accepted"] = list(question.accepted)
        modules.setdefault(question.module, []).append(raw)
    for module, questions in modules.items():
        (folder / f"{module}.yaml").write_text(
            yaml.safe_dump({"module": module, "title": f"测试 {module}", "questions": questions}, allow_unicode=True,
                           sort_keys=False), encoding="utf-8")
    return folder
