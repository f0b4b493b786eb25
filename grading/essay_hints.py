"""nbgrader preprocessor: key-point hints beside each essay (简答) of a test paper, for the formgrader.

A test paper's submission (`dangxiao.assessments.nbgrader_route.write_submission`) shows every essay
with its rubric, and keeps the bank item's key points in that display cell's metadata (`ESSAY_META`).
`EssayKeyPointHints` runs in `Autograde.sanitize_preprocessors` after `CheckPaperCell`: for each such
essay it matches the trainee's answer (from the paper data cell, read without running it) against the
key points with jieba (`dangxiao.grading.rubric_hints.suggest_key_points`) and puts a Markdown cell
just above the answer cell — ✓ or ✗ per key point, with the words found — so whoever grades in the
formgrader sees them. A hint, never a grade: the answer cell's score is the grader's alone.

A data cell that is not the plain paper literal yields no answers (CheckPaperCell has blanked it), so
every key point shows ✗. Grading again replaces the hint cell, it never adds a second one. Notebooks
without essays are left alone, and jieba is loaded only when there is an essay to read.

`paper_essay_hints(notebook)` gives the same hints for `dangxiao report <id> --hints`.

The hints and the rubric are for the grader. `HideGraderNotes`, in `GenerateFeedback.preprocessors`, takes
them out of the trainee's feedback page: a bank essay comes back in later papers, and its key points would
be its answer.
"""
from __future__ import annotations

from nbformat.v4 import new_markdown_cell
from nbgrader.preprocessors import NbGraderPreprocessor

from dangxiao.assessments.nbgrader_route import (
    DATA_CELL, ESSAY_META, RUBRIC_HEADING, position_grade_id, read_paper_literal,
)

__all__ = ["EssayKeyPointHints", "HideGraderNotes", "paper_essay_hints", "course_paper_hints", "hint_lines",
           "HINT_CELL_PREFIX"]

#: id of the hint cell above essay position k: `hints-07`
HINT_CELL_PREFIX = "hints-"
HINT_TITLE = "**要点提示（按关键词比对，仅供阅卷参考，不计分）/ key-point hints, not a grade:**"


def _grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def paper_essay_hints(notebook) -> list[tuple[int, str, str, list]]:
    """(index of the essay's display cell, grade id of its answer cell, item id, hints) for each essay of
    a paper submission that carries key points; [] for any other notebook."""
    from dangxiao.grading.rubric_hints import suggest_key_points

    data = next((read_paper_literal(c.source) or {} for c in notebook.cells
                 if _grade_id(c) == DATA_CELL and c.cell_type == "code"), None)
    if data is None:
        return []
    answers = data.get("answers") if isinstance(data.get("answers"), dict) else {}
    found = []
    for index, cell in enumerate(notebook.cells):
        meta = cell.get("metadata", {}).get(ESSAY_META)
        if cell.cell_type != "markdown" or not isinstance(meta, dict) or not meta.get("key_points"):
            continue
        answer = answers.get(meta.get("item_id"))
        points = [(str(text), tuple(map(str, synonyms))) for text, synonyms in meta["key_points"]]
        hints = suggest_key_points(answer if isinstance(answer, str) else "", points)
        found.append((index, position_grade_id(int(meta["position"])), str(meta.get("item_id")), hints))
    return found


def course_paper_hints(course, assignment: str) -> list[dict]:
    """`rubric_hints.course_hints` for a test paper: the rows of every submission's essays, the key
    points taken from each submission (no rubric file). A file that cannot be read is a row with its
    error; the others go on."""
    import nbformat

    from dangxiao.grading.rubric_hints import submission_notebooks

    rows = []
    for path in submission_notebooks(course, assignment):
        student = path.parent.parent.name
        try:
            notebook = nbformat.read(str(path), as_version=4)
        except Exception as error:  # a malformed or tampered file must not stop the others
            rows.append({"student": student, "notebook": path.stem,
                         "error": f"{path}: 无法读取笔记本 / cannot read notebook ({type(error).__name__})"})
            continue
        for _, gid, item_id, hints in paper_essay_hints(notebook):
            rows.append({"student": student, "notebook": path.stem, "cell": f"{gid}（{item_id}）", "hints": hints})
    return rows


def hint_lines(hints, bullet: str = "- ") -> list[str]:
    """One line per key point: ✓ covered / ✗ not, with the words found as evidence."""
    lines = []
    for hint in hints:
        evidence = f"（依据：{'、'.join(hint.evidence)}）" if hint.evidence else ""
        lines.append(f"{bullet}{'✓' if hint.covered else '✗'} {hint.key_point}{evidence}")
    return lines


class EssayKeyPointHints(NbGraderPreprocessor):
    """Insert (or replace) a key-point hint cell above each essay answer of a test paper."""

    def preprocess(self, nb, resources):
        found = paper_essay_hints(nb)
        if not found:
            return nb, resources
        by_display = {index: (gid, hints) for index, gid, _, hints in found}
        cells = []
        for index, cell in enumerate(nb.cells):
            if _is_hint_cell(cell):
                continue  # an earlier run's hints: written afresh below
            cells.append(cell)
            if index in by_display:
                gid, hints = by_display[index]
                hint = new_markdown_cell("\n".join([HINT_TITLE, "", *hint_lines(hints)]))
                if "id" in cell:  # nbformat >= 4.5 (what write_submission writes) has cell ids
                    hint.id = HINT_CELL_PREFIX + gid.removeprefix("item_")
                else:
                    hint.pop("id", None)
                cells.append(hint)
        nb.cells = cells
        return nb, resources


def _is_hint_cell(cell) -> bool:
    return cell.cell_type == "markdown" and cell.source.startswith(HINT_TITLE) and not cell.metadata.get("nbgrader")


class HideGraderNotes(NbGraderPreprocessor):
    """Feedback: drop the key-point hint cells, and an essay's rubric from its display cell."""

    def preprocess(self, nb, resources):
        nb.cells = [cell for cell in nb.cells if not _is_hint_cell(cell)]
        for cell in nb.cells:
            if cell.cell_type == "markdown" and not cell.metadata.get("nbgrader") and RUBRIC_HEADING in cell.source:
                cell.source = cell.source.split(RUBRIC_HEADING, 1)[0].rstrip()
        return nb, resources
