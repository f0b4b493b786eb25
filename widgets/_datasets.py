"""The widgets' one door to `dangxiao.data` (tests replace `table` with fixture data)."""
from __future__ import annotations

import importlib

import pandas as pd

# Short names a trainee picks, the place names used in the data, and the source ids (COMMON contract).
PLACES = {"阳泉": "阳泉市", "沈阳": "沈阳市", "武汉": "武汉市", "银川": "银川市", "法库": "法库县"}
PLACE_SOURCES = {"阳泉市": "yangquan", "沈阳市": "shenyang", "武汉市": "wuhan", "银川市": "yinchuan",
                 "法库县": "faku"}


def table(name: str) -> pd.DataFrame:
    """One dataset from `dangxiao.data` (`sources`, `indicators`, `measures`, `quotations`, …)."""
    return getattr(importlib.import_module("dangxiao.data"), name)()


def place_name(place: str) -> str:
    """阳泉 / 阳泉市 → 阳泉市 (names outside the five places are returned unchanged)."""
    return PLACES.get(place, place)


def source_title(source_id: str, with_author: bool = True) -> str:
    """A readable citation for a source id; free text (inline questions) is returned as written."""
    if not source_id:
        return ""
    try:
        sources = table("sources")
        row = sources[sources["id"] == source_id]
    except Exception:  # the datasets are optional for a lesson: fall back to the place name
        row = None
    if row is not None and len(row):
        record = row.iloc[0]
        author = str(record.get("author") or "").strip()
        title = f"《{record['title']}》"
        if not with_author or author.lower() in ("", "nan", "未注明", "不详"):
            return title
        return f"{title}（{author}）"
    place = {v: k for k, v in PLACE_SOURCES.items()}.get(source_id)
    return f"{place}案例材料（{source_id}）" if place else source_id
