"""Checks of the datasets against the normalised source articles.

Used twice: by the build (content YAML → CSV, refuses to write anything that fails) and by
`dangxiao validate --sources` (the committed CSVs against the articles). Every function takes
rows as mappings of column → text and the normalised articles as {source id: text}, and returns
a list of problems, one line each, naming the file, the row and the cause.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Iterable, Mapping

from dangxiao.copying import copied_runs, fold_width
from dangxiao.datasets.figures import FigureError, numeral_runs, parse_figure

__all__ = [
    "check_quotations",
    "check_indicator_texts",
    "check_numeral_coverage",
    "check_names_in_sources",
    "check_measure_status",
    "check_copied_prose",
    "PROSE_COLUMNS",
    "MEASURE_STATUSES",
    "format_number",
    "split_list",
]

Row = Mapping[str, str]


def split_list(cell: str) -> list[str]:
    """'近;累计' → ['近', '累计']; '' → []."""
    return [part.strip() for part in str(cell or "").split(";") if part.strip()]


def format_number(value: Decimal | float | int) -> str:
    """Exact, plain notation: 156000, 14000000000, 95.2 (never 1.4e10 or 156000.0)."""
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    text = format(number.normalize(), "f")
    return text


def _decimal(cell: object) -> Decimal | None:
    if cell is None or str(cell).strip() in ("", "nan", "NaN", "<NA>"):
        return None
    try:
        return Decimal(str(cell).strip())
    except InvalidOperation:
        return None


def _text_of(texts: Mapping[str, str], source: str, where: str, problems: list[str]) -> str | None:
    if source not in texts:
        problems.append(f"{where}: 来源 '{source}' 没有对应的原文 / no normalised article for this source id")
        return None
    return texts[source]


def check_quotations(rows: Iterable[Row], texts: Mapping[str, str], file: str = "quotations.csv") -> list[str]:
    """Every quotation occurs verbatim in its article between quotation marks (punctuation width ignored:
    the articles write "," where the dataset, for display, writes "，")."""
    problems: list[str] = []
    for row in rows:
        where = f"{file}: {row['id']}"
        text = _text_of(texts, row["source"], where, problems)
        if text is None:
            continue
        quote, article = fold_width(row["text"]), fold_width(text)
        if not quote:
            problems.append(f"{where}: 引文为空 / empty quotation")
        elif f"“{quote}”" not in article:
            cause = "不在引号中 / not between quotation marks" if quote in article else "原文中找不到 / not in the source"
            problems.append(f"{where}: 引文与原文不一致，{cause}: “{quote[:30]}”")
    return problems


def check_indicator_texts(rows: Iterable[Row], texts: Mapping[str, str], file: str = "indicators.csv") -> list[str]:
    """Every indicator `text` is in its article and reads back as the row's value, unit, qualifiers, baseline."""
    problems: list[str] = []
    for row in rows:
        where = f"{file}: {row['id']}"
        text = _text_of(texts, row["source"], where, problems)
        if text is None:
            continue
        surface = row["text"]
        if not surface or surface not in text:
            problems.append(f"{where}: 原文中找不到数字“{surface}” / figure text not in the source")
            continue
        try:
            figure = parse_figure(surface)
        except FigureError as error:
            problems.append(f"{where}: 无法读取“{surface}”: {error}")
            continue
        value, baseline = _decimal(row["value"]), _decimal(row.get("baseline"))
        if value is None or value != figure.value:
            problems.append(f"{where}: value {row['value']} 与原文“{surface}”= {format_number(figure.value)} 不符 / value does not match the text")
        if row["unit"] != figure.unit:
            problems.append(f"{where}: unit '{row['unit']}' 与原文“{surface}”的单位 '{figure.unit}' 不符 / unit does not match")
        if baseline != figure.baseline:
            expected = "空 / empty" if figure.baseline is None else format_number(figure.baseline)
            problems.append(f"{where}: baseline '{row.get('baseline') or ''}' 应为 {expected} / baseline does not match the text")
        missing = [q for q in figure.qualifiers if q not in split_list(row.get("qualifier", ""))]
        if missing:
            problems.append(f"{where}: qualifier 缺少原文中的“{missing[0]}” / qualifier written in the text is missing")
    return problems


def _covered_spans(text: str, surfaces: Iterable[str]) -> list[tuple[int, int]]:
    spans = []
    for surface in surfaces:
        start = text.find(surface)
        while surface and start >= 0:
            spans.append((start, start + len(surface)))
            start = text.find(surface, start + 1)
    return spans


def check_numeral_coverage(indicators: Iterable[Row], exclusions: Iterable[Row], texts: Mapping[str, str],
                           file: str = "exclusions.csv") -> list[str]:
    """Every numeral of every article is an indicator's text or a documented exclusion.

    A figure nobody recorded (or an indicator row deleted by mistake) therefore fails, and so does
    an exclusion that no longer occurs in its article.
    """
    problems: list[str] = []
    by_source: dict[str, list[str]] = {source: [] for source in texts}
    indicators, exclusions = list(indicators), list(exclusions)
    for row in exclusions:
        if row["source"] in texts and row["text"] not in texts[row["source"]]:
            problems.append(f"{file}: {row['source']} “{row['text']}”: 原文中找不到这一排除项 / exclusion not in the source")
    for row in (*indicators, *exclusions):
        by_source.setdefault(row["source"], []).append(row["text"])
    for source, text in texts.items():
        spans = _covered_spans(text, by_source.get(source, []))
        for start, end, run in numeral_runs(text):
            if not any(s <= start and end <= e for s, e in spans):
                context = text[max(0, start - 8):end + 8].replace("\n", " ")
                problems.append(f"{source}: 数字“{run}”（…{context}…）既不是指标也不在排除清单中 / "
                                f"numeral is neither an indicator nor a documented exclusion")
    return problems


def check_names_in_sources(rows: Iterable[Row], texts: Mapping[str, str], column: str, file: str,
                           key: str = "id", sources_column: str = "source") -> list[str]:
    """A measure's name / a glossary term occurs in each article it cites (punctuation width ignored)."""
    problems: list[str] = []
    for row in rows:
        for source in split_list(row[sources_column]):
            where = f"{file}: {row[key]}"
            text = _text_of(texts, source, where, problems)
            if text is not None and fold_width(row[column]) not in fold_width(text):
                problems.append(f"{where}: “{row[column]}”不见于来源 {source} / not found in the cited source")
    return problems


# A measure is either reported as done (做法) or proposed (建议): the two must never be confused.
MEASURE_STATUSES = {
    "做法": "文章报道的已有做法 / reported practice",
    "建议": "文章提出的建议、对策 / a proposal, not a report of practice",
}


def check_measure_status(rows: Iterable[Row], file: str = "measures.csv") -> list[str]:
    """Every measure has a status, 做法 (reported practice) or 建议 (proposal)."""
    problems = []
    for row in rows:
        status = str(row.get("status") or "").strip()
        if status not in MEASURE_STATUSES:
            shown = f"'{status}'" if status else "为空 / empty"
            problems.append(f"{file}: {row.get('id')}: status {shown}，须为 {' 或 '.join(MEASURE_STATUSES)}"
                            f" / status must be 做法 (reported practice) or 建议 (proposal)")
    return problems


# The columns written in our own words (the others hold the articles' names, figures and quotations).
PROSE_COLUMNS = {
    "measures.csv": ("id", ("description",)),
    "glossary.csv": ("term", ("definition",)),
    "quotations.csv": ("id", ("note",)),
    "indicators.csv": ("id", ("indicator",)),
    "exclusions.csv": ("text", ("note",)),
}


def check_copied_prose(tables: Mapping[str, Iterable[Row]], texts: Mapping[str, str]) -> list[str]:
    """No run of 20+ characters of an article (punctuation ignored) in the columns we write ourselves."""
    problems = []
    for name, (key, columns) in PROSE_COLUMNS.items():
        for row in tables.get(name, ()):
            for column in columns:
                for run, source in copied_runs(str(row.get(column) or ""), texts):
                    problems.append(f"{name}: {row[key]}: {column} 与原文 {source} 有一段相同文字，请用自己的话改写"
                                    f" / copied from the article: {run}")
    return problems
