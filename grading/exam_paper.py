"""nbgrader preprocessor: an exam submission's data cell must be a plain paper literal.

An exam notebook (`dangxiao.assessments.nbgrader_route`) carries the trainee's paper and answers in a
solution cell, `paper`, that autograde keeps as submitted and runs *before* the test cells. The exam
server writes it as `import json` + `PAPER = json.loads("…")`; anything else in that cell would be code
running in the grading kernel ahead of the tests — e.g. one line replacing `judge` with
`lambda *a: True` gives full marks. OverwriteCells restores the locked test cells, not this one.

`CheckPaperCell` runs in `Autograde.sanitize_preprocessors` right after `OverwriteCells`: when the
data cell is not exactly the literal form (`is_paper_literal`, an AST check, nothing executed), it is
replaced with `PAPER = {}`, so every position is graded as unanswered, and the reason is logged.
Notebooks without an exam data cell are left alone. Select it in `nbgrader_config.py` (the course does)::

    from dangxiao.grading.exam_paper import SANITIZE_PREPROCESSORS
    c.Autograde.sanitize_preprocessors = SANITIZE_PREPROCESSORS
"""
from __future__ import annotations

from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from dangxiao.assessments.nbgrader_route import DATA_CELL, EMPTY_PAPER_SOURCE, is_paper_literal

__all__ = ["CheckPaperCell", "SANITIZE_PREPROCESSORS"]

#: nbgrader 0.9's default `Autograde.sanitize_preprocessors` with this check after OverwriteCells, and
#: then the essays' key-point hints for the formgrader (`dangxiao.grading.essay_hints`)
SANITIZE_PREPROCESSORS = [
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "dangxiao.grading.exam_paper.CheckPaperCell",
    "dangxiao.grading.essay_hints.EssayKeyPointHints",
    "nbgrader.preprocessors.CheckCellMetadata",
]


class CheckPaperCell(NbGraderPreprocessor):
    data_grade_id = Unicode(
        DATA_CELL, help="考试数据单元的 grade_id / grade_id of an exam notebook's data cell").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id") == self.data_grade_id and meta.get("solution") and cell.cell_type == "code":
            if not is_paper_literal(cell.source):
                self.log.error("%s: 试卷单元 '%s' 不是考试系统写入的格式，已清空，各题按未作答评分 / "
                               "data cell is not a plain paper literal: emptied",
                               resources.get("nbgrader", {}).get("notebook", "?"), self.data_grade_id)
                cell.source = EMPTY_PAPER_SOURCE
        return cell, resources
