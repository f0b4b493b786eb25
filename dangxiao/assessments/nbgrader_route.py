"""Per-trainee papers graded by nbgrader's fixed grade cells.

nbgrader grades every submission of an assignment against one source notebook (#1153, #1433: no
per-student variants). A drawn paper still fits, because a blueprint fixes the *type and points of
every position* (order is shuffled only within a type, `dangxiao.assessments.paper`):

* The source notebook `source/<id>/<id>.ipynb` (built by `dangxiao exam build <id>`) has, after a
  read-only intro and a locked import cell,
  - one **data cell** `paper` (an nbgrader solution cell: it is the trainee's work, so autograde keeps
    it): `PAPER = json.loads(...)` — the items of the paper in order (id, type, options as displayed)
    and the answers. The exam server writes it at submission; nobody edits it by hand;
  - one **autograded test cell per position** `item_01 … item_NN` (locked, points of that position's
    type). Its visible part reads position k of `PAPER`; its hidden part holds the key of every item
    that can appear at that position and judges the answer with `dangxiao.assessments.kernel.judge` —
    the same function the exam server's `score_paper` uses, so gradebook and page agree;
  - for an essay (简答) position, a **manually graded answer cell** (Markdown) holding the trainee's
    text: it goes to the formgrader.
  The key therefore lives only in the source notebook's hidden tests and in nbgrader's gradebook
  (which stores the source cells): `generate_assignment` strips it from `release/`, and a submission
  is written from the release.
* `write_submission(...)` writes `submitted/<trainee>/<id>/<id>.ipynb` and nbgrader's `timestamp.txt`
  from the released notebook: the data cell filled in, the essay cells holding the answers, and before
  each position a plain Markdown cell (no nbgrader metadata) showing the stem, the options as the
  trainee saw them and the answer given, for whoever reads the submission in the formgrader (with the
  rubric of an essay when the bank item has one; its key points, for `dangxiao.grading.essay_hints`,
  also go in that cell's metadata under `dangxiao`). OverwriteCells restores the locked cells from the
  gradebook at autograde, so an altered test cannot pass.

Plain `nbgrader autograde <id>` in the course then gives each trainee the score their answers earn by
the key, into the gradebook.
"""
from __future__ import annotations

import datetime as _dt
import json
import pprint
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from dangxiao.assessments.blueprint import Blueprint, assessment_bank, check_blueprint, draw_pools
from dangxiao.assessments.kernel import AnswerError, answer_key, normalise_response
from dangxiao.assessments.paper import TRUE_FALSE_OPTIONS, TYPE_LABELS, Paper, draw_paper, rubric_lines
from dangxiao.errors import DangxiaoError
from dangxiao.questions import Question

__all__ = [
    "DATA_CELL",
    "REFERENCE_TRAINEE",
    "position_grade_id",
    "build_source_notebook",
    "write_source_notebook",
    "write_submission",
    "is_paper_literal",
    "read_paper_literal",
    "EMPTY_PAPER_SOURCE",
    "ESSAY_META",
    "RUBRIC_HEADING",
]

DATA_CELL = "paper"
SETUP_CELL = "setup"
#: whose paper the source notebook carries as its worked example (answered by the key)
REFERENCE_TRAINEE = "reference"
TRAINEE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")  # a folder name nbgrader and its collectors accept
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"  # nbgrader's Exchange.timestamp_format


#: metadata key of an essay's display cell in a submission: {"position", "item_id", "key_points"}
ESSAY_META = "dangxiao"
#: where an essay's rubric starts in its display cell (for the grader; feedback leaves it out)
RUBRIC_HEADING = "**评分要点 / rubric:**"


def position_grade_id(position: int) -> str:
    return f"item_{position:02d}"


def is_built_paper(path: Path | str) -> bool:
    """Whether the notebook at `path` is a paper `dangxiao exam build` wrote (it has the paper data cell),
    not a notebook written by hand in JupyterLab. False for a missing or unreadable file."""
    try:
        cells = json.loads(Path(path).read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError, AttributeError):
        return False
    return any(c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == DATA_CELL for c in cells)


def _meta(grade_id: str, *, grade: bool = False, solution: bool = False, locked: bool = False,
          points: float | None = None) -> dict:
    meta: dict[str, Any] = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
                            "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


DATA_HEADER = ("# 试卷与作答：交卷时由考试系统写入，学员不编辑 / the paper and the answers, written by the exam server\n"
               "import json\n")


def _paper_assignment(data: dict) -> str:
    # repr() of a str is always a valid Python literal: no answer text can break out of it
    return f"PAPER = json.loads({json.dumps(data, ensure_ascii=False, sort_keys=True)!r})"


#: what a data cell that is not a plain paper literal is replaced with before grading: every position fails
EMPTY_PAPER_SOURCE = ("# 试卷单元不是考试系统写入的格式，已清空：各题按未作答评分 / "
                      "the data cell was not a plain paper literal and was emptied\nPAPER = {}")


def read_paper_literal(source: str) -> dict | None:
    """The paper of a data cell that is exactly what `write_submission` writes — `import json` and
    `PAPER = json.loads("<one string literal>")` holding a JSON object, and nothing else — read
    without running it; None for anything else (e.g. code that would replace `judge`)."""
    import ast

    try:
        body = ast.parse(source).body
    except SyntaxError:
        return None
    if len(body) != 2 or not isinstance(body[0], ast.Import) or [a.name for a in body[0].names] != ["json"] \
            or body[0].names[0].asname is not None:
        return None
    assign = body[1]
    if not (isinstance(assign, ast.Assign) and len(assign.targets) == 1 and isinstance(assign.targets[0], ast.Name)
            and assign.targets[0].id == "PAPER" and isinstance(assign.value, ast.Call)):
        return None
    call = assign.value
    if not (isinstance(call.func, ast.Attribute) and call.func.attr == "loads" and isinstance(call.func.value, ast.Name)
            and call.func.value.id == "json" and len(call.args) == 1 and not call.keywords
            and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str)):
        return None
    try:
        data = json.loads(call.args[0].value)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def is_paper_literal(source: str) -> bool:
    """Whether a data cell is a plain paper literal (`read_paper_literal`): nothing in it can run code."""
    return read_paper_literal(source) is not None


def _data_source(data: dict) -> str:
    return f"{DATA_HEADER}\n{_paper_assignment(data)}"


def _paper_data(paper: Paper, answers: Mapping[str, Any]) -> dict:
    return {
        "assessment": paper.assessment_id, "trainee": paper.trainee_id, "attempt": paper.attempt, "seed": paper.seed,
        "items": [{"position": item.position, "id": item.item_id, "type": item.type,
                   "options": list(TRUE_FALSE_OPTIONS if item.type == "truefalse" else item.options),
                   "left": list(item.left)} for item in paper.items],
        "answers": {qid: value for qid, value in answers.items() if value is not None},
    }


def _position_keys(blueprint: Blueprint, bank: Mapping[str, Question]) -> dict[str, dict[str, dict]]:
    """type -> {item id: key} for every item that can appear in that type's section."""
    pools = draw_pools(blueprint, bank)
    keys: dict[str, dict[str, dict]] = {qtype: {} for qtype in blueprint.sections}
    candidates = list(blueprint.fixed) + [qid for pool in pools for qid in pool]
    for qid in sorted(set(candidates)):
        question = bank[qid]
        if question.type != "essay":
            keys[question.type][qid] = answer_key(question)
    return keys


def _reference_answers(paper: Paper, bank: Mapping[str, Question]) -> dict[str, Any]:
    """The key's answers to `paper`, in the form a trainee gives them (essays left out)."""
    answers: dict[str, Any] = {}
    for item in paper.items:
        question = bank[item.item_id]
        if question.type == "matching":
            answers[item.item_id] = dict(question.pairs)
        elif question.type == "ordering":
            answers[item.item_id] = list(question.items)
        elif question.type == "multiple":
            answers[item.item_id] = sorted(question.answer)
        elif question.type != "essay":
            answers[item.item_id] = question.answer
    return answers


def build_source_notebook(blueprint: Blueprint, bank: Mapping[str, Question]) -> nbformat.NotebookNode:
    """The nbgrader source notebook of a counted assessment (see the module docstring)."""
    if not blueprint.counted:
        raise DangxiaoError(f"{blueprint.file}: 练习不计入成绩，不生成 nbgrader 作业 / practice is not graded by nbgrader")
    full = assessment_bank(blueprint, bank)
    check_blueprint(blueprint, full)
    reference = draw_paper(blueprint, full, REFERENCE_TRAINEE, 1)
    keys = _position_keys(blueprint, full)

    sections = "\n".join(
        f"| {TYPE_LABELS.get(t, t)} `{t}` | {sum(1 for i in reference.items if i.type == t)} | {blueprint.points[t]:g} |"
        for t in blueprint.sections)
    intro = (
        f"# {blueprint.title}（`{blueprint.id}`）\n\n"
        f"本笔记本由 `dangxiao exam build {blueprint.id}` 从测验蓝图和题库生成，**请勿手工修改**；改蓝图或题库后重新生成。\n"
        "学员在课程网站上作答，每人一份随机组卷；交卷后考试系统把试卷与作答写入下面的数据单元（`submitted/<学员>/"
        f"{blueprint.id}/`），`nbgrader autograde {blueprint.id}` 按题位评分：第 k 个评分单元检查试卷第 k 题。\n"
        "隐藏测试中是该题位所有可能题目的答案；发布版与学员提交中没有答案。\n\n"
        "This notebook is generated from the blueprint and the bank; each test cell grades one position of the "
        "trainee's own paper.\n\n"
        f"| 题型 / type | 题数 / items | 每题分值 / points |\n|---|---|---|\n{sections}\n\n"
        f"满分 {reference.max_points:g} 分，及格 {blueprint.pass_mark:g}%，限时 {blueprint.time_limit} 分钟。"
    )
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells.append(new_markdown_cell(intro, metadata=_meta("intro", locked=True)))
    nb.cells.append(new_code_cell(
        "# 评分工具（锁定）/ grading helpers (locked)\nfrom dangxiao.assessments.kernel import judge, response_at",
        metadata=_meta(SETUP_CELL, locked=True)))
    example = _paper_assignment(_paper_data(reference, _reference_answers(reference, full)))
    nb.cells.append(new_code_cell(
        f"{DATA_HEADER}\n# 示例：学员 '{REFERENCE_TRAINEE}' 的试卷，按答案作答 / example paper answered by the key\n"
        f"### BEGIN SOLUTION\n{example}\n### END SOLUTION",
        metadata=_meta(DATA_CELL, solution=True)))
    for item in reference.items:
        gid = position_grade_id(item.position)
        label = TYPE_LABELS.get(item.type, item.type)
        if item.type == "essay":
            nb.cells.append(new_markdown_cell(
                f"第 {item.position} 题（{label}，{item.points:g} 分）：学员的回答由考试系统写入；题目与评分要点见提交中本单元上方。",
                metadata=_meta(gid, grade=True, solution=True, points=item.points)))
            continue
        key = pprint.pformat(keys[item.type], width=110, sort_dicts=True)
        nb.cells.append(new_code_cell(
            f"# 第 {item.position} 题（{label}，{item.points:g} 分）：自动评分，请勿修改 / autograded, do not edit\n"
            f"item_id, response = response_at(PAPER, {item.position}, {item.type!r})\n"
            f"assert response is not None, \"第 {item.position} 题未作答 / not answered\"\n"
            "### BEGIN HIDDEN TESTS\n"
            f"KEY = {key}\n"
            f"assert item_id in KEY, \"第 {item.position} 题不是本测验的题目 / not an item of this assessment\"\n"
            f"assert judge(KEY[item_id], response), \"第 {item.position} 题答错 / wrong answer\"\n"
            "### END HIDDEN TESTS",
            metadata=_meta(gid, grade=True, locked=True, points=item.points)))
    return nb


def _stable_ids(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    # nbformat gives new cells random ids; the grade id is unique and keeps a rebuild byte-identical
    for cell in notebook.cells:
        cell.id = cell.metadata["nbgrader"]["grade_id"]
    return notebook


def write_source_notebook(blueprint: Blueprint, bank: Mapping[str, Question], course_dir: Path | str) -> Path:
    """Write `source/<id>/<id>.ipynb` (no outputs). Refuses a folder holding another notebook."""
    folder = Path(course_dir) / "source" / blueprint.id
    target = folder / f"{blueprint.id}.ipynb"
    others = sorted(p.name for p in folder.glob("*.ipynb") if p != target) if folder.is_dir() else []
    if others:
        raise DangxiaoError(f"{folder}: 已有其他笔记本 {others[0]}，未写入；先移走它 / holds another notebook, not written")
    notebook = _stable_ids(build_source_notebook(blueprint, bank))
    nbformat.validate(notebook)
    folder.mkdir(parents=True, exist_ok=True)
    text = nbformat.writes(notebook) + "\n"
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")
    return target


_MARKDOWN_ACTIVE = re.compile(r"([\\`*_\[\]()#!|~])")


def _escape(text: str) -> str:
    """A trainee's text shown as Markdown stays text: no HTML, links, images or emphasis in the
    formgrader or the feedback page (entities for HTML, backslash escapes for Markdown)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_ACTIVE.sub(r"\\\1", text)


def _shown_answer(value: Any) -> str:
    if value is None:
        return "（未作答 / not answered）"
    if isinstance(value, bool):
        return TRUE_FALSE_OPTIONS[0] if value else TRUE_FALSE_OPTIONS[1]
    if isinstance(value, list):
        return "；".join(map(str, value))
    if isinstance(value, dict):
        return "；".join(f"{k} → {v}" for k, v in value.items())
    return str(value)


def _display_cell(item, response: Any, raw: Any, question: Question | None) -> nbformat.NotebookNode:
    label = TYPE_LABELS.get(item.type, item.type)
    lines = [f"### 第 {item.position} 题 · {label} · {item.points:g} 分 （`{item.item_id}`）", "", _escape(item.stem), ""]
    if item.type == "matching":
        lines += [f"- 左侧：{'；'.join(map(_escape, item.left))}", f"- 右侧（显示顺序）：{'；'.join(map(_escape, item.options))}", ""]
    elif item.options or item.type == "truefalse":
        shown = TRUE_FALSE_OPTIONS if item.type == "truefalse" else item.options
        lines += [f"{chr(65 + i)}. {_escape(option)}  " for i, option in enumerate(shown)] + [""]
    if item.type != "essay":
        answer = _shown_answer(response) if response is not None or raw is None else f"（无效作答 / invalid: {_shown_answer(raw)}）"
        lines.append(f"**学员作答 / answer:** {_escape(answer)}")
    else:
        rubric = rubric_lines(question) if question is not None else []
        if rubric:
            lines.append(RUBRIC_HEADING)
            lines += [f"- {_escape(line)}" for line in rubric]
    cell = new_markdown_cell("\n".join(lines))
    if item.type == "essay" and question is not None and question.key_points:
        cell.metadata[ESSAY_META] = {"position": item.position, "item_id": item.item_id,
                                     "key_points": [[text, list(synonyms)] for text, synonyms in question.key_points]}
    cell.id = f"shown-{item.position:02d}"
    return cell


def write_submission(course_dir: Path | str, trainee: str, paper: Paper, answers: Mapping[str, Any],
                     submitted_at: _dt.datetime, bank: Mapping[str, Question] | None = None,
                     replace: bool = False) -> Path:
    """Write a submitted paper as nbgrader's `submitted/<trainee>/<id>/` (notebook + `timestamp.txt`).

    Built from `release/<id>/<id>.ipynb` (run `dangxiao release <id> --no-exchange` or `nbgrader
    generate_assignment <id>` first). An existing submission is not replaced unless `replace`; then the
    old folder is moved to `exam_archive/<trainee>/<id>/<its timestamp>/`, never deleted. `bank` adds
    the essays' rubrics to the submission for the grader. Returns the submission folder.
    """
    course = Path(course_dir)
    if not TRAINEE_ID.match(trainee or ""):
        raise DangxiaoError(f"学员 id '{trainee}' 须为 ASCII 字母、数字、- 或 _（nbgrader 的文件夹名）/ trainee id must be ASCII")
    if trainee != paper.trainee_id:
        raise DangxiaoError(f"试卷属于 '{paper.trainee_id}'，不是 '{trainee}' / the paper belongs to another trainee")
    if not paper.counted:
        raise DangxiaoError(f"{paper.assessment_id}: 练习不计入成绩，不写入 nbgrader / practice is not submitted to nbgrader")
    if submitted_at.tzinfo is None:
        raise DangxiaoError("submitted_at 须带时区 / submitted_at must carry a time zone")
    release = course / "release" / paper.assessment_id / f"{paper.assessment_id}.ipynb"
    if not release.is_file():
        raise DangxiaoError(f"{release}: 找不到发布版；先运行 dangxiao release {paper.assessment_id} --no-exchange / not generated yet")
    stray = sorted(set(answers) - set(paper.item_ids))
    if stray:
        raise AnswerError(f"试卷 {paper.assessment_id}/{trainee}: 题目 '{stray[0]}' 不在这份试卷上 / answer for an item not on this paper")

    notebook = nbformat.read(release, as_version=4)
    cells = {cell.metadata.get("nbgrader", {}).get("grade_id"): cell for cell in notebook.cells}
    for item in paper.items:
        cell = cells.get(position_grade_id(item.position))
        expected_points = cell.metadata["nbgrader"].get("points") if cell is not None else None
        if cell is None or float(expected_points or 0) != item.points:
            raise DangxiaoError(f"{release}: 第 {item.position} 题的评分单元与试卷不符（蓝图改过？重新 dangxiao exam build）/ "
                                "the release does not match this paper's positions")
    if len([gid for gid in cells if gid and gid.startswith("item_")]) != len(paper.items):
        raise DangxiaoError(f"{release}: 题数与试卷不符 / the release has a different number of positions")

    normalised: dict[str, Any] = {}
    for item in paper.items:
        try:
            normalised[item.item_id] = normalise_response(
                item.type, answers.get(item.item_id), TRUE_FALSE_OPTIONS if item.type == "truefalse" else item.options, item.left)
        except AnswerError:
            normalised[item.item_id] = None  # earns nothing, as in score_paper; shown as invalid below
    cells[DATA_CELL].source = _data_source(_paper_data(paper, normalised))

    out = []
    by_position = {position_grade_id(item.position): item for item in paper.items}
    for cell in notebook.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        item = by_position.get(gid)
        if item is not None:
            question = bank.get(item.item_id) if bank is not None else None
            out.append(_display_cell(item, normalised[item.item_id], answers.get(item.item_id), question))
            if item.type == "essay":
                cell.source = _escape(normalised[item.item_id] or "")
        out.append(cell)
    notebook.cells = out
    nbformat.validate(notebook)

    folder = course / "submitted" / trainee / paper.assessment_id
    if folder.exists():
        if not replace:
            raise DangxiaoError(f"{folder}: 已有提交，未覆盖 / a submission is already there, not overwritten")
        stamp = (folder / "timestamp.txt").read_text(encoding="utf-8").strip() if (folder / "timestamp.txt").is_file() else "unknown"
        archive = course / "exam_archive" / trainee / paper.assessment_id / re.sub(r"[^0-9A-Za-z]+", "-", stamp).strip("-")
        if archive.exists():
            raise DangxiaoError(f"{archive}: 已存在，未覆盖 / already archived")
        archive.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(folder), str(archive))
    folder.mkdir(parents=True)
    (folder / release.name).write_text(nbformat.writes(notebook), encoding="utf-8")
    (folder / "timestamp.txt").write_text(
        submitted_at.astimezone(_dt.timezone.utc).strftime(TIMESTAMP_FORMAT), encoding="utf-8")
    return folder
