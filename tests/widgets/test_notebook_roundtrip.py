"""The answer given in a widget survives: run a notebook in a real kernel, answer through the widgets,
save, re-execute the saved notebook in a NEW kernel (as nbgrader's autograder does) and get the same
answers back, from the widgets and from the store."""
from __future__ import annotations

import json

import nbformat
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

SETUP = "from dangxiao.widgets import AnswerStore, Quiz, Reflection, indicator_chart\nstore = AnswerStore('answers.json')"
WIDGET_CELLS = [
    "q1 = Quiz.inline(id='a01-q1', type='single', stem='哪一项是根本保证？', options=['加大投入', '坚持党的全面领导', '扩大编制'], store=store)\nq1",
    "q2 = Quiz.inline(id='a01-q2', type='matching', stem='把地方与做法连起来', store=store,\n"
    "                 options={'left': ['阳泉', '武汉'], 'right': ['一居一律师', '小邻里', '四优四提']})\nq2",
    "q3 = Quiz.inline(id='a01-q3', type='ordering', stem='调解步骤排序', options=['查明事实', '受理', '签订协议'], store=store)\nq3",
    "q4 = Quiz.inline(id='a01-q4', type='numeric', stem='满意率（%）', store=store)\nq4",
    "r1 = Reflection('a01-r1', '谈谈你的体会。', store=store)\nr1",
    # No store: the failure this design prevents (nbgrader #1359), kept here as the control.
    "lost = Quiz.inline(id='a01-q5', type='single', stem='？', options=['甲', '乙'])\nlost",
    "indicator_chart('武汉')",
]
# What a trainee's clicks and typing do to the widgets (these leave no code in the notebook).
TRAINEE = (
    "q1.control.value = '坚持党的全面领导'\n"
    "q2.dropdowns['阳泉'].value = '一居一律师'\nq2.dropdowns['武汉'].value = '小邻里'\n"
    "q3.order_buttons[1][0].click()\n"
    "q4.control.value = '９５．２'\n"
    "r1.textarea.value = '矛盾要早发现、早化解。'\n"
    "lost.control.value = '乙'\n"
    "q1.submit_button.click()\nprint(q1.feedback)"
)
EXPECTED = {
    "a01-q1": "坚持党的全面领导",
    "a01-q2": {"阳泉": "一居一律师", "武汉": "小邻里"},
    "a01-q3": ["受理", "查明事实", "签订协议"],
    "a01-q4": 95.2,
    "a01-r1": "矛盾要早发现、早化解。",
}
# Like a hidden test cell: a fresh store on the same file, plus what the widgets show.
CHECK = (
    "import json\n"
    "print(json.dumps({'store': AnswerStore('answers.json').all(),\n"
    "                  'widgets': {'a01-q1': q1.response, 'a01-q2': q2.response, 'a01-q3': q3.response,\n"
    "                              'a01-q4': q4.response, 'a01-r1': r1.text},\n"
    "                  'lost': lost.response}, ensure_ascii=False))"
)


def _run(notebook, folder):
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    return notebook


def _stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def test_answers_survive_save_and_a_new_kernel(tmp_path):
    notebook = new_notebook(cells=[new_markdown_cell("# 作业一"), new_code_cell(SETUP),
                                   *map(new_code_cell, WIDGET_CELLS), new_code_cell(TRAINEE)])
    _run(notebook, tmp_path)
    assert "已记录作答" in _stdout(notebook.cells[-1])
    widget_outputs = [o for c in notebook.cells[2:8] for o in c.outputs]
    assert all("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in widget_outputs)
    chart_output = notebook.cells[8].outputs
    assert any("image/png" in o.get("data", {}) for o in chart_output)  # a static image, fine offline
    assert not any(o.output_type == "stream" and o.name == "stderr" for c in notebook.cells if c.cell_type == "code" for o in c.outputs)

    # Save as the trainee's notebook is saved: the clicks are not code, so that cell is not in it.
    saved = tmp_path / "a01.ipynb"
    notebook.cells = notebook.cells[:-1]
    nbformat.write(notebook, saved)

    answers = tmp_path / "answers.json"
    before = (answers.read_bytes(), answers.stat().st_mtime_ns)
    rerun = nbformat.read(saved, as_version=4)
    rerun.cells.append(new_code_cell(CHECK))
    _run(rerun, tmp_path)  # a NEW kernel
    assert (answers.read_bytes(), answers.stat().st_mtime_ns) == before  # re-running only reads
    result = json.loads(_stdout(rerun.cells[-1]).strip().splitlines()[-1])
    assert result["store"] == EXPECTED
    assert result["widgets"] == EXPECTED
    assert result["lost"] is None  # the same click on a widget without a store did not survive

