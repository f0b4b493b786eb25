"""The instructor dashboard runs in a real kernel against a real gradebook and reacts to its dropdown."""
from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "assignments" / "instructor_dashboard.ipynb"


def test_dashboard_is_committed_without_outputs():
    notebook = nbformat.read(DASHBOARD, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(not cell.outputs and cell.execution_count is None for cell in code)


@pytest.mark.timeout(600)  # a kernel importing nbgrader, pandas, matplotlib: ~10 s idle, minutes when the machine is saturated
def test_dashboard_runs_and_switches_assignment(tmp_path, gradebook_file, monkeypatch):
    root = tmp_path / "root"
    (root / "assignments" / "source" / "a02").mkdir(parents=True)
    (root / "courses").mkdir()
    shutil.copy(gradebook_file, root / "assignments" / "gradebook.db")
    shutil.copy(ROOT / "courses" / "catalog.yaml", root / "courses" / "catalog.yaml")
    (root / "assignments" / "source" / "a02" / "rubric.yaml").write_text("answer:\n  - 党建引领\n  - 法治保障\n", encoding="utf-8")
    answer = nbformat.v4.new_markdown_cell("要坚持党建引领。")
    answer.metadata["nbgrader"] = {"grade_id": "answer", "grade": True, "solution": True, "points": 4}
    submitted = root / "assignments" / "submitted" / "s1" / "a02"
    submitted.mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(cells=[answer]), submitted / "essay.ipynb")
    monkeypatch.setenv("DANGXIAO_ROOT", str(root))

    notebook = nbformat.read(DASHBOARD, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(
        'assert "a03 得分" in summary_html.value and "负区分度" in items_html.value\n'
        'assignment_picker.value = "a01"\n'
        'assert "a01 得分" in summary_html.value and "a02 得分" not in summary_html.value\n'
        'assert "王小," in summary_html.value\n'
        'assert bytes(distribution_image.value).startswith(b"\\x89PNG") and bytes(item_map_image.value).startswith(b"\\x89PNG")\n'
        'assignment_picker.value = "a02"\n'
        'assert "✓ 党建引领" in hints_html.value and "✗ 法治保障" in hints_html.value, hints_html.value\n'
        'assignment_picker.value = "a03"\n'
        'assert "尚无学员提交" in status.value\n'
        'print("DASHBOARD-OK")'
    ))
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    assert any("DASHBOARD-OK" in out.get("text", "") for out in outputs)
