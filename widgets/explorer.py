"""Case explorer: pick a place and see its measures, its figures and its quotations from the datasets.

    CaseExplorer()               # one place
    CaseExplorer(compare=True)   # two places side by side

Figures are shown exactly as the source writes them (the `text` column); quotations are the `quotations`
dataset's verbatim words, in quotation marks, each with its source cited. Each measure carries its
`status`: 做法 (the article reports the place has done it) or 建议 (the article proposes it), shown as
a label beside the name, so a proposal is never read as a practice.
"""
from __future__ import annotations

import html

import ipywidgets as widgets
import pandas as pd
import traitlets

from ._datasets import PLACE_SOURCES, PLACES, source_title, table

__all__ = ["CaseExplorer", "place_summary_html", "STATUS_LABELS"]

# status → (label shown to trainees, colour).
STATUS_LABELS = {
    "做法": ("已报道的做法", "#2e7d32"),
    "建议": ("文章提出的建议（不是已实施的做法）", "#b26a00"),
}


def _status_badge(status: str) -> str:
    label, colour = STATUS_LABELS.get(status, ("性质未标明", "#777"))
    return (f"<span class='dx-status' style='border:1px solid {colour};color:{colour};border-radius:3px;"
            f"padding:0 4px;margin-left:4px;font-size:85%'>{html.escape(label)}</span>")


def _rows(frame: pd.DataFrame, column: str, value: str) -> pd.DataFrame:
    return frame[frame[column] == value] if len(frame) else frame


def _section(title: str, rows: pd.DataFrame, empty: str, item_html) -> list[str]:
    """A heading, then one list item per row, or a note saying the dataset has nothing here."""
    if not len(rows):
        return [f"<h4>{title}</h4>", f"<p>{empty}</p>"]
    return [f"<h4>{title}</h4>", "<ul>" + "".join(f"<li>{item_html(row)}</li>" for _, row in rows.iterrows()) + "</ul>"]


def place_summary_html(place: str) -> str:
    """The panel for one place (full name, e.g. 武汉市): measures, figures, quotations, sources."""
    source_id = PLACE_SOURCES.get(place, "")
    try:
        places = table("places")
        match = places[places["place"] == place]
        if len(match):
            source_id = str(match.iloc[0]["source"])
    except Exception:  # places() is a convenience; the contract's mapping is the fallback
        pass
    citation = source_title(source_id)
    parts = [f"<h3 style='margin-bottom:0'>{html.escape(place)}</h3>",
             f"<div style='color:#555;font-size:90%'>材料来源：{html.escape(citation)}</div>"]

    measures = _rows(table("measures"), "place", place)
    parts += _section("做法与建议", measures, "（数据集中暂无该地的做法条目）", lambda m: (
        f"<b>{html.escape(str(m['name']))}</b>{_status_badge(str(m.get('status', '')))}："
        f"{html.escape(str(m['description']))}"))
    figures = _rows(table("indicators"), "place", place)
    parts += _section("数字", figures, "（原文没有可列出的统计数字）", lambda f: (
        f"{html.escape(str(f['indicator']))}：<b>{html.escape(str(f['text']))}</b>"))
    quotations = _rows(table("quotations"), "source", source_id)
    parts += _section("原话摘录", quotations, "（原文没有可引用的原话）", lambda q: (
        f"{html.escape(str(q['speaker']))}：“{html.escape(str(q['text']))}”"
        f"<span style='color:#555;font-size:90%'>（出处：{html.escape(citation)}）</span>"))
    return "".join(parts)


class CaseExplorer(widgets.VBox):
    """Pick a place (阳泉, 沈阳, 武汉, 银川, 法库); with `compare=True`, two places side by side."""

    place = traitlets.Unicode("阳泉市", help="所选地方（全称）/ the place shown (full name)")
    other_place = traitlets.Unicode("武汉市", help="对比的地方（compare=True 时）/ the place compared with")

    def __init__(self, compare: bool = False, place: str = "阳泉", other_place: str = "武汉", **kwargs):
        self.compare = compare
        choices = [(short, full) for short, full in PLACES.items()]
        self.place_picker = widgets.Dropdown(options=choices, value=PLACES.get(place, place), description="地方")
        self.panel = widgets.HTML()
        self.panels = [self.panel]
        pickers = [self.place_picker]
        if compare:
            self.other_picker = widgets.Dropdown(options=choices, value=PLACES.get(other_place, other_place),
                                                 description="对比")
            self.other_panel = widgets.HTML()
            self.panels.append(self.other_panel)
            pickers.append(self.other_picker)
            half = widgets.Layout(width="50%", padding="0 8px")
            self.panel.layout, self.other_panel.layout = half, widgets.Layout(width="50%", padding="0 8px")
            body = widgets.HBox(self.panels)
        else:
            body = self.panel
        super().__init__(children=[widgets.HBox(pickers), body], **kwargs)
        self.add_class("dangxiao-case-explorer")
        traitlets.link((self.place_picker, "value"), (self, "place"))
        self.observe(self._render, names=["place", "other_place"])
        if compare:
            traitlets.link((self.other_picker, "value"), (self, "other_place"))
        self._render()

    def _render(self, _change=None) -> None:
        self.panel.value = place_summary_html(self.place)
        if self.compare:
            self.other_panel.value = place_summary_html(self.other_place)
