"""The copy check: runs of an article's text in our own prose, compared without punctuation.

    copied_runs("课程说明：……", {"wuhan": text, …})  →  [("……", "wuhan"), …]

Our text and the articles are compared on their letters, digits and Chinese characters only: full- and
half-width punctuation, quotation marks, spaces and line breaks are all ignored, so a copied sentence
is caught whether its commas are "," or "，" and whether it was re-wrapped. What stands between
quotation marks (“…”, 《…》, ‘…’, 「…」) is a named formulation, a title or a quotation (checked
elsewhere, against the quotations dataset and the articles) and is left out; it also ends a run, so
a formulation put in quotation marks is not counted together with the prose around it. A table
cell boundary (`|`) ends a run too.

A run of `COPY_RUN` (20) such characters found in an article is copied prose; it is reported as it
stands in our text, extended as far as it keeps matching.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable, Mapping

__all__ = ["COPY_RUN", "fold_width", "letters", "copied_runs", "string_values"]

COPY_RUN = 20  # characters (letters, digits, Chinese), punctuation not counted

# Quoted material is blanked out; each blank is a boundary that no run crosses.
_QUOTED = re.compile(r"“[^“”]*”|《[^《》]*》|‘[^‘’]*’|「[^「」]*」|『[^『』]*』")
_BOUNDARY = "\x00"


# The articles mix half- and full-width punctuation (000, 001, 002 write "," and "(" inside Chinese);
# wording is compared, and displayed, in the full-width form.
_FULL_WIDTH = str.maketrans({",": "，", ":": "：", ";": "；", "?": "？", "!": "！", "(": "（", ")": "）"})


def fold_width(text: str) -> str:
    """Half-width punctuation → full width, spaces dropped: the form in which wording is compared."""
    return re.sub(r"\s+", "", str(text).translate(_FULL_WIDTH))


def letters(text: str) -> str:
    """Only what the copy check compares: letters, digits and Chinese characters (no punctuation, no spaces)."""
    return "".join(ch for ch in text if ch.isalnum())


def _compared(text: str) -> tuple[str, list[int]]:
    """(the compared characters of `text` with boundaries, the index in `text` of each of them)."""
    text = _QUOTED.sub(lambda m: _BOUNDARY * len(m.group(0)), text).replace("|", _BOUNDARY)
    kept, where = [], []
    for index, ch in enumerate(text):
        if ch == _BOUNDARY:
            if kept and kept[-1] != _BOUNDARY:
                kept.append(_BOUNDARY)
                where.append(index)
        elif ch.isalnum():
            kept.append(ch)
            where.append(index)
    return "".join(kept), where


@lru_cache(maxsize=8)
def _windows(items: tuple[tuple[str, str], ...], length: int) -> tuple[dict[str, str], dict[str, str]]:
    """({every `length`-character window of every article: its source id}, {source id: compared text})."""
    windows: dict[str, str] = {}
    compared = {}
    for source_id, text in items:
        flat = letters(text)
        compared[source_id] = flat
        for start in range(len(flat) - length + 1):
            windows.setdefault(flat[start:start + length], source_id)
    return windows, compared


def copied_runs(text: str, sources: Mapping[str, str], length: int = COPY_RUN) -> list[tuple[str, str]]:
    """(run as it stands in `text`, source id) for every run of `length`+ compared characters found in an article."""
    flat, where = _compared(text)
    windows, compared = _windows(tuple(sorted(sources.items())), length)
    found, index = [], 0
    while index + length <= len(flat):
        run = flat[index:index + length]
        source_id = windows.get(run) if _BOUNDARY not in run else None
        if source_id is None:
            index += 1
            continue
        end = index + length
        while end < len(flat) and flat[end] != _BOUNDARY and flat[index:end + 1] in compared[source_id]:
            end += 1
        found.append((text[where[index]:where[end - 1] + 1], source_id))
        index = end
    return found


def string_values(document, skip: Iterable[str] = ()) -> list[tuple[str, str]]:
    """(dotted path, text) of every string in a parsed YAML/JSON document, leaving out the keys in `skip`."""
    skip = set(skip)
    found: list[tuple[str, str]] = []

    def walk(node, path: str) -> None:
        if isinstance(node, str):
            found.append((path, node))
        elif isinstance(node, dict):
            for key, value in node.items():
                if str(key) not in skip:
                    walk(value, f"{path}.{key}" if path else str(key))
        elif isinstance(node, list):
            for number, value in enumerate(node):
                name = value.get("id") if isinstance(value, dict) and value.get("id") else number
                walk(value, f"{path}[{name}]")

    walk(document, "")
    return found
