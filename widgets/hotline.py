"""The no-code route through the simulated hotline data (模拟数据): filter, group and chart with widgets.

    from dangxiao.widgets.hotline import HotlineExplorer
    HotlineExplorer()                       # the whole simulated dataset

Cadres who do not program pick a district, a category and a status to filter, a grouping (全部合计 /
按区 / 按诉求类别 / 按区和类别) and a measure to sort and chart by; the table and the bar chart update at once.
`hotline_summary()` computes the table; the pandas route of lesson m4_01 reaches the same numbers
(件数, 办结时长中位数, 办结率, 平均满意度), which the tests check.

The table and the chart are an HTML widget's value (the chart as an inline PNG), never what an Output
widget displays: under Voila 0.5 a cell that displays into an Output widget now and then stalls
(voila #1428, see `dangxiao.lessons.flag_explorer`). Columns carry Chinese names only, no internal
column name is shown.
"""
from __future__ import annotations

import base64
import html
import io

import ipywidgets as widgets
import pandas as pd
import traitlets

from ._datasets import table

__all__ = ["HotlineExplorer", "hotline_summary", "GROUPINGS", "MEASURES", "ALL"]

SIMULATED = "模拟数据"
ALL = "（全部）"
# label shown → columns grouped by
GROUPINGS = {"全部合计": [], "按区": ["district"], "按诉求类别": ["category"], "按区和类别": ["district", "category"]}
# The summary's columns, as trainees read them; the first is the default sort.
MEASURES = ("件数", "办结时长中位数（小时）", "办结率", "平均满意度")
_LABELS = {"district": "区", "category": "诉求类别"}


def hotline_summary(calls: pd.DataFrame, grouping: str = "按区和类别", district: str = ALL, category: str = ALL,
                    status: str = ALL) -> pd.DataFrame:
    """Filter the records, then count, median hours to close, share closed and mean satisfaction per group."""
    if grouping not in GROUPINGS:
        raise ValueError(f"分组方式须为 {'、'.join(GROUPINGS)} / unknown grouping: {grouping}")
    rows = calls
    for column, value in (("district", district), ("category", category), ("status", status)):
        if value != ALL:
            rows = rows[rows[column] == value]
    hours = (rows["closed_at"] - rows["received_at"]).dt.total_seconds() / 3600
    frame = rows.assign(_hours=hours, _closed=rows["status"] == "已办结")
    keys = GROUPINGS[grouping]
    # 全部合计: one group holding every filtered record.
    grouper = keys or pd.Series("全部记录", index=frame.index, name="合计")
    summary = frame.groupby(grouper).agg(
        件数=("record_id", "size"), 中位=("_hours", "median"), 办结率=("_closed", "mean"),
        平均满意度=("satisfaction", "mean"))
    summary = summary.rename(columns={"中位": "办结时长中位数（小时）"})
    summary.index = summary.index.set_names([_LABELS[k] for k in keys] or ["合计"])
    summary["平均满意度"] = summary["平均满意度"].astype("float64")
    return summary


def _table_html(summary: pd.DataFrame, caption: str) -> str:
    shown = summary.copy()
    shown["办结率"] = shown["办结率"].map(lambda v: f"{v:.0%}")
    styled = shown.style.format(precision=1).set_caption(caption).set_table_attributes('style="margin-left: 0"')
    return f'<div class="jp-RenderedHTMLCommon">{styled.to_html()}</div>'


def _chart_html(summary: pd.DataFrame, measure: str, title: str) -> str:
    from matplotlib.figure import Figure

    from .fonts import use_cjk_font

    use_cjk_font()
    series = summary[measure].dropna().head(15).iloc[::-1]
    labels = ["·".join(map(str, k)) if isinstance(k, tuple) else str(k) for k in series.index]
    figure = Figure(figsize=(7, 0.4 * max(len(series), 4) + 1.2), layout="constrained")
    axes = figure.subplots()
    axes.barh(labels, series.values, color="#b22222")
    axes.set_title(title)
    axes.set_xlabel(measure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="{html.escape(title)}" src="data:image/png;base64,{data}">'


class HotlineExplorer(widgets.VBox):
    """Filters, a grouping and a measure over the simulated hotline records; a table and a bar chart."""

    grouping = traitlets.Unicode("按区和类别", help="分组方式 / how records are grouped")
    measure = traitlets.Unicode(MEASURES[0], help="排序和作图所用的量 / the column sorted and charted")

    def __init__(self, calls: pd.DataFrame | None = None, **kwargs):
        self.calls = table("hotline") if calls is None else calls
        wide = {"description_width": "initial"}

        def pick(label: str, column: str) -> widgets.Dropdown:
            return widgets.Dropdown(options=[ALL, *sorted(self.calls[column].dropna().unique())], value=ALL,
                                    description=label, style=wide)

        self.district_picker = pick("区", "district")
        self.category_picker = pick("诉求类别", "category")
        self.status_picker = pick("办理状态", "status")
        self.grouping_picker = widgets.ToggleButtons(options=list(GROUPINGS), value=self.grouping,
                                                     description="分组", style=wide)
        self.measure_picker = widgets.Dropdown(options=list(MEASURES), value=self.measure,
                                               description="排序并作图", style=wide)
        self.descending = widgets.Checkbox(value=True, description="从大到小", indent=False)
        self.note = widgets.HTML()
        self.table = widgets.HTML()
        self.chart = widgets.HTML()
        traitlets.link((self.grouping_picker, "value"), (self, "grouping"))
        traitlets.link((self.measure_picker, "value"), (self, "measure"))
        for control in (self.district_picker, self.category_picker, self.status_picker, self.descending):
            control.observe(self.refresh, names="value")
        self.observe(self.refresh, names=["grouping", "measure"])
        super().__init__(children=[
            widgets.HTML(f"<b>12345 热线记录（{SIMULATED}）：不写代码，用下面的控件筛选、分组、作图</b>"),
            widgets.HBox([self.district_picker, self.category_picker, self.status_picker]),
            self.grouping_picker, widgets.HBox([self.measure_picker, self.descending]),
            self.note, self.table, self.chart], **kwargs)
        self.add_class("dangxiao-hotline-explorer")
        self.refresh()

    def summary(self) -> pd.DataFrame:
        """The table now shown: filtered, grouped and sorted as the controls say."""
        summary = hotline_summary(self.calls, self.grouping, self.district_picker.value,
                                  self.category_picker.value, self.status_picker.value)
        return summary.sort_values(self.measure, ascending=not self.descending.value, kind="stable")

    def refresh(self, _change=None) -> None:
        summary = self.summary()
        filters = [f"{label}：{picker.value}" for label, picker in (
            ("区", self.district_picker), ("类别", self.category_picker), ("状态", self.status_picker))
            if picker.value != ALL]
        chosen = "；".join(filters) if filters else "全部记录"
        count = int(summary["件数"].sum()) if len(summary) else 0
        self.note.value = (f"<p>{html.escape(chosen)}，共 {count} 条记录，{self.grouping}分为 {len(summary)} 组。"
                           f"满意度只统计回访过的记录；办结时长只统计已办结的记录。</p>")
        if not len(summary):
            self.table.value, self.chart.value = "<p>没有符合条件的记录，请放宽筛选条件。</p>", ""
            return
        title = f"{self.measure}（{self.grouping}，{SIMULATED}）"
        self.table.value = _table_html(summary, f"{chosen}，{self.grouping}汇总（{SIMULATED}）")
        self.chart.value = _chart_html(summary, self.measure, title)
