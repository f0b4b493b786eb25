"""Charts of the datasets' figures (matplotlib, static PNG: they work offline in Voila).

    indicator_chart("武汉")                              # horizontal bars, each labelled with the exact figure
    indicator_chart(indicators=["街道平均编制数"], kind="line")   # baseline → now, where the source gives both
    hotline_chart(by="category")                          # the simulated 12345 hotline (模拟数据)

Values come from the `indicators` dataset by code, never retyped; each bar carries the figure as the source
writes it (`text`, e.g. “近10万元”). Chinese renders with the font shipped in `dangxiao.widgets.fonts`.
Functions return a `matplotlib.figure.Figure` (not a pyplot figure), so a cell shows it exactly once.
"""
from __future__ import annotations

from typing import Iterable

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from dangxiao.errors import DangxiaoError

from ._datasets import place_name, source_title, table
from .fonts import use_cjk_font

__all__ = ["indicator_chart", "hotline_chart"]

SIMULATED = "模拟数据"


def _enable_png_display() -> None:
    """Let IPython show a bare `Figure` as an inline PNG (pyplot would otherwise set this up)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    from IPython.core.pylabtools import print_figure

    formatter = shell.display_formatter.formatters["image/png"]
    formatter.for_type(Figure, lambda figure: print_figure(figure, "png", bbox_inches="tight"))


def _new_figure(height: float) -> Figure:
    use_cjk_font()
    _enable_png_display()
    return Figure(figsize=(8, max(2.5, height)), layout="constrained")


def select_indicators(place: str | None = None, indicators: Iterable[str] | None = None) -> pd.DataFrame:
    """Rows of the `indicators` dataset for a place (阳泉 or 阳泉市) and/or indicator names or ids."""
    frame = table("indicators")
    if place:
        full = place_name(place)
        frame = frame[frame["place"] == full]
        if not len(frame):
            raise DangxiaoError(f"indicators: “{place}”没有可画的数字 / no figures for this place")
    if indicators is not None:
        wanted = list(indicators)
        chosen = frame[frame["indicator"].isin(wanted) | frame["id"].isin(wanted)]
        found = set(chosen["indicator"]) | set(chosen["id"])
        missing = [w for w in wanted if w not in found]
        if missing:
            raise DangxiaoError(f"indicators: 没有指标“{missing[0]}” / no such indicator")
        frame = chosen
    if not len(frame):
        raise DangxiaoError("indicators: 没有可画的数字 / nothing to chart")
    return frame


def _sources_note(frame: pd.DataFrame) -> str:
    # One line per source, titles only: a chart's footnote must fit under it.
    return "来源：" + "\n".join(source_title(s, with_author=False) for s in dict.fromkeys(frame["source"]))


def _chinese_tick(value: float, _position=None) -> str:
    """Axis ticks as a Chinese reader writes them (1000万, 140亿), not matplotlib's “1e7” offset."""
    for size, suffix in ((1e8, "亿"), (1e4, "万")):
        if abs(value) >= size:
            return f"{value / size:g}{suffix}"
    return f"{value:g}"


def _label(row: pd.Series, show_place: bool) -> str:
    return f"{row['place']}·{row['indicator']}" if show_place else str(row["indicator"])


def indicator_chart(place: str | None = None, indicators: Iterable[str] | None = None, kind: str = "bar") -> Figure:
    """A bar chart of figures (log axis when units differ), or `kind="line"`: baseline → now."""
    if kind not in ("bar", "line"):
        raise DangxiaoError(f"indicator_chart: kind 须为 'bar' 或 'line'，而不是 '{kind}'")
    frame = select_indicators(place, indicators)
    show_place = frame["place"].nunique() > 1
    where = "、".join(dict.fromkeys(frame["place"]))
    if kind == "line":
        return _baseline_chart(frame, show_place)

    figure = _new_figure(0.38 * len(frame) + 1.6)
    axes = figure.add_subplot()
    frame = frame.iloc[::-1]  # barh draws bottom-up: keep the dataset's order top-down
    labels = [_label(row, show_place) for _, row in frame.iterrows()]
    bars = axes.barh(labels, frame["value"], color="#c0392b")
    mixed_units = frame["unit"].nunique() > 1
    if mixed_units:
        # Units differ (个, 名, 元, %…): a log axis keeps every bar visible; the label carries the exact figure.
        axes.set_xscale("log")
        positive = frame["value"][frame["value"] > 0]
        axes.set_xlim(positive.min() / 3, positive.max() * 100)  # room on the right for the labels
        axes.set_xlabel("数值（各指标单位不同，横轴为对数刻度）")
    else:
        axes.set_xlabel(f"数值（单位：{frame['unit'].iloc[0]}）")
    axes.xaxis.set_major_formatter(FuncFormatter(_chinese_tick))
    axes.bar_label(bars, labels=list(frame["text"]), padding=3, fontsize=9)
    axes.margins(x=0.25)
    axes.set_title(f"{where}：主要数字")
    figure.supxlabel(_sources_note(frame), fontsize=8, color="#555")
    return figure


def _baseline_chart(frame: pd.DataFrame, show_place: bool) -> Figure:
    frame = frame[frame["baseline"].notna()]
    if not len(frame):
        raise DangxiaoError("indicator_chart: 所选指标没有“之前”的数字，无法画折线图；请用 kind='bar'")
    where = "、".join(dict.fromkeys(frame["place"]))
    figure = _new_figure(4)
    axes = figure.add_subplot()
    for _, row in frame.iterrows():
        axes.plot(["之前", "现在"], [row["baseline"], row["value"]], marker="o",
                  label=f"{_label(row, show_place)}（{row['text']}）")
        axes.annotate(f"{row['baseline']:g}", (0, row["baseline"]), textcoords="offset points", xytext=(-18, 0))
        axes.annotate(f"{row['value']:g}", (1, row["value"]), textcoords="offset points", xytext=(6, 0))
    units = "、".join(dict.fromkeys(frame["unit"]))
    axes.set_ylabel(f"数值（{units}）")
    axes.legend(fontsize=9)
    axes.set_title(f"{where}：变化前后")
    figure.supxlabel(_sources_note(frame), fontsize=8, color="#555")
    return figure


def hotline_chart(by: str = "category", kind: str = "bar") -> Figure:
    """The simulated 12345 hotline: records by `category` or `district` (bar), or by month (`kind="line"`)."""
    records = table("hotline")
    figure = _new_figure(4)
    axes = figure.add_subplot()
    if kind == "line":
        months = pd.to_datetime(records["received_at"]).dt.to_period("M").astype(str)
        counts = months.value_counts().sort_index()
        axes.plot(list(counts.index), list(counts.values), marker="o", color="#c0392b")
        axes.tick_params(axis="x", rotation=45)
        axes.set_title(f"12345 热线每月受理件数（{SIMULATED}）")
    elif kind == "bar":
        names = {"category": "诉求类别", "district": "区"}
        if by not in names:
            raise DangxiaoError(f"hotline_chart: by 须为 {'、'.join(names)} 之一，而不是 '{by}'")
        counts = records[by].value_counts().sort_values()
        axes.barh(list(counts.index), list(counts.values), color="#2c6e9b")
        axes.set_title(f"12345 热线各{names[by]}受理件数（{SIMULATED}）")
    else:
        raise DangxiaoError(f"hotline_chart: kind 须为 'bar' 或 'line'，而不是 '{kind}'")
    axes.set_xlabel("件数" if kind == "bar" else "月份")
    figure.supxlabel(f"注：{SIMULATED}，由脚本按固定随机种子生成，仅供教学练习，不是真实统计。", fontsize=8, color="#555")
    return figure
