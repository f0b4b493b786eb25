"""Lessons that teach application: objectives, the case template, measure status, 研讨 guides, the no-code route."""
from __future__ import annotations

import html
import json
import math
import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from dangxiao import data
from dangxiao.catalog import load_catalog
from dangxiao.cli import main
from dangxiao.errors import DangxiaoError
from dangxiao.lessons import (
    MINUTES_TOLERANCE,
    check_courses,
    estimated_minutes,
    measures_table,
    objective_problems,
    seminar_guide,
)
from dangxiao.seminars import load_seminar, load_seminars

ROOT = Path(__file__).resolve().parents[2]
COURSES = ROOT / "courses"
CATALOG = load_catalog(COURSES)
A04 = ROOT / "assignments" / "source" / "a04" / "a04_rexian_fenxi.ipynb"


def read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(COURSES / name, as_version=4)


def markdown_of(notebook) -> str:
    return "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")


def code_of(notebook) -> str:
    return "\n".join(c.source for c in notebook.cells if c.cell_type == "code")


# ------------------------------------------------------------------ objectives and minutes


@pytest.mark.parametrize("lesson", CATALOG.lessons, ids=[lesson.id for lesson in CATALOG.lessons])
def test_objectives_say_what_a_trainee_can_do_and_how_it_is_assessed(lesson):
    notebook = read(lesson.notebook)
    markdown = markdown_of(notebook)
    section = re.search(r"^## 学习目标\s*$(.*?)(?=^## )", markdown, re.M | re.S).group(1)
    items = re.findall(r"^\d+\. (.+)$", section, re.M)
    assert len(items) >= 2
    code = code_of(notebook)
    for item in items:
        assert item.startswith("能"), item
        assessed = re.search(r"（检验：([^）]+)）", item)
        assert assessed, f"{lesson.id}: objective names no assessment: {item}"
        # What it names exists: a quiz, the reflection, an exercise widget, a scenario, an assignment, the seminar.
        for part in re.split(r"[；、]", assessed.group(1)):
            if "自测题" in part:
                assert "QuizGroup(" in code or "Quiz.inline(" in code
            elif "思考题" in part:
                assert "Reflection(" in code
            elif "情景模拟" in part:
                assert "Scenario." in code
            elif "作业" in part:
                number = "一二三四".index(re.search(r"作业([一二三四])", part).group(1)) + 1
                assert list((ROOT / "assignments" / "source" / f"a0{number}").glob("*.ipynb")), part
            elif "研讨" in part:
                assert (COURSES / "seminars" / f"{lesson.module_id}.yaml").is_file(), part


def test_objective_check_flags_recall_statements(tmp_path):
    markdown = "## 学习目标\n\n1. 了解阳泉的做法；\n2. 能说出“三个坚持”（检验：自测题）。\n\n## 一、正文\n"
    problems = objective_problems(tmp_path / "x.ipynb", markdown)
    assert len(problems) == 1 and "了解阳泉的做法" in problems[0]


def test_catalog_minutes_match_the_estimate_of_material_and_activities():
    for lesson in CATALOG.lessons:
        estimate = estimated_minutes(COURSES / lesson.notebook)
        assert abs(lesson.minutes - estimate) <= MINUTES_TOLERANCE * estimate, (lesson.id, lesson.minutes, estimate)


def test_a_catalog_minute_far_from_the_estimate_is_reported(tmp_path):
    import shutil

    shutil.copytree(COURSES, tmp_path / "courses")
    catalog = tmp_path / "courses" / "catalog.yaml"
    text = catalog.read_text(encoding="utf-8")
    catalog.write_text(re.sub(r"(id: m3-l6\n(?:.*\n){2}\s+minutes: )\d+", r"\g<1>120", text), encoding="utf-8")
    report = "\n".join(check_courses(tmp_path / "courses"))
    assert "m3-l6: minutes 120" in report


# ------------------------------------------------------------------ case lessons: one template, measures with status

TEMPLATE = ("背景", "做法", "成效", "启示", "可复制的条件")


@pytest.mark.parametrize("lesson", [l for l in CATALOG.lessons if l.module_id == "m3" and l.id != "m3-l6"],
                         ids=lambda lesson: lesson.id)
def test_case_lessons_follow_the_template_and_show_measures_with_their_status(lesson):
    notebook = read(lesson.notebook)
    headings = [line for line in markdown_of(notebook).splitlines() if line.startswith("## ")]
    found = [next((i for i, h in enumerate(headings) if re.match(rf"## [一二三四五六七八九]、{name}", h)), None)
             for name in TEMPLATE]
    assert None not in found and found == sorted(found), headings
    assert re.search(r'measures_table\("[^"]+"\)', code_of(notebook))


def test_measures_table_marks_practice_and_proposal_from_the_dataset():
    shenyang = html.unescape(measures_table("沈阳市")._repr_html_())
    measures = data.measures().set_index("id")
    for measure_id in ("shenyang-m03", "shenyang-m04", "shenyang-m05"):
        row = measures.loc[measure_id]
        assert row["status"] == "建议"
        cell = shenyang.split(f"<b>{row['name']}</b></td><td>", 1)[1]
        assert cell.startswith("建议")
    assert "做法 6 项，建议 3 项" in shenyang
    assert set(measures.loc[measures["place"] == "法库县", "status"]) == {"建议"}
    with pytest.raises(DangxiaoError, match="建议"):
        measures_table("沈阳市", status="计划")


def test_m3_06_compares_five_places_on_five_dimensions_with_status_marks():
    markdown = markdown_of(read("m3_06_compare.ipynb"))
    grid = [line for line in markdown.splitlines() if line.startswith("| **")]
    dimensions = [re.match(r"\| \*\*(.+?)\*\*", line).group(1) for line in grid]
    assert dimensions == ["组织体系", "减负赋能", "法治", "数字治理", "群众参与"]
    header = next(line for line in markdown.splitlines() if line.startswith("| 维度"))
    assert [c.strip() for c in header.strip("|").split("|")][1:] == ["阳泉", "沈阳", "武汉", "银川", "法库"]
    for line in grid:
        assert len(line.strip("|").split("|")) == 6
        assert "〔做法〕" in line or "〔建议〕" in line
    faku = [line.strip("|").split("|")[5] for line in grid]
    assert not any("〔做法〕" in cell for cell in faku)  # Faku's article reports no practice by name
    assert "文章所写的地方情况" in markdown and "四关" in markdown


# ------------------------------------------------------------------ 研讨 guides


def test_every_module_has_a_seminar_guide_shown_in_its_lesson():
    seminars = {s.module: s for s in load_seminars(COURSES)}
    assert sorted(seminars) == [m.id for m in CATALOG.modules if m.id != "m0"]
    for module, seminar in seminars.items():
        lesson = CATALOG.lesson(seminar.lesson)
        assert lesson.module_id == module
        assert f'seminar_guide("{module}")' in code_of(read(lesson.notebook))
        assert sum(step.minutes for step in seminar.procedure) == seminar.minutes
        shown = seminar_guide(module)._repr_html_()
        for part in ("研讨题", "流程与时间", "发言提纲", "好的发言包含什么"):
            assert part in shown
        assert html.escape(seminar.questions[0]) in shown


def test_seminar_guide_with_bad_times_is_refused_naming_the_file(tmp_path):
    folder = tmp_path / "seminars"
    folder.mkdir()
    text = (COURSES / "seminars" / "m1.yaml").read_text(encoding="utf-8").replace("minutes: 60", "minutes: 90")
    (folder / "m1.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(DangxiaoError, match=r"m1\.yaml.*合计 60 分钟"):
        load_seminar("m1", tmp_path)


def test_seminar_command_writes_a_printable_page_and_keeps_an_existing_file(tmp_path, capsys):
    out = tmp_path / "研讨指南_m3.html"
    assert main(["seminar", "m3", "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "@page" in page and "模块三" in page
    assert "http" not in page  # nothing fetched from outside
    assert load_seminar("m3").questions[1] in html.unescape(page)
    out.write_text("教员的批注", encoding="utf-8")
    assert main(["seminar", "m3", "--out", str(out)]) == 1
    assert out.read_text(encoding="utf-8") == "教员的批注" and "已存在" in capsys.readouterr().err
    assert main(["seminar", "m3", "--out", str(out), "--force"]) == 0
    assert main(["seminar", "m9"]) == 1


# ------------------------------------------------------------------ the no-code route


def test_no_code_explorer_gives_the_pandas_routes_numbers():
    from dangxiao.widgets.hotline import HotlineExplorer

    calls = data.hotline()
    hours = (calls["closed_at"] - calls["received_at"]).dt.total_seconds() / 3600
    pandas_route = calls.assign(hours=hours, closed=calls["status"] == "已办结").groupby(["district", "category"]).agg(
        件数=("record_id", "size"), 办结时长中位数=("hours", "median"), 办结率=("closed", "mean"),
        平均满意度=("satisfaction", "mean"))
    explorer = HotlineExplorer(calls)
    widget_route = explorer.summary().sort_index()
    assert widget_route["件数"].tolist() == pandas_route["件数"].tolist()
    assert widget_route["办结时长中位数（小时）"].round(6).tolist() == pandas_route["办结时长中位数"].round(6).tolist()
    assert widget_route["平均满意度"].round(6).tolist() == pandas_route["平均满意度"].astype(float).round(6).tolist()
    # Filter 物业管理, group by district, sort by median hours: the slow district comes first, in table and chart.
    explorer.category_picker.value = "物业管理"
    explorer.grouping = "按区"
    explorer.measure = "办结时长中位数（小时）"
    assert explorer.summary().index[0] == "柳岸区"
    assert "物业管理" in explorer.note.value and "模拟数据" in explorer.table.value
    assert explorer.table.value.index("柳岸区") < explorer.table.value.index("晓岚区")
    assert explorer.chart.value.startswith('<img alt="办结时长中位数（小时）（按区，模拟数据）" src="data:image/png;base64,')
    assert "_" not in re.sub(r"<[^>]+>|class=\"[^\"]*\"|id=\"[^\"]*\"", "", explorer.table.value)  # no internal names
    explorer.status_picker.value = "办理中"
    assert explorer.summary()["办结率"].eq(0).all()


def test_lesson_tables_show_no_internal_column_names():
    from dangxiao.lessons import simulated

    calls = data.hotline().head(3)
    markup = simulated(calls, "前3行").to_html()
    for internal in ("record_id", "received_at", "closed_at", "satisfaction"):
        assert internal not in markup
    assert "记录编号" in markup and "模拟数据" in markup


def _a04_reference():
    calls = data.hotline()
    counts = calls["category"].value_counts()
    means = calls.groupby("district")["satisfaction"].mean()
    closed = calls[calls["closed_at"].notna()]
    hours = (closed["closed_at"] - closed["received_at"]).dt.total_seconds() / 3600
    return counts, means, float(hours.median())


def test_a04_model_answer_states_the_findings_of_the_data():
    counts, means, median = _a04_reference()
    notebook = nbformat.read(A04, as_version=4)
    answer = next(c.source for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "interpretation")
    assert f"**{counts.idxmax()}**，{int(counts.max())} 条" in answer
    assert f"**{means.idxmin()}**，{float(means.min()):.2f} 分" in answer
    assert f"**{median:.1f} 小时**" in answer
    assert "模拟数据" in answer and "接诉即办" not in answer  # no mechanism the sources do not name


def _released_a04(tmp_path, answers: dict) -> nbformat.NotebookNode:
    """The a04 notebook as a no-code trainee leaves it: solution regions stubbed as nbgrader releases them
    (and not run), hidden tests kept (so the grading is what autograde checks), answers in answers.json."""
    notebook = nbformat.read(A04, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code" and "### BEGIN SOLUTION" in cell.source:
            cell.source = re.sub(r"### BEGIN SOLUTION.*?### END SOLUTION", "# YOUR CODE HERE\nraise NotImplementedError()",
                                 cell.source, flags=re.S)
    (tmp_path / "answers.json").write_text(json.dumps(answers, ensure_ascii=False), encoding="utf-8")
    return notebook


def _failed_grade_cells(notebook) -> list[str]:
    return [c.metadata["nbgrader"]["grade_id"] for c in notebook.cells
            if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"
            and any(o.get("output_type") == "error" for o in c.get("outputs", []))]


@pytest.mark.parametrize("right", [True, False], ids=["right answers", "wrong answers"])
def test_a04_no_code_route_is_graded_from_the_widget_answers(tmp_path, offline_env, right):
    from nbclient import NotebookClient

    counts, means, median = _a04_reference()
    answers = {"a04-q1-top": counts.idxmax(), "a04-q1-count": int(counts.max()),
               "a04-q2-lowest": means.idxmin(), "a04-q2-value": round(float(means.min()), 2),
               "a04-q3-median": round(median, 1)}
    if not right:
        answers.update({"a04-q1-top": counts.index[1], "a04-q2-value": 4.5, "a04-q3-median": median + 10})
    notebook = _released_a04(tmp_path, answers)
    NotebookClient(notebook, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute(env=offline_env)
    failed = _failed_grade_cells(notebook)
    assert failed == ([] if right else ["q1", "q2", "q3"]), failed
    # The trainee's answers are still theirs after the run (the quiz widgets only read them back).
    assert json.loads((tmp_path / "answers.json").read_text(encoding="utf-8"))["a04-q1-top"] == answers["a04-q1-top"]


def test_half_width_brackets_in_chinese_text_are_reported(tmp_path):
    from dangxiao.lessons import check_notebook

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "## 学习目标\n\n1. 能说出村(社区)的职责（检验：思考题）。\n\n## 正文\n\n代码 `f(x)` 和 [链接](a.ipynb) 不算。")])
    nbformat.write(notebook, tmp_path / "x.ipynb")
    problems = [p for p in check_notebook(tmp_path / "x.ipynb", None, set(), set(), None) if "半角括号" in p]
    assert len(problems) == 2 and "村(社区)" in problems[0]


def test_a04_hidden_tests_share_no_line_with_what_the_trainee_sees():
    """Feedback pages are refused when a hidden-test line shows anywhere on them (dangxiao.grading.feedback);
    the two routes' test cells therefore never repeat a hidden line in their public part."""
    from dangxiao.grading.feedback import hidden_lines

    notebook = nbformat.read(A04, as_version=4)
    hidden = [line for cell in notebook.cells for line in hidden_lines(cell.source)]
    public = "".join(re.sub(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", "", cell.source, flags=re.S)
                     for cell in notebook.cells)
    squash = lambda text: re.sub(r"\s+", "", text)  # noqa: E731
    assert hidden and not [line for line in hidden if squash(line) in squash(public)]


def test_a_cell_naming_a_proposal_must_say_it_is_one(tmp_path):
    from dangxiao.lessons import proposal_problems

    cells = [nbformat.v4.new_markdown_cell("法库县用“四议一审两公开”实现了多元共治。"),
             nbformat.v4.new_markdown_cell("法库县的文章建议在农村用好“四议一审两公开”。"),
             nbformat.v4.new_markdown_cell("武汉推广“五步议事法”。")]
    for number, cell in enumerate(cells):
        cell.id = f"c{number}"
    proposals = data.measures().query("status == '建议'")["name"]
    problems = proposal_problems(tmp_path / "x.ipynb", cells, proposals)
    assert len(problems) == 1 and "c0" in problems[0] and "四议一审两公开" in problems[0]


def test_a_dataset_quotation_typed_into_a_lesson_is_reported(tmp_path):
    from dangxiao.lessons import check_notebook

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "## 学习目标\n\n1. 能说出要求（检验：思考题）。\n\n## 正文\n\n意见要求“推进基层治理法治建设”。")])
    nbformat.write(notebook, tmp_path / "x.ipynb")
    texts = set(data.quotations()["text"])
    problems = [p for p in check_notebook(tmp_path / "x.ipynb", None, texts, set(), None) if "show_quote" in p]
    assert len(problems) == 1 and "推进基层治理法治建设" in problems[0]
