"""Key-point hints for written answers: a hint for the grader, found by jieba words and synonyms."""
from __future__ import annotations

import json

import nbformat
import pytest

from dangxiao.errors import DangxiaoError
from dangxiao.grading.rubric_hints import KeyPoint, course_hints, load_rubric, suggest_key_points

ANSWER = "我认为社区治理首先要以党建来引领，把居民发动起来参与议事，同时用12345热线接诉即办。"


def test_covered_and_uncovered_points_in_a_chinese_answer():
    hints = suggest_key_points(
        ANSWER,
        ["党建引领", KeyPoint("群众参与", ("居民参与", "发动起来")), "接诉即办", "依法治理", "网格化管理"],
    )
    found = {hint.key_point: hint for hint in hints}
    assert [h.key_point for h in hints] == ["党建引领", "群众参与", "接诉即办", "依法治理", "网格化管理"]
    assert found["党建引领"].covered and set(found["党建引领"].evidence) <= {"党建", "引领", "党建+引领"}
    assert found["群众参与"].covered and found["群众参与"].evidence == ("发动起来",)
    assert found["接诉即办"].covered
    assert not found["依法治理"].covered
    assert not found["网格化管理"].covered and found["网格化管理"].evidence == ()
    key_point, covered, evidence = hints[0]  # a plain (key_point, covered, evidence) tuple
    assert key_point == "党建引领" and covered is True


def test_word_synonyms_and_share():
    text = "依靠法律化解矛盾纠纷"
    without = suggest_key_points(text, ["法治思维 化解矛盾"], min_share=1.0)[0]
    assert not without.covered  # 法治思维 is not in the answer in so many words
    hint = suggest_key_points(text, ["法治思维 化解矛盾"], synonyms={"法治思维": ["依靠法律"]}, min_share=1.0)[0]
    assert hint.covered and "依靠法律" in hint.evidence
    strict = suggest_key_points("只谈了化解矛盾", ["法治思维 化解矛盾"], min_share=1.0)[0]
    assert not strict.covered and strict.evidence  # half the words found, not enough at 100 %
    assert suggest_key_points("", ["党建引领"])[0].covered is False


def test_rubric_and_course_hints(tmp_path):
    rubric_file = tmp_path / "rubric.yaml"
    rubric_file.write_text("answer:\n  - 党建引领\n  - text: 群众参与\n    synonyms: [居民参与]\n", encoding="utf-8")
    rubric = load_rubric(rubric_file)
    assert rubric["answer"][1] == KeyPoint("群众参与", ("居民参与",))

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_markdown_cell("坚持党建引领，推动居民参与。")
    cell.metadata["nbgrader"] = {"grade_id": "answer", "grade": True, "solution": True, "points": 4}
    nb.cells = [nbformat.v4.new_markdown_cell("题目"), cell]
    folder = tmp_path / "course" / "submitted" / "s1" / "a02"
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / "essay.ipynb")
    broken = tmp_path / "course" / "submitted" / "s2" / "a02"
    broken.mkdir(parents=True)
    (broken / "essay.ipynb").write_text("{not json", encoding="utf-8")

    rows = course_hints(tmp_path / "course", "a02", rubric)
    good = next(r for r in rows if r["student"] == "s1")
    assert [h.covered for h in good["hints"]] == [True, True]
    bad = next(r for r in rows if r["student"] == "s2")
    assert "essay.ipynb" in bad["error"]  # the broken file is named, the batch goes on
    # s1 autograded, s2 not yet: s1 is read from autograded/, s2 still from submitted/
    graded = tmp_path / "course" / "autograded" / "s1" / "a02"
    graded.mkdir(parents=True)
    cell.source = "只谈党建引领。"
    nbformat.write(nb, graded / "essay.ipynb")
    rows = course_hints(tmp_path / "course", "a02", rubric)
    assert [h.covered for h in next(r for r in rows if r["student"] == "s1")["hints"]] == [True, False]
    assert "error" in next(r for r in rows if r["student"] == "s2")


def test_bad_rubric_is_a_clear_error(tmp_path):
    path = tmp_path / "rubric.yaml"
    path.write_text("answer: 党建引领\n", encoding="utf-8")
    with pytest.raises(DangxiaoError, match="rubric.yaml: answer"):
        load_rubric(path)


def test_cli_prints_hints_per_submission(course, capsys):
    from dangxiao.cli import main

    (course / "source" / "a02").mkdir(parents=True)
    (course / "source" / "a02" / "rubric.yaml").write_text("answer:\n  - 党建引领\n  - 依法治理\n", encoding="utf-8")
    cell = nbformat.v4.new_markdown_cell("以党建引领社区治理。")
    cell.metadata["nbgrader"] = {"grade_id": "answer", "grade": True, "solution": True, "points": 4}
    folder = course / "autograded" / "s3" / "a02"
    folder.mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), folder / "essay.ipynb")
    assert main(["report", "a02", "--course", str(course), "--hints"]) == 0
    out = capsys.readouterr().out
    assert "s3 · essay · answer" in out
    assert "✓ 党建引领" in out and "✗ 依法治理" in out
    assert "不计分" in out
