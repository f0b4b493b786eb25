"""Reading figures as the articles write them: 15.6万名, 近10万元, 2400余支, 95.2%, 近一倍, 36个增至现在的67个.

`parse_figure(text)` turns the surface form of one figure into its exact value (a `Decimal`, so
15.6万 is 156000 and not 155999.99…), its unit, the qualifiers written next to it and, for a
"A 增至 B" text, its baseline. `numeral_runs(text)` finds every numeral in a text that the
validator must account for (see datasets/README.md, "What counts as a figure").
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["Figure", "FigureError", "parse_figure", "chinese_to_int", "numeral_runs"]

CHINESE_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
                  "七": 7, "八": 8, "九": 9}
CHINESE_UNITS = {"十": 10, "百": 100, "千": 1000}
MULTIPLIERS = {"万": Decimal(10) ** 4, "亿": Decimal(10) ** 8}
# Qualifiers written before a figure (近10万元) and after its number (2400余支).
LEADING_QUALIFIERS = ("近", "约", "超", "逾")
TRAILING_QUALIFIERS = ("余", "多")
GROWTH_WORD = "增至"

_CHINESE_NUMERAL = "零〇一二两三四五六七八九十百千"
_NUMBER = re.compile(rf"^(?P<number>\d+(?:\.\d+)?|[{_CHINESE_NUMERAL}]+)")
# Measure words after which a Chinese numeral is a count of something (三个, 五级, 两年 …).
CLASSIFIERS = "个名项次届倍级类支部条件年位种家户批轮层岗"
_ARABIC_RUN = re.compile(r"\d+(?:\.\d+)?")
_CHINESE_RUN = re.compile(rf"第?[{_CHINESE_NUMERAL}]+[{CLASSIFIERS}]")


class FigureError(ValueError):
    """A figure text that cannot be read."""


@dataclass(frozen=True)
class Figure:
    value: Decimal
    unit: str
    qualifiers: tuple[str, ...]
    baseline: Decimal | None = None


def chinese_to_int(numeral: str) -> int:
    """一 → 1, 十 → 10, 十八 → 18, 二十 → 20, 一百二十 → 120 (numerals up to the thousands)."""
    if not numeral or any(c not in CHINESE_DIGITS and c not in CHINESE_UNITS for c in numeral):
        raise FigureError(f"不是中文数字 / not a Chinese numeral: {numeral!r}")
    total, digit = 0, None
    for char in numeral:
        if char in CHINESE_DIGITS:
            if digit is not None:  # 一二 is not a number in running text
                raise FigureError(f"无法读取的中文数字 / unreadable Chinese numeral: {numeral!r}")
            digit = CHINESE_DIGITS[char]
        else:
            total += (1 if digit is None else digit) * CHINESE_UNITS[char]
            digit = None
    return total + (digit or 0)


def _parse_single(text: str) -> Figure:
    rest, qualifiers = text, []
    if rest.startswith(LEADING_QUALIFIERS):
        qualifiers.append(rest[0])
        rest = rest[1:]
    match = _NUMBER.match(rest)
    if not match:
        raise FigureError(f"找不到数字 / no number in {text!r}")
    number = match["number"]
    value = Decimal(number) if number[0].isdigit() else Decimal(chinese_to_int(number))
    rest = rest[match.end():]
    # 600余万件: the qualifier may sit between the number and the multiplier.
    if rest[:1] in TRAILING_QUALIFIERS:
        qualifiers.append(rest[0])
        rest = rest[1:]
    if rest[:1] in MULTIPLIERS:
        value *= MULTIPLIERS[rest[0]]
        rest = rest[1:]
    if rest[:1] in TRAILING_QUALIFIERS:
        qualifiers.append(rest[0])
        rest = rest[1:]
    if not rest:
        raise FigureError(f"缺少单位 / no unit in {text!r}")
    if re.search(rf"[\d{_CHINESE_NUMERAL}]", rest):
        raise FigureError(f"单位中含有数字 / a number inside the unit of {text!r}")
    return Figure(value=value, unit=rest, qualifiers=tuple(qualifiers))


def parse_figure(text: str) -> Figure:
    """Read one figure as written, e.g. ``parse_figure("15.6万名").value == 156000``.

    ``"36个增至现在的67个"`` reads as 67 个 with baseline 36 and qualifier 增至: the text between
    the two figures is free, but both must carry the same unit.
    """
    text = text.strip()
    if GROWTH_WORD in text:
        before, after = text.split(GROWTH_WORD, 1)
        start = _ARABIC_RUN.search(after) or re.search(rf"[{_CHINESE_NUMERAL}]", after)
        if not start:
            raise FigureError(f"“增至”后找不到数字 / no number after 增至 in {text!r}")
        base, final = _parse_single(before), _parse_single(after[start.start():])
        if base.unit != final.unit:
            raise FigureError(f"前后单位不同 / units differ in {text!r}")
        return Figure(value=final.value, unit=final.unit,
                      qualifiers=(*base.qualifiers, GROWTH_WORD, *final.qualifiers), baseline=base.value)
    return _parse_single(text)


def numeral_runs(text: str) -> list[tuple[int, int, str]]:
    """Every numeral the figure rule covers, as (start, end, run).

    Arabic digit runs count everywhere; a Chinese numeral counts when a measure word follows it
    (三个, 五级, 两年). Ordinals written with 第 (第一书记) are never figures and are skipped.
    """
    runs = [(m.start(), m.end(), m.group()) for m in _ARABIC_RUN.finditer(text)]
    runs += [(m.start(), m.end(), m.group()) for m in _CHINESE_RUN.finditer(text) if not m.group().startswith("第")]
    return sorted(runs)
