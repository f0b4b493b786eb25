"""Helpers the lesson notebooks call, so that their code cells stay short for non-programmers.

Every fact a lesson shows comes from the datasets by code: quotations by id (`show_quote`), figures by
place and indicator (`figure`, `facts`), sources by id (`sources_section`), durations from the catalog
(`lesson_header`). `check_courses()` is the pre-class check that `dangxiao validate` runs over `courses/`.
"""
from __future__ import annotations

import html
import re
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping

from dangxiao.copying import COPY_RUN, copied_runs, fold_width, string_values

__all__ = [
    "lesson_header",
    "show_quote",
    "figure",
    "facts",
    "figure_counts",
    "measures_table",
    "seminar_guide",
    "STATUS_LABELS",
    "sources_section",
    "course_map",
    "simulated",
    "DISPLAY_LABELS",
    "simulated_chart",
    "explore",
    "flag_explorer",
    "flagged_rows",
    "check_courses",
    "check_notebook",
    "check_scenario_files",
    "notebook_copy_problems",
    "yaml_copy_problems",
    "objective_problems",
    "proposal_problems",
    "estimated_minutes",
    "MINUTES_TOLERANCE",
    "quoted_spans",
    "copied_runs",
    "COPY_RUN",
    "REQUIRED_SECTIONS",
]

SIMULATED = "模拟数据"
# A lesson must name these sections in a markdown heading (the 学习时长 comes from `lesson_header`).
REQUIRED_SECTIONS = ("学习目标", "思考题", "资料来源")


class Html:
    """Rich output that Jupyter and Voila both render (the last expression of a cell)."""

    def __init__(self, markup: str):
        self.markup = markup

    def _repr_html_(self) -> str:
        return self.markup

    def __repr__(self) -> str:  # plain-text fallback, e.g. in a terminal
        return re.sub(r"<[^>]+>", "", self.markup)


def _data():
    from dangxiao import data

    return data


def _esc(value) -> str:
    return html.escape(str(value))


# ---------------------------------------------------------------- catalog


def _catalog():
    from dangxiao.catalog import load_catalog

    return load_catalog()


def lesson_header(lesson_id: str) -> Html:
    """The lesson's module, title and duration (minutes), as listed in `courses/catalog.yaml`."""
    catalog = _catalog()
    lesson = catalog.lesson(lesson_id)
    module = next(m for m in catalog.modules if m.id == lesson.module_id)
    return Html(
        '<div class="dx-lesson-header" style="border-left:4px solid #b22222;padding:6px 12px;margin:4px 0">'
        f"<div>{_esc(module.title)}</div>"
        f'<div style="font-size:1.2em;font-weight:bold">{_esc(lesson.title)}</div>'
        f"<div>学习时长：<b>{lesson.minutes}</b> 分钟（课程编号 {_esc(lesson.id)}）</div></div>"
    )


def course_map() -> Html:
    """Every module and lesson in teaching order, with minutes and notebook links."""
    catalog = _catalog()
    rows = []
    for module in catalog.modules:
        minutes = sum(lesson.minutes for lesson in module.lessons)
        rows.append(f'<tr style="background:#f3e9e9"><th colspan="2" style="text-align:left">{_esc(module.title)}</th>'
                    f"<th>{minutes} 分钟</th></tr>")
        for lesson in module.lessons:
            rows.append(f"<tr><td>{_esc(lesson.id)}</td>"
                        f'<td><a href="{_esc(lesson.notebook)}">{_esc(lesson.title)}</a></td>'
                        f"<td>{lesson.minutes} 分钟</td></tr>")
    total = sum(lesson.minutes for lesson in catalog.lessons)
    return Html(
        f"<table><caption>{_esc(catalog.title)}：共 {len(catalog.lessons)} 课，{total} 分钟</caption>"
        "<tr><th>编号</th><th>课程</th><th>时长</th></tr>" + "".join(rows) + "</table>"
    )


# ---------------------------------------------------------------- sources and quotations


def _source_row(source_id: str):
    sources = _data().sources()
    match = sources[sources["id"] == source_id]
    if match.empty:
        from dangxiao.errors import DangxiaoError

        raise DangxiaoError(f"sources: 没有来源 '{source_id}' / no such source id")
    return match.iloc[0]


def _cite(row) -> str:
    parts = [f"《{_esc(row['title'])}》"]
    for key in ("author", "date"):
        value = row.get(key)
        if isinstance(value, str) and value.strip():
            parts.append(_esc(value.strip()))
    return "，".join(parts)


def show_quote(quote_id: str) -> Html:
    """A quotation from the `quotations` dataset, verbatim in quotation marks, with speaker and source."""
    quotations = _data().quotations()
    match = quotations[quotations["id"] == quote_id]
    if match.empty:
        from dangxiao.errors import DangxiaoError

        raise DangxiaoError(f"quotations: 没有引文 '{quote_id}' / no such quotation id")
    row = match.iloc[0]
    speaker = row["speaker"] if isinstance(row["speaker"], str) and row["speaker"].strip() else ""
    said = f"{_esc(speaker)}：" if speaker else ""
    return Html(
        '<blockquote class="dx-quote" style="border-left:4px solid #999;margin:8px 0;padding:4px 12px">'
        f"<div>{said}“{_esc(row['text'])}”</div>"
        f'<div style="color:#555;font-size:0.9em">——引自{_cite(_source_row(row["source"]))}</div>'
        "</blockquote>"
    )


def sources_section(source_ids: Iterable[str]) -> Html:
    """The lesson's 资料来源: title, author and date of each article, from the `sources` dataset."""
    items = []
    for source_id in source_ids:
        row = _source_row(source_id)
        place = row.get("place")
        where = f"（{_esc(place)}）" if isinstance(place, str) and place else ""
        items.append(f"<li>{_cite(row)}{where}</li>")
    return Html('<ol class="dx-sources">' + "".join(items) + "</ol>")


# ---------------------------------------------------------------- figures


def _indicator_rows(place: str | None = None, indicators: Iterable[str] | None = None):
    table = _data().indicators()
    if place is not None:
        table = table[table["place"] == place]
    if indicators is not None:
        wanted = list(indicators)
        missing = [name for name in wanted if name not in set(table["indicator"])]
        if missing:
            from dangxiao.errors import DangxiaoError

            raise DangxiaoError(f"indicators: {place or ''} 没有指标 {missing[0]!r} / no such indicator")
        table = table.set_index("indicator").loc[wanted].reset_index()
    return table


def figure(place: str, indicator: str) -> str:
    """The figure exactly as the source writes it (e.g. “15.6万名”), looked up by place and indicator."""
    return str(_indicator_rows(place, [indicator]).iloc[0]["text"])


def facts(place: str | None = None, indicators: Iterable[str] | None = None):
    """A table of figures (as written in the source) for a place, with the source id."""
    table = _indicator_rows(place, indicators)
    shown = table[["place", "indicator", "text", "source"]].rename(
        columns={"place": "地方", "indicator": "指标", "text": "原文数字", "source": "来源"})
    title = f"{place}：资料中的数字" if place else "资料中的数字"
    return shown.style.hide(axis="index").set_caption(title)


def figure_counts():
    """How many figures each article gives, for all five places (0 where an article gives none)."""
    places = _data().places()["place"]
    counts = _data().indicators().groupby("place").size().reindex(places, fill_value=0)
    table = counts.rename("文章给出的数字个数").rename_axis("地方").to_frame()
    return table.style.set_caption("各地文章中的数字个数（据指标数据集统计）")


# A measure's status, as trainees read it (the dataset's `status` column: 做法 or 建议).
STATUS_LABELS = {"做法": "做法（文章报道已实施）", "建议": "建议（文章提出，未报道实施）"}


def measures_table(place: str, status: str | None = None) -> Html:
    """The place's named measures from the `measures` dataset, each marked 做法 or 建议."""
    from dangxiao.errors import DangxiaoError

    table = _data().measures()
    rows = table[table["place"] == place]
    if rows.empty:
        raise DangxiaoError(f"measures: 没有地方 '{place}' 的条目 / no measures for this place")
    if status is not None:
        if status not in STATUS_LABELS:
            raise DangxiaoError(f"measures: 性质 '{status}' 须为 做法 或 建议 / status must be 做法 or 建议")
        rows = rows[rows["status"] == status]
    body = "".join(
        f"<tr><td><b>{_esc(row['name'])}</b></td><td>{_esc(STATUS_LABELS.get(row['status'], '未标明'))}</td>"
        f"<td>{_esc(row['description'])}</td></tr>" for _, row in rows.iterrows())
    counts = rows["status"].value_counts()
    caption = f"{_esc(place)}：文章中有名称的措施（做法 {counts.get('做法', 0)} 项，建议 {counts.get('建议', 0)} 项）"
    return Html(f'<table class="dx-measures"><caption>{caption}</caption>'
                "<tr><th>名称</th><th>性质</th><th>说明（课程的概括）</th></tr>" + body + "</table>")


def seminar_guide(module: str) -> Html:
    """The module's 研讨 guide (`courses/seminars/<module>.yaml`): questions, procedure, outline, criteria."""
    from dangxiao.seminars import load_seminar, seminar_html

    return Html(seminar_html(load_seminar(module)))


# ---------------------------------------------------------------- simulated data


# Columns of the simulated hotline data (and those lesson m4_01 adds), as trainees read them: tables on
# the page never show an internal column name.
DISPLAY_LABELS = {
    "record_id": "记录编号", "district": "区", "category": "诉求类别", "received_at": "受理时间",
    "closed_at": "办结时间", "satisfaction": "满意度", "status": "办理状态", "hours": "办理用时（小时）",
    "closed": "是否办结", "办结时长中位数": "办结时长中位数（小时）",
}


def _labelled(frame):
    frame = frame.rename(columns=DISPLAY_LABELS)
    names = [DISPLAY_LABELS.get(name, name) for name in frame.index.names]
    return frame.rename_axis(index=names if len(names) > 1 else names[0])


def simulated(table, title: str, percent: Iterable[str] = ()):
    """Show a DataFrame with a caption saying it is simulated (模拟数据); `percent` columns as 95%.

    Column and index names are shown in Chinese (`DISPLAY_LABELS`): record_id → 记录编号 …
    """
    caption = title if SIMULATED in title else f"{title}（{SIMULATED}）"
    frame = table.to_frame() if hasattr(table, "to_frame") and not hasattr(table, "columns") else table
    frame = _labelled(frame)
    styler = frame.style.format(precision=1)
    percent = [DISPLAY_LABELS.get(column, column) for column in percent]
    percent = [column for column in percent if column in frame.columns]
    if percent:
        styler = styler.format("{:.0%}", subset=percent)
    return styler.set_caption(caption)


def simulated_chart(series, title: str, xlabel: str = "", ylabel: str = ""):
    """A horizontal bar chart of a Series, titled as 模拟数据, using the font the widgets package ships."""
    import matplotlib.pyplot as plt

    _use_chinese_font()
    caption = title if SIMULATED in title else f"{title}（{SIMULATED}）"
    fig, ax = plt.subplots(figsize=(7, 0.45 * max(len(series), 4) + 1))
    series.sort_values().plot.barh(ax=ax, color="#b22222")
    ax.set_title(caption)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    fig.tight_layout()
    plt.close(fig)  # shown once, as the cell's value, not again by the inline backend
    return fig


def _use_chinese_font() -> None:
    from dangxiao.widgets.fonts import use_cjk_font

    use_cjk_font()


# ---------------------------------------------------------------- small interactive pieces


def explore(cards: dict[str, str], description: str = "点选查看："):
    """Buttons that each show one short explanation (a widget that works in Voila)."""
    import ipywidgets as widgets

    names = list(cards)
    buttons = widgets.ToggleButtons(options=names, value=names[0], description=description,
                                    style={"description_width": "initial", "button_width": "auto"})
    panel = widgets.HTML(layout=widgets.Layout(border="1px solid #ddd", padding="6px 12px", margin="6px 0"))

    def show(change=None):
        panel.value = f"<b>{_esc(buttons.value)}</b><p>{_esc(cards[buttons.value])}</p>"

    buttons.observe(show, names="value")
    show()
    return widgets.VBox([buttons, panel])


FLAG_RULES = (  # column, label, rule, slider range, default, step
    ("办结时长中位数", "办结时长中位数超过（小时）", "above", (24.0, 240.0), 120.0, 12.0),
    ("办结率", "办结率低于", "below", (0.80, 1.0), 0.90, 0.01),
    ("平均满意度", "平均满意度低于（分）", "below", (1.0, 5.0), 3.0, 0.1),
)


def flagged_rows(summary, limits: dict[str, float]):
    """Rows of a district × category summary that break any limit, with the reasons in a 关注原因 column
    (the limits' Chinese names, e.g. 办结时长中位数超过（小时）→ 办结时长中位数)."""
    import pandas as pd

    from dangxiao.errors import DangxiaoError

    missing = [column for column in limits if column not in summary.columns]
    if missing:
        raise DangxiaoError(f"汇总表缺少列 {missing[0]!r}（需要 {'、'.join(r[0] for r in FLAG_RULES)}）"
                            f" / the summary lacks column {missing[0]!r}")
    reasons = pd.Series("", index=summary.index)
    for column, _, rule, _, _, _ in FLAG_RULES:
        if column not in limits:
            continue
        values = summary[column].astype("float64")
        broken = values > limits[column] if rule == "above" else values < limits[column]
        reasons = reasons.where(~broken.fillna(False), reasons + "；" + column)
    reasons = reasons.str.lstrip("；")
    table = summary.assign(关注原因=reasons)
    return table[table["关注原因"] != ""]


def flag_explorer(summary):
    """Sliders for the three limits and the flagged rows of `summary` (模拟数据), updated as they move."""
    import ipywidgets as widgets

    sliders = {}
    for column, label, _, (low, high), default, step in FLAG_RULES:
        sliders[column] = widgets.FloatSlider(
            value=default, min=low, max=high, step=step, description=label, readout_format=".2f",
            style={"description_width": "initial"}, layout=widgets.Layout(width="460px"))
    # The table is an HTML widget's value, not what an Output widget displays: under Voila 0.5 a cell that
    # displays into an Output widget now and then never finishes (voila #1428). This lesson stalled so in
    # CI; a notebook doing only that stalled in 8 of 120 concurrent loads here, its HTML twin in none.
    table = widgets.HTML()

    def refresh(change=None):
        limits = {column: slider.value for column, slider in sliders.items()}
        rows = flagged_rows(summary, limits)
        styled = simulated(rows, f"需要关注的行：共 {len(rows)} 行", percent=["办结率"])
        # Lab's table look, left-aligned as tables are in an output area.
        styled = styled.set_table_attributes('style="margin-left: 0"')
        table.value = f'<div class="jp-RenderedHTMLCommon">{styled.to_html()}</div>'

    for slider in sliders.values():
        slider.observe(refresh, names="value")
    refresh()
    return widgets.VBox([*sliders.values(), table])


# ---------------------------------------------------------------- checking the courses

# “…” spans; an attributed one is preceded by a speech verb (指出：“…”) or followed by a dash (“…”——某某).
QUOTED = re.compile(r"“([^“”]+)”")
SPEECH = re.compile(r"(指出|强调|说|说道|所说|提出|要求|叮嘱|写道|表示|称赞|称)[：:，,]?\s*$")
SHOW_QUOTE_CALL = re.compile(r"show_quote\(\s*['\"]([^'\"]+)['\"]\s*\)")
LESSON_HEADER_CALL = re.compile(r"lesson_header\(\s*['\"]([^'\"]+)['\"]\s*\)")
# Widgets that display into an Output widget while the lesson runs, which can stall a Voila page (see
# flag_explorer).
OUTPUT_WIDGET_USE = re.compile(r"\b(Output|interactive_output|interactive|interact|interact_manual)\s*\(|@interact")


def quoted_spans(text: str) -> list[tuple[str, bool]]:
    """Every “…” span in `text`, with whether it is attributed to a speaker."""
    spans = []
    for match in QUOTED.finditer(text):
        before = text[max(0, match.start() - 8):match.start()]
        after = text[match.end():match.end() + 2]
        spans.append((match.group(1), bool(SPEECH.search(before)) or after == "——"))
    return spans


def _canonical(text: str) -> str:
    # The articles mix half- and full-width punctuation: compare formulations on one form.
    return fold_width(text)


@lru_cache(maxsize=1)
def normalised_sources() -> dict[str, str] | None:
    """Each source article as normalised simplified text, or None when it cannot be built here.

    The articles are looked for in `$DANGXIAO_SEEDS`, else in `../shared/seeds` beside the checkout;
    `dangxiao validate --sources DIR` passes its own folder's texts to `check_courses` instead.
    """
    try:
        from dangxiao.datasets.normalise import normalise
    except ImportError:
        return None
    texts = {}
    for row in _data().sources().itertuples():
        path = _seed_path(row.file)
        if path is None:
            return None
        texts[row.id] = normalise(path)
    return texts


def _seed_path(name: str) -> Path | None:
    import os

    from dangxiao.paths import project_root

    # DANGXIAO_SEEDS, else the shared folder beside the checkout (../shared/seeds).
    candidates = [os.environ.get("DANGXIAO_SEEDS", ""), project_root().parent / "shared" / "seeds"]
    for folder in candidates:
        if folder and (Path(folder) / name).is_file():
            return Path(folder) / name
    return None


def _cell_text(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _copy_problems(path: Path, where: str, text: str, sources: Mapping[str, str] | None) -> list[str]:
    return [f"{path}: {where} 与原文 {source_id} 有一段相同文字，请用自己的话改写 / copied from the article: {run}"
            for run, source_id in copied_runs(text, sources or {})] if sources else []


def notebook_copy_problems(path: Path, sources: Mapping[str, str] | None) -> list[str]:
    """Copied prose in every cell (markdown, and the strings a code cell shows) of one notebook."""
    import nbformat

    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception as error:
        return [f"{path}: 无法读取 / unreadable notebook: {error}"]
    return [problem for cell in notebook.cells
            for problem in _copy_problems(path, f"单元格 {cell.get('id', '?')}", _cell_text(cell), sources)]


def yaml_copy_problems(path: Path, sources: Mapping[str, str] | None, skip: Iterable[str] = ()) -> list[str]:
    """Copied prose in every string of one YAML file (keys in `skip` left out: names, verbatim quotations)."""
    import yaml

    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        return [f"{path}: 无法读取 YAML / unreadable YAML: {str(error).splitlines()[0]}"]
    return [problem for where, text in string_values(document, skip)
            for problem in _copy_problems(path, where, text, sources)]


def _quotation_problems(path: Path, text: str, quotation_texts: set[str], sources: Mapping[str, str] | None) -> list[str]:
    """Attributed “…” must be a dataset quotation; other “…” (a named formulation) must occur in an article."""
    problems = []
    folded_quotes = {fold_width(q) for q in quotation_texts}
    corpus = [fold_width(t) for t in (sources or {}).values()] + sorted(folded_quotes)
    for span, attributed in quoted_spans(text):
        if attributed:
            if fold_width(span) not in folded_quotes:
                problems.append(f"{path}: 引文与资料不符 / quotation not verbatim in the quotations dataset: “{span}”")
        elif sources and not any(fold_width(span) in doc for doc in corpus):
            problems.append(f"{path}: 引号内的提法不见于资料 / quoted wording not found in the sources: “{span}”")
    return problems


# Words that mark a passage as speaking of a proposal (建议 measures must be named in such a cell).
PROPOSAL_MARKERS = ("建议", "对策", "提出", "可通过", "可以")


def proposal_problems(path: Path, cells, proposals: Iterable[str]) -> list[str]:
    """A cell naming a measure the dataset marks 建议 must say it is a proposal (建议, 对策, 提出 …)."""
    problems = []
    names = [fold_width(name) for name in proposals]
    for cell in cells:
        text = fold_width(_cell_text(cell))
        if any(marker in text for marker in PROPOSAL_MARKERS):
            continue
        for name in names:
            if name in text:
                problems.append(f"{path}: 单元格 {cell.get('id', '?')} 提到“{name}”，数据集中它是文章提出的建议，"
                                f"须写明是建议 / names a proposal without saying it is one")
    return problems


def check_notebook(path: Path, lesson_id: str | None, quotation_texts: set[str], quotation_ids: set[str],
                   sources: Mapping[str, str] | None, proposals: Iterable[str] = ()) -> list[str]:
    """Problems of one lesson notebook, one line each."""
    import nbformat

    problems: list[str] = []
    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception as error:  # unreadable JSON or schema: name the file and move on
        return [f"{path}: 无法读取 / unreadable notebook: {error}"]
    markdown = "\n".join(_cell_text(c) for c in notebook.cells if c.cell_type == "markdown")
    code = "\n".join(_cell_text(c) for c in notebook.cells if c.cell_type == "code")
    if any(c.get("outputs") or c.get("execution_count") for c in notebook.cells if c.cell_type == "code"):
        problems.append(f"{path}: 含有输出，请清除后提交 / has outputs: strip them")
    headings = [line for line in markdown.splitlines() if line.lstrip().startswith("#")]
    for section in REQUIRED_SECTIONS:
        if not any(section in line for line in headings):
            problems.append(f"{path}: 缺少“{section}”小节 / missing section {section}")
    headers = LESSON_HEADER_CALL.findall(code)
    if lesson_id and headers != [lesson_id]:
        problems.append(f"{path}: 须调用 lesson_header('{lesson_id}') 显示学习时长 / must show its duration")
    if "QuizGroup(" not in code and "Quiz." not in code:
        problems.append(f"{path}: 缺少自测题 / missing a self-check quiz")
    if "Reflection(" not in code:
        problems.append(f"{path}: 缺少思考题控件 / missing a Reflection widget")
    if "store=" in code:
        problems.append(f"{path}: 课程页面不保存答案，请去掉 store= / lessons use no answer store")
    if OUTPUT_WIDGET_USE.search(code):
        problems.append(f"{path}: 课程中不要用 Output 控件或 interact（Voila 页面可能卡住），改为更新 HTML 控件的 value"
                        f" / no Output widget or interact in lessons (Voila pages can stall): set an HTML widget's value")
    for quote_id in SHOW_QUOTE_CALL.findall(code):
        if quotation_ids and quote_id not in quotation_ids:
            problems.append(f"{path}: 引文编号不存在 / unknown quotation id: {quote_id}")
    problems += objective_problems(path, markdown)
    problems += proposal_problems(path, notebook.cells, proposals)
    folded_quotes = {fold_width(q) for q in quotation_texts}
    for span, _ in quoted_spans(markdown):  # a dataset quotation is shown with its speaker and source
        if fold_width(span) in folded_quotes:
            problems.append(f"{path}: “{span}”是引文数据集中的引文，请用 show_quote(编号) 显示（注明说话人和出处）"
                            f" / a quotation of the dataset typed in the text: use show_quote(id)")
    for cell in notebook.cells:  # Chinese text takes full-width brackets: 村（社区）, not 村(社区)
        if cell.cell_type == "markdown":
            prose = re.sub(r"`[^`]*`|\]\([^)]*\)", "", _cell_text(cell))  # inline code and link targets aside
            for match in HALF_WIDTH_BRACKET.finditer(prose):
                problems.append(f"{path}: 单元格 {cell.get('id', '?')} 中文里用了半角括号，请改为全角（）"
                                f" / half-width bracket in Chinese text: {prose[max(0, match.start() - 6):match.end() + 6]}")
    problems += notebook_copy_problems(path, sources)
    for text in (markdown, code):
        problems += _quotation_problems(path, text, quotation_texts, sources)
    return problems


HALF_WIDTH_BRACKET = re.compile(r"[\u4e00-\u9fff][()]|[()][\u4e00-\u9fff]")

# 学习目标 are what a trainee can do afterwards: each numbered item under the heading starts with 能.
_OBJECTIVES = re.compile(r"^#+\s*学习目标\s*$(.*?)(?=^#+\s)", re.M | re.S)
_ITEM = re.compile(r"^\s*(?:\d+[.、]|[-*])\s*(.+)$", re.M)


def objective_problems(path: Path, markdown: str) -> list[str]:
    """The 学习目标 section lists objectives, each a 能…… statement of what the trainee can do."""
    match = _OBJECTIVES.search(markdown + "\n# end")
    if match is None:
        return []  # the missing section is reported by check_notebook
    items = _ITEM.findall(match.group(1))
    if not items:
        return [f"{path}: “学习目标”下没有逐条列出的目标 / no listed objectives"]
    return [f"{path}: 学习目标须写成“能……”（学完能做什么）/ objective is not a 能… statement: {item[:30]}"
            for item in items if not item.lstrip("*").startswith("能")]


# How long a lesson takes a trainee (the catalog's minutes are checked against it): careful reading of
# Chinese study text with tables, about 200 characters a minute, plus each activity.
READING_RATE = 200          # Chinese characters per minute
ACTIVITY_MINUTES = {"quiz item": 2, "Reflection(": 8, "Scenario.": 10, "widget": 4, "pandas cell": 1}
WIDGET_CALLS = ("CaseExplorer(", "explore(", "flag_explorer(", "HotlineExplorer(")
MINUTES_TOLERANCE = 0.25    # the catalog may differ from the estimate by this share either way
_CJK = re.compile(r"[\u4e00-\u9fff]")
_BANK_ITEMS = re.compile(r"QuizGroup\(\[([^\]]*)\]")


def estimated_minutes(path: Path | str) -> float:
    """Reading time of the lesson's Chinese text (markdown and the strings its widgets show) plus its activities."""
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    markdown = "".join(_cell_text(c) for c in notebook.cells if c.cell_type == "markdown")
    code = "\n".join(_cell_text(c) for c in notebook.cells if c.cell_type == "code")
    reading = len(_CJK.findall(markdown)) + len(_CJK.findall("".join(re.findall(r'"([^"]*)"', code))))
    quiz_items = sum(len(re.findall(r"['\"][^'\"]+['\"]", group)) for group in _BANK_ITEMS.findall(code))
    quiz_items += code.count("Quiz.inline(")
    pandas_cells = sum(1 for c in notebook.cells if c.cell_type == "code" and "calls" in _cell_text(c))
    return (reading / READING_RATE + ACTIVITY_MINUTES["quiz item"] * quiz_items
            + ACTIVITY_MINUTES["Reflection("] * code.count("Reflection(")
            + ACTIVITY_MINUTES["Scenario."] * code.count("Scenario.")
            + ACTIVITY_MINUTES["widget"] * sum(code.count(call) for call in WIDGET_CALLS)
            + ACTIVITY_MINUTES["pandas cell"] * pandas_cells)


def check_content_files(root: Path, quotation_texts: set[str], sources: Mapping[str, str] | None) -> list[str]:
    """The YAML content beside the lessons (catalog, scenarios): quoted wording and copied prose."""
    problems = []
    for path in sorted(root.rglob("*.yaml")):
        problems += _quotation_problems(path, path.read_text(encoding="utf-8"), quotation_texts, sources)
        problems += yaml_copy_problems(path, sources)
    return problems


def _quotation_texts() -> tuple[set[str], set[str], list[str]]:
    try:
        quotations = _data().quotations()
        return set(quotations["text"]), set(quotations["id"]), []
    except Exception as error:  # the datasets are checked on their own by `dangxiao validate`
        return set(), set(), [f"quotations: 无法读取引文数据，未核对引文 / cannot read the quotations dataset: {error}"]


def check_courses(courses: Path | str | None = None, sources: Mapping[str, str] | None = None) -> list[str]:
    """Problems in the lessons (catalog, outputs, sections, objectives, quotations, copied prose); [] when all is well.

    `sources` are the normalised articles ({source id: text}); without them they are looked for where
    `normalised_sources()` looks, and the checks against the articles are skipped if they are not found.
    """
    from dangxiao.catalog import load_catalog
    from dangxiao.errors import DangxiaoError

    try:
        catalog = load_catalog(courses)
    except DangxiaoError as error:
        return [str(error)]
    problems = [f"{catalog.root / name}: 目录中列出但文件不存在 / listed in catalog.yaml but missing"
                for name in catalog.missing_notebooks()]
    problems += [f"{catalog.root / name}: 未列入 catalog.yaml / not listed in the catalog"
                 for name in catalog.unlisted_notebooks()]
    quotation_texts, quotation_ids, trouble = _quotation_texts()
    problems += trouble
    if sources is None:
        try:
            sources = normalised_sources()
        except Exception:
            sources = None
    problems += check_content_files(catalog.root, quotation_texts, sources)
    try:
        measures = _data().measures()
        proposals = list(measures.loc[measures["status"] == "建议", "name"])
    except Exception:  # the datasets are checked on their own by `dangxiao validate`
        proposals = []
    ids_by_notebook = {lesson.notebook: lesson.id for lesson in catalog.lessons}
    for path in sorted(catalog.root.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        relative = str(path.relative_to(catalog.root))
        problems += check_notebook(path, ids_by_notebook.get(relative), quotation_texts, quotation_ids, sources,
                                   proposals)
    for lesson in catalog.lessons:
        path = catalog.root / lesson.notebook
        if path.is_file():
            estimate = estimated_minutes(path)
            if abs(lesson.minutes - estimate) > MINUTES_TOLERANCE * estimate:
                problems.append(f"{catalog.root / 'catalog.yaml'}: {lesson.id}: minutes {lesson.minutes} 与估计的学习时长"
                                f" {estimate:.0f} 分钟相差超过 {MINUTES_TOLERANCE:.0%}（阅读每分钟 {READING_RATE} 字加各项活动）"
                                f" / minutes differ from the estimate")
    problems += _seminar_problems(catalog)
    return problems


def _seminar_problems(catalog) -> list[str]:
    """Every module with lessons (導学 m0 aside) has a 研讨 guide, shown by the lesson it names."""
    from dangxiao.errors import DangxiaoError
    from dangxiao.seminars import load_seminar, seminars_dir

    problems = []
    folder = seminars_dir(catalog.root)
    for module in catalog.modules:
        if module.id == "m0":
            continue
        try:
            seminar = load_seminar(module.id, catalog.root)
        except DangxiaoError as error:
            problems.append(str(error))
            continue
        lessons = {lesson.id: lesson for lesson in module.lessons}
        if seminar.lesson not in lessons:
            problems.append(f"{folder / (module.id + '.yaml')}: lesson '{seminar.lesson}' 不是本模块的课 / not a lesson of this module")
            continue
        notebook = catalog.root / lessons[seminar.lesson].notebook
        if notebook.is_file() and f'seminar_guide("{module.id}")' not in notebook.read_text(encoding="utf-8").replace('\\"', '"'):
            problems.append(f"{notebook}: 须有研讨指南小节 seminar_guide(\"{module.id}\") / must show the module's seminar guide")
    return problems


def check_scenario_files(folder: Path | str, sources: Mapping[str, str] | None) -> list[str]:
    """Scenario YAML outside `courses/` (the widgets' shipped ones): quoted wording and copied prose."""
    quotation_texts, _, trouble = _quotation_texts()
    return trouble + check_content_files(Path(folder), quotation_texts, sources)
