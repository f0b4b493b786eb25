"""Build the datasets from the five source articles and the curated content.

    dangxiao datasets build --sources ../shared/seeds [--out DIR]

1. normalise each article (`dangxiao.datasets.normalise`): chrome out, pinyin out, simplified;
2. read the curated content in `datasets/content/*.yaml` (figures, measures, terms, quotations …);
3. check the content against the normalised articles (`dangxiao.datasets.checks`): every quotation
   verbatim, every figure text present and read back to its value, every numeral accounted for;
4. only then write the CSV files (UTF-8, no BOM, "\\n" line ends, csv module quoting).

Nothing is written when a check fails: the error lists every problem.
"""
from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from dangxiao.datasets.checks import (
    check_copied_prose,
    check_indicator_texts,
    check_measure_status,
    check_names_in_sources,
    check_numeral_coverage,
    check_quotations,
    format_number,
)
from dangxiao.datasets.figures import FigureError, parse_figure
from dangxiao.datasets.normalise import normalise, source_prefix
from dangxiao.errors import DangxiaoError

__all__ = ["normalise", "COLUMNS", "CONTENT_DIR", "load_content", "normalised_sources", "build_tables",
           "write_tables", "build"]

PACKAGE_DIR = Path(__file__).resolve().parent
CONTENT_DIR = PACKAGE_DIR / "content"
ENCODING = "utf-8"  # data files: plain UTF-8, no BOM (see datasets/README.md)

# The shared contract: file name → columns, in order.
COLUMNS: dict[str, tuple[str, ...]] = {
    "sources.csv": ("id", "file", "title", "author", "date", "place", "place_en", "script"),
    "places.csv": ("place", "place_en", "source"),
    "indicators.csv": ("id", "place", "indicator", "value", "unit", "qualifier", "baseline", "text", "source"),
    "measures.csv": ("id", "place", "status", "name", "description", "source"),
    "glossary.csv": ("term", "definition", "sources"),
    "quotations.csv": ("id", "speaker", "text", "source", "note"),
    "exclusions.csv": ("source", "text", "kind", "note"),
}


def _read_yaml(name: str, key: str, content_dir: Path) -> Any:
    path = content_dir / name
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DangxiaoError(f"{path}: 内容文件不存在 / content file not found") from None
    except yaml.YAMLError as error:
        raise DangxiaoError(f"{path}: YAML 格式错误 / malformed YAML: {error}") from None
    if not isinstance(document, dict) or key not in document:
        raise DangxiaoError(f"{path}: 须有顶层键 '{key}' / needs a top-level '{key}'")
    return document[key]


def load_content(content_dir: Path | str = CONTENT_DIR) -> dict[str, Any]:
    """The curated content, one entry per YAML file of `datasets/content/`."""
    content_dir = Path(content_dir)
    return {key: _read_yaml(f"{key}.yaml", key, content_dir)
            for key in ("sources", "places", "indicators", "exclusions", "measures", "glossary", "quotations")}


def normalised_sources(sources_dir: Path | str, source_rows: list[dict]) -> dict[str, str]:
    """{source id: normalised article}, each file found by its three-digit prefix."""
    sources_dir = Path(sources_dir)
    if not sources_dir.is_dir():
        raise DangxiaoError(f"{sources_dir}: 原文目录不存在 / sources folder not found")
    texts = {}
    for row in source_rows:
        prefix = source_prefix(row["file"])
        matches = sorted(sources_dir.glob(f"{prefix}_*.txt"))
        if not matches:
            raise DangxiaoError(f"{sources_dir}: 缺少原文 {prefix}_*.txt（{row['id']}）/ source file missing")
        texts[row["id"]] = normalise(matches[0])
    return texts


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        raise DangxiaoError(f"不应是真假值 / unexpected boolean: {value}")
    if isinstance(value, (int, float, Decimal)):
        return format_number(value)
    return str(value).strip()


# Keys each kind of content entry may have: a typo, or a YAML flow mapping split by an unquoted
# comma (text: 甲,乙 reads as two keys), is caught instead of silently dropped.
ALLOWED_KEYS = {
    "sources": set(COLUMNS["sources.csv"]),
    "places": set(COLUMNS["places.csv"]),
    "indicators": {"id", "indicator", "text", "value", "unit", "qualifier", "baseline"},
    "exclusions": {"text", "kind", "note"},
    "measures": {"id", "status", "name", "description"},
    "glossary": {"term", "definition", "sources"},
    "quotations": {"id", "speaker", "text", "source", "note"},
}


def _entries(content: dict[str, Any], key: str) -> list[tuple[str | None, dict]]:
    """(source id or None, entry) for every entry of one content file, keys checked."""
    raw = content[key]
    grouped = raw.items() if isinstance(raw, dict) else [(None, raw)]
    entries = []
    for source, items in grouped:
        if not isinstance(items, list):
            raise DangxiaoError(f"content/{key}.yaml: {source or key} 须为列表 / must be a list")
        for entry in items:
            if not isinstance(entry, dict):
                raise DangxiaoError(f"content/{key}.yaml: {source or key}: 每一项须为映射 / each entry must be a mapping")
            unknown = set(map(str, entry)) - ALLOWED_KEYS[key]
            if unknown:
                name = entry.get("id") or entry.get("term") or entry.get("text")
                raise DangxiaoError(f"content/{key}.yaml: {name}: 未知字段 '{sorted(unknown)[0]}' "
                                    f"（含逗号的文字请加引号）/ unknown field (quote text that contains commas)")
            entries.append((source, entry))
    return entries


def _require(entry: dict, keys: tuple[str, ...], where: str) -> None:
    for key in keys:
        if entry.get(key) in (None, ""):
            raise DangxiaoError(f"{where}: 缺少字段 '{key}' / missing field")


def build_tables(content: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    """The CSV rows, built from the content (no check against the articles here)."""
    sources = [{column: _cell(entry.get(column)) for column in COLUMNS["sources.csv"]} for entry in content["sources"]]
    place_of = {row["id"]: row["place"] for row in sources}

    def place(source: str, where: str) -> str:
        if source not in place_of:
            raise DangxiaoError(f"{where}: 未知来源 '{source}' / unknown source id")
        return place_of[source]

    for key in ALLOWED_KEYS:
        _entries(content, key)
    tables: dict[str, list[dict[str, str]]] = {"sources.csv": sources}
    tables["places.csv"] = [{column: _cell(entry.get(column)) for column in COLUMNS["places.csv"]}
                            for entry in content["places"]]
    indicators = []
    for source, entries in content["indicators"].items():
        for entry in entries:
            where = f"content/indicators.yaml: {entry.get('id')}"
            _require(entry, ("id", "indicator", "text", "value", "unit"), where)
            try:
                figure = parse_figure(str(entry["text"]))
            except FigureError as error:
                raise DangxiaoError(f"{where}: {error}") from None
            # The value is typed by hand AND read from the text: both must agree.
            if Decimal(str(entry["value"])) != figure.value:
                raise DangxiaoError(f"{where}: value {entry['value']} ≠ “{entry['text']}” = {format_number(figure.value)}")
            indicators.append({
                "id": entry["id"], "place": place(source, where), "indicator": _cell(entry["indicator"]),
                "value": format_number(figure.value), "unit": _cell(entry["unit"]),
                "qualifier": _cell(entry.get("qualifier")), "baseline": _cell(entry.get("baseline")),
                "text": _cell(entry["text"]), "source": source,
            })
    tables["indicators.csv"] = indicators
    tables["exclusions.csv"] = [{"source": source, "text": _cell(e["text"]), "kind": _cell(e["kind"]), "note": _cell(e.get("note"))}
                                for source, entries in content["exclusions"].items() for e in entries]
    tables["measures.csv"] = [{"id": m["id"], "place": place(source, f"content/measures.yaml: {m['id']}"),
                               "status": _cell(m.get("status")), "name": _cell(m["name"]), "description": _cell(m["description"]), "source": source}
                              for source, entries in content["measures"].items() for m in entries]
    tables["glossary.csv"] = [{"term": _cell(g["term"]), "definition": _cell(g["definition"]),
                               "sources": ";".join(g["sources"])} for g in content["glossary"]]
    tables["quotations.csv"] = [{column: _cell(q.get(column)) for column in COLUMNS["quotations.csv"]}
                                for q in content["quotations"]]
    # Quotations keep their punctuation exactly: no strip() on the words themselves.
    for row, q in zip(tables["quotations.csv"], content["quotations"]):
        row["text"] = str(q["text"])
    return tables


def check_tables(tables: dict[str, list[dict[str, str]]], texts: dict[str, str]) -> list[str]:
    """Every check of the content against the articles (the same ones `dangxiao validate` runs)."""
    return [
        *check_quotations(tables["quotations.csv"], texts),
        *check_indicator_texts(tables["indicators.csv"], texts),
        *check_numeral_coverage(tables["indicators.csv"], tables["exclusions.csv"], texts),
        *check_names_in_sources(tables["measures.csv"], texts, "name", "measures.csv"),
        *check_measure_status(tables["measures.csv"], "content/measures.yaml"),
        *check_copied_prose(tables, texts),
        *check_names_in_sources(tables["glossary.csv"], texts, "term", "glossary.csv", key="term",
                                sources_column="sources"),
    ]


def write_tables(tables: dict[str, list[dict[str, str]]], out_dir: Path | str) -> list[Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, columns in COLUMNS.items():
        path = out_dir / name
        with path.open("w", encoding=ENCODING, newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
            writer.writeheader()
            writer.writerows(tables[name])
        written.append(path)
    return written


def build(sources_dir: Path | str, out_dir: Path | str = PACKAGE_DIR,
          content_dir: Path | str = CONTENT_DIR) -> list[Path]:
    """Normalise, check, write. Raises `DangxiaoError` listing every problem; writes nothing then."""
    content = load_content(content_dir)
    tables = build_tables(content)
    texts = normalised_sources(sources_dir, tables["sources.csv"])
    problems = check_tables(tables, texts)
    if problems:
        raise DangxiaoError(f"内容与原文不符，未写入任何文件 / content does not match the sources, nothing written "
                            f"({len(problems)}):\n" + "\n".join(problems))
    return write_tables(tables, out_dir)
