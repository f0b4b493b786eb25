"""Loaders for the committed datasets: each returns a pandas DataFrame with typed columns.

    from dangxiao import data
    data.indicators().query("place == '武汉市'")

Files are read from `dangxiao.paths.datasets_dir()` (the package's `datasets/` folder), parsed
once and cached; every call returns a fresh copy, so a lesson may modify its frame freely.
A missing or malformed file raises `DangxiaoError` naming the file and the cause.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

from dangxiao.errors import DangxiaoError

__all__ = ["sources", "places", "indicators", "measures", "glossary", "quotations", "exclusions", "hotline",
           "SCHEMAS", "HOTLINE_FILE", "SIMULATED_LABEL", "load_table", "clear_cache"]

HOTLINE_FILE = "hotline_12345_模拟数据.csv"
SIMULATED_LABEL = "模拟数据"

# file → {column: kind}; kind is "str", "float" (NaN when empty), "int?" (nullable integer) or "datetime?".
SCHEMAS: dict[str, dict[str, str]] = {
    "sources.csv": dict.fromkeys(("id", "file", "title", "author", "date", "place", "place_en", "script"), "str"),
    "places.csv": dict.fromkeys(("place", "place_en", "source"), "str"),
    "indicators.csv": {"id": "str", "place": "str", "indicator": "str", "value": "float", "unit": "str",
                       "qualifier": "str", "baseline": "float", "text": "str", "source": "str"},
    "measures.csv": dict.fromkeys(("id", "place", "status", "name", "description", "source"), "str"),
    "glossary.csv": dict.fromkeys(("term", "definition", "sources"), "str"),
    "quotations.csv": dict.fromkeys(("id", "speaker", "text", "source", "note"), "str"),
    "exclusions.csv": dict.fromkeys(("source", "text", "kind", "note"), "str"),
    HOTLINE_FILE: {"record_id": "str", "district": "str", "category": "str", "received_at": "datetime?",
                   "closed_at": "datetime?", "satisfaction": "int?", "status": "str"},
}


def _datasets_dir() -> Path:
    from dangxiao.paths import datasets_dir

    return datasets_dir()


def _convert(frame: pd.DataFrame, column: str, kind: str, path: Path) -> pd.Series:
    raw = frame[column]
    if kind == "str":
        return raw.astype(str)
    empty = raw.str.strip() == ""
    try:
        if kind == "float":
            return pd.to_numeric(raw.mask(empty), errors="raise").astype("float64")
        if kind == "int?":
            numbers = pd.to_numeric(raw.mask(empty), errors="raise")
            if not (numbers.dropna() % 1 == 0).all():
                raise ValueError("not a whole number")
            return numbers.astype("Int64")
        if kind == "datetime?":
            return pd.to_datetime(raw.mask(empty), format="%Y-%m-%d %H:%M:%S", errors="raise")
    except (ValueError, TypeError) as error:
        bad = next((v for v in raw[~empty] if not _parses(v, kind)), "?")
        raise DangxiaoError(f"{path}: 列 '{column}' 含有无法解析的值 '{bad}' / column holds a value that is not {kind}: {error}") from None
    raise AssertionError(kind)


def _parses(value: str, kind: str) -> bool:
    try:
        if kind == "datetime?":
            pd.to_datetime(value, format="%Y-%m-%d %H:%M:%S")
        else:
            number = float(value)
            if kind == "int?" and number % 1:
                return False
        return True
    except (ValueError, TypeError):
        return False


def load_table(name: str, folder: Path | str | None = None) -> pd.DataFrame:
    """Read and type one dataset file (not cached; `folder` defaults to the package's datasets)."""
    if name not in SCHEMAS:
        raise DangxiaoError(f"{name}: 不是已知的数据集 / unknown dataset")
    path = Path(folder or _datasets_dir()) / name
    schema = SCHEMAS[name]
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except FileNotFoundError:
        raise DangxiaoError(f"{path}: 数据文件不存在（可运行 dangxiao datasets build）/ dataset file missing") from None
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise DangxiaoError(f"{path}: 无法读取 CSV / malformed CSV: {str(error).splitlines()[0]}") from None
    if tuple(frame.columns) != tuple(schema):
        raise DangxiaoError(f"{path}: 列应为 {','.join(schema)}，实为 {','.join(map(str, frame.columns))} / wrong columns")
    for column, kind in schema.items():
        frame[column] = _convert(frame, column, kind, path)
    return frame


@lru_cache(maxsize=None)
def _cached(name: str, folder: str) -> pd.DataFrame:
    return load_table(name, folder)


def _load(name: str) -> pd.DataFrame:
    return _cached(name, str(_datasets_dir())).copy()


def clear_cache() -> None:
    """Forget the parsed files (after a rebuild)."""
    _cached.cache_clear()


def sources() -> pd.DataFrame:
    """The five articles: id, file, title, author, date, place, place_en, script."""
    return _load("sources.csv")


def places() -> pd.DataFrame:
    """place, place_en, source — one row per place studied."""
    return _load("places.csv")


def indicators() -> pd.DataFrame:
    """Every figure of the articles: value is exact (15.6万 → 156000.0); baseline NaN unless given."""
    return _load("indicators.csv")


def measures() -> pd.DataFrame:
    """Named practices per place: `status` 做法 (reported practice) or 建议 (proposal), a one-sentence description."""
    return _load("measures.csv")


def glossary() -> pd.DataFrame:
    """Key terms; `sources` is ';'-separated source ids."""
    return _load("glossary.csv")


def quotations() -> pd.DataFrame:
    """Attributed quotations, `text` verbatim from the normalised source without the quotation marks."""
    return _load("quotations.csv")


def exclusions() -> pd.DataFrame:
    """Numerals of the articles that are not figures (dates, ordinals, policy names …), with their kind."""
    return _load("exclusions.csv")


def hotline() -> pd.DataFrame:
    """模拟数据: simulated 12345 hotline records; `df.attrs["label"] == "模拟数据"`."""
    frame = _load(HOTLINE_FILE)
    frame.attrs["label"] = SIMULATED_LABEL
    frame.attrs["source"] = "dangxiao.datasets.simulate_hotline（seed 2024）"
    return frame
