"""The lesson notebooks: they run offline in a real kernel, quote verbatim, match the catalog, copy no prose."""
from __future__ import annotations

import html
import json
import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from dangxiao import data
from dangxiao.catalog import load_catalog
from dangxiao.errors import DangxiaoError
from dangxiao.lessons import (
    REQUIRED_SECTIONS,
    check_courses,
    copied_runs,
    figure,
    flagged_rows,
    lesson_header,
    normalised_sources,
    quoted_spans,
    show_quote,
    sources_section,
)
from dangxiao.questions import load_bank

COURSES = Path(__file__).resolve().parents[2] / "courses"
BLOCKED = "dangxiao-tests: network blocked"  # what the kernels' sitecustomize (conftest.py) raises

CATALOG = load_catalog(COURSES)
LESSONS = CATALOG.lessons
QUOTATIONS = data.quotations()
QUOTE_TEXTS = set(QUOTATIONS["text"])
RENDERED_QUOTE = re.compile(r'<blockquote class="dx-quote".*?<div>(?:[^<“]*：)?“(.*?)”</div>', re.S)
GLYPH_WARNING = re.compile(r"missing from (the )?(current )?font|Glyph \d+|findfont", re.I)


def read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(COURSES / name, as_version=4)


def cell_text(cell) -> str:
    return cell.source if isinstance(cell.source, str) else "".join(cell.source)


def output_texts(notebook) -> list[str]:
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                texts.append(output.get("text", ""))
            elif output.get("output_type") == "error":
                texts.append("\n".join(output.get("traceback", [])))
            for kind, value in output.get("data", {}).items():
                if kind.startswith("text/"):
                    texts.append(value if isinstance(value, str) else "".join(value))
    return texts


# ------------------------------------------------------------------ execution (real kernel, offline)


def test_lesson_kernels_cannot_reach_the_network(run_notebook):
    probe = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import socket\n"
        "try:\n"
        "    socket.create_connection(('192.0.2.1', 80), timeout=2)\n"
        "    print('CONNECTED')\n"
        "except OSError as error:\n"
        "    print(error)\n"
        "try:\n"
        "    socket.getaddrinfo('cdn.jsdelivr.net', 443)\n"
        "    print('RESOLVED')\n"
        "except OSError as error:\n"
        "    print(error)\n"
    )])
    printed = "".join(output_texts(run_notebook(probe)))
    assert printed.count(BLOCKED) == 2, printed


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.id for lesson in LESSONS])
def test_lesson_runs_top_to_bottom_offline(lesson, executed_lessons):
    notebook = executed_lessons[lesson.notebook]
    if isinstance(notebook, Exception):
        raise notebook
    problems = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                problems.append(f"{cell.id}: {output.get('ename')}: {output.get('evalue')}")
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                problems.append(f"{cell.id}: stderr: {output.get('text', '')[:300]}")
    texts = output_texts(notebook)
    problems += [f"glyph/font warning: {t[:200]}" for t in texts if GLYPH_WARNING.search(t)]
    problems += [f"network: {t[:200]}" for t in texts if BLOCKED in t]
    assert not problems, "\n".join(problems)
    # Every quotation the lesson rendered is one of the dataset's, word for word.
    rendered = [html.unescape(q) for t in texts for q in RENDERED_QUOTE.findall(t)]
    assert all(q in QUOTE_TEXTS for q in rendered), [q for q in rendered if q not in QUOTE_TEXTS]
    assert len(rendered) == sum(cell_text(c).count("show_quote(") for c in notebook.cells if c.cell_type == "code")
    # Simulated data is labelled wherever a table of it is shown.
    for cell in notebook.cells:
        if cell.cell_type == "code" and re.search(r"\b(calls|summary|hotline)\b", cell_text(cell)):
            for output in cell.get("outputs", []):
                markup = output.get("data", {}).get("text/html", "")
                if "<table" in markup:
                    assert "模拟数据" in markup, f"{cell.id}: table of simulated data without 模拟数据"


# ------------------------------------------------------------------ catalog and structure


def test_catalog_and_notebooks_match():
    assert CATALOG.missing_notebooks() == []
    assert CATALOG.unlisted_notebooks() == []
    assert [m.id for m in CATALOG.modules] == ["m0", "m1", "m2", "m3", "m4"]
    assert len(CATALOG.modules[1].lessons) >= 3 and len(CATALOG.modules[3].lessons) == 6


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.id for lesson in LESSONS])
def test_lesson_has_every_required_part(lesson):
    notebook = read(lesson.notebook)
    markdown = "\n".join(cell_text(c) for c in notebook.cells if c.cell_type == "markdown")
    code = "\n".join(cell_text(c) for c in notebook.cells if c.cell_type == "code")
    headings = [line for line in markdown.splitlines() if line.startswith("#")]
    for section in REQUIRED_SECTIONS:
        assert any(section in h for h in headings), f"{lesson.notebook}: no heading {section}"
    # The duration shown is the catalog's: the lesson calls lesson_header with its own id.
    assert re.findall(r'lesson_header\("([^"]+)"\)', code) == [lesson.id]
    assert "Reflection(" in code
    assert "store=" not in code, "gallery lessons keep no answers"
    assert all(not c.get("outputs") and c.get("execution_count") is None
               for c in notebook.cells if c.cell_type == "code"), "outputs must be stripped"
    groups = re.findall(r"QuizGroup\((\[[^\]]*\]), reveal=True\)", code)
    if lesson.module_id != "m0":  # the 导学 has its own inline questions about using the course
        assert groups, f"{lesson.notebook}: no QuizGroup from the bank with reveal=True"
        bank = load_bank()
        for ids in groups:
            assert all(qid in bank for qid in json.loads(ids))
    else:
        assert "Quiz.inline(" in code and "reveal=True" in code


def test_lesson_header_shows_the_catalog_duration():
    for lesson in LESSONS:
        assert f"学习时长：<b>{lesson.minutes}</b> 分钟" in lesson_header(lesson.id)._repr_html_()


# ------------------------------------------------------------------ quotations


def all_cells():
    for lesson in LESSONS:
        for cell in read(lesson.notebook).cells:
            yield lesson.notebook, cell


def test_every_attributed_quotation_is_verbatim_from_the_dataset():
    attributed = [(name, span) for name, cell in all_cells() for span, is_attributed in quoted_spans(cell_text(cell))
                  if is_attributed]
    wrong = [(name, span) for name, span in attributed if span not in QUOTE_TEXTS]
    assert not wrong


def test_quote_helper_ids_exist_and_are_verbatim_in_their_article():
    sources = normalised_sources()
    if sources is None:
        pytest.skip("dangxiao.datasets.normalise 或原文目录不可用 / cannot normalise the articles here")
    used = {qid for _, cell in all_cells() for qid in re.findall(r'show_quote\("([^"]+)"\)', cell_text(cell))}
    assert used, "lessons quote through show_quote"
    rows = QUOTATIONS.set_index("id")
    assert used <= set(rows.index), used - set(rows.index)
    from dangxiao.copying import fold_width

    for qid in used:  # verbatim, punctuation width aside (the dataset displays full-width punctuation)
        assert f"“{fold_width(rows.loc[qid, 'text'])}”" in fold_width(sources[rows.loc[qid, "source"]]), qid


def test_quote_helper_renders_the_dataset_text_with_its_source():
    row = QUOTATIONS.iloc[0]
    markup = show_quote(row["id"])._repr_html_()
    assert f"“{html.escape(row['text'])}”" in markup
    title = data.sources().set_index("id").loc[row["source"], "title"]
    assert html.escape(title) in markup


def test_unquoted_formulations_are_found_in_the_articles():
    sources = normalised_sources()
    if sources is None:
        pytest.skip("dangxiao.datasets.normalise 或原文目录不可用 / cannot normalise the articles here")
    table = str.maketrans({",": "，", ":": "：", ";": "；", "(": "（", ")": "）"})
    corpus = [t.translate(table) for t in [*sources.values(), *QUOTE_TEXTS]]
    missing = [(name, span) for name, cell in all_cells() for span, _ in quoted_spans(cell_text(cell))
               if not any(span.translate(table) in doc for doc in corpus)]
    assert not missing


# ------------------------------------------------------------------ own words


def test_no_long_run_of_article_text_outside_quotations():
    sources = normalised_sources()
    if sources is None:
        pytest.skip("dangxiao.datasets.normalise 或原文目录不可用 / cannot normalise the articles here")
    from dangxiao.lessons import _canonical

    canonical = {key: _canonical(text) for key, text in sources.items()}
    copied = [(name, cell.id, run) for name, cell in all_cells() for run, _ in copied_runs(cell_text(cell), canonical)]
    assert not copied


def test_copy_check_catches_a_copied_sentence_but_not_a_quoted_one():
    sources = normalised_sources()
    if sources is None:
        pytest.skip("dangxiao.datasets.normalise 或原文目录不可用 / cannot normalise the articles here")
    from dangxiao.lessons import _canonical

    canonical = {key: _canonical(text) for key, text in sources.items()}
    sentence = next(line for line in sources["shenyang"].splitlines() if len(line) > 40)[:30]
    assert copied_runs(f"课程说明：{sentence}。", canonical)
    assert not copied_runs(f"原文写道“{sentence}”。", canonical)


def test_copy_check_ignores_punctuation_width_quotation_marks_and_spaces():
    sources = normalised_sources()
    if sources is None:
        pytest.skip("dangxiao.datasets.normalise 或原文目录不可用 / cannot normalise the articles here")
    # 002 writes half-width commas: the same words with full-width commas, spaces, a line break and a
    # pair of quotation marks around nothing are still the same 20+ characters.
    original = "引导群众决策共谋、发展共建、建设共管、效果共评、成果共享"
    assert original in sources["wuhan"]
    disguised = "我们的概括：引导群众决策共谋, 发展共建,\n建设共管 、效果共评、成果共享。"
    runs = copied_runs(disguised, sources)
    assert [source for _, source in runs] == ["wuhan"] and "效果共评" in runs[0][0]
    # 19 characters of it are not a copy; the whole of it inside quotation marks is a formulation.
    assert not copied_runs("决策共谋发展共建建设共管效果共评成", sources)
    assert not copied_runs(f"武汉提出“{original}”。", sources)
    # A quoted term breaks a run: the prose around it is counted on each side separately.
    assert copied_runs("银川健全街乡吹哨、部门报到上下联动机制，解决群众的急难愁盼。", sources)
    assert not copied_runs("银川健全“街乡吹哨、部门报到”上下联动机制，解决群众的急难愁盼。", sources)


def test_copy_check_covers_scenarios_and_assignments():
    sources = normalised_sources()
    if sources is None:
        pytest.skip("dangxiao.datasets.normalise 或原文目录不可用 / cannot normalise the articles here")
    from dangxiao.lessons import notebook_copy_problems, yaml_copy_problems
    from dangxiao.widgets.scenarios import SCENARIOS_DIR

    root = COURSES.parent
    problems = [p for path in sorted(SCENARIOS_DIR.glob("*.yaml")) for p in yaml_copy_problems(path, sources)]
    problems += [p for path in sorted(COURSES.rglob("*.yaml")) for p in yaml_copy_problems(path, sources)]
    # A test paper built from the bank carries the bank's text (checked with the bank), options run together.
    from dangxiao.assessments.nbgrader_route import is_built_paper

    problems += [p for path in sorted((root / "assignments" / "source").rglob("*.ipynb")) if not is_built_paper(path)
                 for p in notebook_copy_problems(path, sources)]
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------ check_courses (used by dangxiao validate)


def test_check_courses_finds_nothing_wrong_in_the_real_courses():
    assert check_courses(COURSES) == []


def test_check_courses_reports_each_kind_of_problem(tmp_path):
    (tmp_path / "catalog.yaml").write_text(
        "title: 测试\nmodules:\n  - id: m9\n    title: 测试模块\n    lessons:\n"
        "      - {id: m9-l1, title: 坏课, notebook: bad.ipynb, minutes: 10}\n"
        "      - {id: m9-l2, title: 缺课, notebook: gone.ipynb, minutes: 10}\n", encoding="utf-8")
    cell = nbformat.v4.new_code_cell("import ipywidgets as w\nout = w.Output()", execution_count=1,
                                     outputs=[nbformat.v4.new_output("stream", text="1\n")])
    fake = nbformat.v4.new_markdown_cell("# 坏课\n习近平总书记指出：“这是一句资料里没有的话。”")
    nbformat.write(nbformat.v4.new_notebook(cells=[fake, cell]), tmp_path / "bad.ipynb")
    nbformat.write(nbformat.v4.new_notebook(), tmp_path / "stray.ipynb")
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "made_up.yaml").write_text("intro: 文章提出了“三个一律清零”的做法。\n", encoding="utf-8")
    report = "\n".join(check_courses(tmp_path))
    expected = ["gone.ipynb: 目录中列出但文件不存在", "stray.ipynb: 未列入", "含有输出", "缺少“学习目标”",
                "lesson_header('m9-l1')", "缺少自测题", "缺少思考题控件", "这是一句资料里没有的话",
                "不要用 Output 控件"]
    if normalised_sources() is not None:  # wording in quotation marks is looked up in the articles
        expected.append("made_up.yaml: 引号内的提法不见于资料")
    for text in expected:
        assert text in report, text


# ------------------------------------------------------------------ helpers the lessons rely on


def test_figure_and_sources_come_from_the_datasets():
    indicators = data.indicators()
    row = indicators[indicators["place"] == "武汉市"].iloc[0]
    assert figure("武汉市", row["indicator"]) == row["text"]
    markup = sources_section(["wuhan", "faku"])._repr_html_()
    for title in data.sources().set_index("id").loc[["wuhan", "faku"], "title"]:
        assert html.escape(title) in markup


def test_flagged_rows_names_the_broken_limits():
    summary = pd.DataFrame(
        {"件数": [40, 30, 20], "办结时长中位数": [150.0, 20.0, 30.0], "办结率": [0.95, 0.85, 0.99],
         "平均满意度": [2.5, 3.9, 4.1]},
        index=pd.MultiIndex.from_tuples([("甲区", "物业管理"), ("乙区", "噪音扰民"), ("丙区", "供水供暖")]))
    flagged = flagged_rows(summary, {"办结时长中位数": 120, "办结率": 0.9, "平均满意度": 3.0})
    assert list(flagged.index) == [("甲区", "物业管理"), ("乙区", "噪音扰民")]
    assert list(flagged["关注原因"]) == ["办结时长中位数；平均满意度", "办结率"]
    with pytest.raises(DangxiaoError, match="办结率"):
        flagged_rows(summary.drop(columns="办结率"), {"办结率": 0.9})


def test_flag_explorer_rewrites_its_table_as_a_slider_moves_without_an_output_widget():
    import ipywidgets as widgets

    from dangxiao.lessons import flag_explorer

    summary = pd.DataFrame(
        {"件数": [40, 30], "办结时长中位数": [20.0, 20.0], "办结率": [0.95, 0.99], "平均满意度": [2.5, 3.5]},
        index=pd.MultiIndex.from_tuples([("甲区", "物业管理"), ("乙区", "噪音扰民")]))
    box = flag_explorer(summary)
    # A cell displaying into an Output widget can stall a Voila page (see flag_explorer).
    assert not any(isinstance(child, widgets.Output) for child in box.children)
    sliders, table = box.children[:-1], box.children[-1]
    assert "需要关注的行：共 1 行" in table.value and "模拟数据" in table.value and "甲区" in table.value
    satisfaction = next(slider for slider in sliders if "满意度" in slider.description)
    satisfaction.value = 4.0
    assert "需要关注的行：共 2 行" in table.value and "乙区" in table.value


def test_explore_shows_the_card_of_the_pressed_button():
    from dangxiao.lessons import explore

    box = explore({"甲": "第一段说明", "乙": "第二段<说明>"})
    buttons, panel = box.children
    assert "第一段说明" in panel.value
    buttons.value = "乙"
    assert "第二段&lt;说明&gt;" in panel.value and "第一段" not in panel.value
