"""The feedback preprocessor and the leak check, on single cells and pages."""
from __future__ import annotations

from nbformat.v4 import new_code_cell, new_notebook, new_output

from dangxiao.grading.feedback import (
    HIDDEN_FAILURE_NOTE, ClearHiddenTestsFromFeedback, hidden_lines, leaked_feedback,
)

TEST_SOURCE = '''response = store.get("a01-q1")
assert response is not None, "第 1 题还没有作答。"
### BEGIN HIDDEN TESTS
assert response == "战斗堡垒"
### END HIDDEN TESTS'''


def _test_cell(source, outputs):
    cell = new_code_cell(source, outputs=outputs)
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "grade_id": "q1",
                                 "points": 2, "schema_version": 3}
    return cell


def _run(cell):
    notebook = new_notebook(cells=[cell])
    notebook, _ = ClearHiddenTestsFromFeedback().preprocess(notebook, {})
    return notebook.cells[0]


def test_hidden_region_and_traceback_are_removed_message_kept():
    error = new_output("error", ename="AssertionError", evalue="",
                       traceback=['----> 4 assert response == "战斗堡垒"'])
    cell = _run(_test_cell(TEST_SOURCE, [error]))
    assert "战斗堡垒" not in cell.source and "HIDDEN" not in cell.source
    assert 'assert response is not None, "第 1 题还没有作答。"' in cell.source
    (output,) = cell.outputs
    assert output.output_type == "stream" and "战斗堡垒" not in output.text
    assert output.text.startswith("AssertionError\n") and HIDDEN_FAILURE_NOTE in output.text


def test_visible_failure_message_is_kept():
    error = new_output("error", ename="AssertionError", evalue="第 1 题还没有作答。", traceback=["..."])
    (output,) = _run(_test_cell(TEST_SOURCE, [error])).outputs
    assert output.text.startswith("AssertionError: 第 1 题还没有作答。")


def test_cells_without_hidden_tests_are_untouched():
    error = new_output("error", ename="NameError", evalue="name 'x' is not defined", traceback=["tb line"])
    cell = _run(_test_cell("assert x == 1", [error]))
    assert cell.source == "assert x == 1" and cell.outputs[0].output_type == "error"


def test_leak_check_reads_page_text_not_markup(tmp_path):
    lines = hidden_lines(TEST_SOURCE)
    assert lines == ['assert response == "战斗堡垒"']
    leaking = tmp_path / "leak.html"
    # syntax highlighting splits the line into spans and escapes the quotes: still found
    leaking.write_text('<pre><span class="k">assert</span> response <span>==</span> '
                       '<span class="s2">&quot;战斗堡垒&quot;</span></pre>', encoding="utf-8")
    in_script = tmp_path / "script.html"  # e.g. embedded widget state: not shown, still in the file
    in_script.write_text("<script>var s = 'assert response == \"战斗堡垒\"';</script>", encoding="utf-8")
    clean = tmp_path / "clean.html"
    clean.write_text("<p>选项：战斗堡垒</p><pre>assert response is not None</pre>", encoding="utf-8")
    assert leaked_feedback([leaking, in_script, clean], lines) == [leaking, in_script]
