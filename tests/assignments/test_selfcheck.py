"""Self-check: `check("q1")` runs only the visible tests and answers in Chinese."""
from __future__ import annotations

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

from dangxiao import cli
from dangxiao.grading.selfcheck import run_check, visible_tests


def _source_a02(kit, tmp_path):
    course = kit.copy_course(tmp_path / "course")
    (path,) = (course / "source" / "a02").glob("*.ipynb")
    return course, path


def test_visible_tests_leave_hidden_tests_out(kit, tmp_path):
    course, source = _source_a02(kit, tmp_path)
    visible = visible_tests("q1", source)
    assert "assert n_wuhan == len(wuhan)" in visible
    hidden = kit.hidden_test_lines(course, "a02")
    assert hidden and not any(line in visible for line in hidden)


def test_check_passes_on_visible_tests_even_if_hidden_would_fail(kit, tmp_path):
    _, source = _source_a02(kit, tmp_path)
    # one 武汉市 row: the visible tests pass, the hidden ones (all of Wuhan's figures) would not
    wuhan = pd.DataFrame({"place": ["武汉市"], "indicator": ["假设的指标"], "value": [1.0]})
    result = run_check("q1", source, {"pd": pd, "wuhan": wuhan, "n_wuhan": 1})
    assert result.passed and result.message.startswith("✓ q1 自测通过")


def test_check_failure_messages_are_chinese_without_traceback(kit, tmp_path):
    _, source = _source_a02(kit, tmp_path)
    wrong = pd.DataFrame({"place": ["武汉市", "沈阳市"], "indicator": ["甲", "乙"], "value": [1.0, 2.0]})
    failed = run_check("q1", source, {"pd": pd, "wuhan": wrong, "n_wuhan": 2})
    assert not failed.passed
    assert failed.message == "✗ q1 自测未通过：wuhan 里应当只有、并且要有武汉市的行。"
    undefined = run_check("q2", source, {"pd": pd})
    assert not undefined.passed and "还没有定义" in undefined.message and "growth" in undefined.message
    missing = run_check("q9", source, {})
    assert not missing.passed and "找不到题目" in missing.message
    for message in (failed.message, undefined.message, missing.message):
        assert "Traceback" not in message


def test_check_in_a_real_kernel_on_the_released_notebook(kit, tmp_path):
    course = kit.copy_course(tmp_path / "course")
    assert cli.main(["release", "a02", "--course", str(course), "--no-exchange"]) == 0
    (released,) = (course / "release" / "a02").glob("*.ipynb")
    answers = kit.reference_answers(course, "a02")
    notebook = nbformat.read(released, as_version=4)
    for cell in notebook.cells:
        gid = kit.grade_id(cell)
        if gid == "q1_answer":
            cell.source = answers["q1_answer"]
        elif gid == "q2_answer":  # wrong: the visible test wants only rows that have a baseline
            cell.source = 'growth = wuhan.copy()\ngrowth["增幅"] = 0.0'
    workdir = tmp_path / "trainee"
    workdir.mkdir()
    path = workdir / released.name
    nbformat.write(notebook, path)
    NotebookClient(notebook, timeout=180, allow_errors=True,
                   resources={"metadata": {"path": str(workdir)}}).execute()

    outputs = {}
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell.source.startswith("check("):
            outputs[cell.source] = "".join(o.get("text", "") for o in cell.outputs)
    assert outputs['check("q1")'].startswith("✓ q1 自测通过")
    assert outputs['check("q2")'].startswith("✗ q2 自测未通过：growth 只应包含 baseline 不为空的行。")
    assert outputs['check("q3")'].startswith("✗ q3 自测未通过")
    everything = "".join(outputs.values())
    assert "Traceback" not in everything and "HIDDEN" not in everything
    for line in kit.hidden_test_lines(course, "a02"):
        assert line not in everything


def test_check_without_any_notebook_says_so(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    result = run_check("q1", namespace={})
    assert not result.passed and "没有作业笔记本文件" in result.message
