"""Normalising the five source articles: site chrome out, pinyin out, traditional → simplified.

Each rule is small and named after what it removes; `normalise(path)` applies the ones the
article needs (chosen by the three-digit prefix of its file name, see `SOURCE_RULES`).
The result is the text every check runs against: quotations and figure texts in the datasets
are exact substrings of it.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from dangxiao.errors import DangxiaoError

__all__ = ["normalise", "strip_pinyin", "to_simplified", "source_prefix"]

# A "(pinyin)" run inserted by a scraper after a character: lowercase Latin letters with tone marks,
# nothing else. Genuine parentheses hold Chinese (村(社区)) or digits (2024lslybkt-078) and stay.
_PINYIN_RUN = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)")

# Scraping defects that no rule can undo, repaired by hand (the bytes were lost, the pinyin left
# beside them shows what was there: 為(wéi)…網(wǎng)). Applied before the pinyin is stripped.
_REPAIRS = {
    "003": [("變?yōu)椤耙粡埦W(wǎng)”", "變為“一張網”")],
}


def strip_pinyin(text: str) -> str:
    """現(xiàn)代化 → 現代化; 村(社區(qū)) → 村(社區)."""
    return _PINYIN_RUN.sub("", text)


@lru_cache(maxsize=1)
def _converter():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional → simplified with OpenCC's t2s table (黨建引領 → 党建引领)."""
    return _converter().convert(text)


def _drop_forum_chrome(text: str) -> str:
    # 000 is a forum repost: the article starts at the author line 雷健坤(…) and ends with its
    # own (来源:…) line; the forum's menus, counters and reply box surround it.
    start = text.find("雷健坤(")
    if start < 0:
        raise DangxiaoError("000: 找不到正文开头“雷健坤(” / article start not found")
    text = text[start:]
    end = text.find("(来源:")
    if end < 0:
        raise DangxiaoError("000: 找不到“(来源:”行 / source line not found")
    line_end = text.find("\n", end)
    return text if line_end < 0 else text[:line_end]


def _drop_site_header_footer(text: str) -> str:
    # 002 sits on a college's web page: a section name and a breadcrumb above the title, the
    # site's copyright and contact lines below the article.
    lines = text.split("\n")
    header = ("党校工作动态", "您现在的位置是")
    footer = ("版权所有", "联系电话")
    while lines and (not lines[0].strip() or lines[0].strip().startswith(header)):
        lines.pop(0)
    return "\n".join(line for line in lines if not line.strip().startswith(footer))


def _drop_trailing_section_name(text: str) -> str:
    # The site's section name may trail 001's author note (…研究成果】党校工作动态).
    return re.sub(r"】\s*党校工作动态\s*$", "】", text.rstrip())


def _tidy_lines(text: str) -> str:
    lines = (line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return "\n".join(line for line in lines if line) + "\n"


# prefix -> (chrome rule or None, has pinyin runs, is traditional)
SOURCE_RULES = {
    "000": (_drop_forum_chrome, False, False),
    "001": (_drop_trailing_section_name, False, False),
    "002": (_drop_site_header_footer, False, False),
    "003": (None, True, True),
    "004": (None, False, True),
}


def source_prefix(path: Path | str) -> str:
    prefix = Path(path).name[:3]
    if prefix not in SOURCE_RULES:
        raise DangxiaoError(f"{path}: 不是已知的原文文件（应以 000–004 开头）/ not one of the five source files")
    return prefix


def normalise(path: Path | str) -> str:
    """The article of one source file, without chrome or pinyin, in simplified Chinese."""
    path = Path(path)
    prefix = source_prefix(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DangxiaoError(f"{path}: 原文文件不存在 / source file not found") from None
    except UnicodeDecodeError as error:
        raise DangxiaoError(f"{path}: 不是 UTF-8 文本 / not UTF-8 ({error.reason})") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    chrome, has_pinyin, traditional = SOURCE_RULES[prefix]
    for broken, repaired in _REPAIRS.get(prefix, []):
        text = text.replace(broken, repaired)
    if chrome:
        text = chrome(text)
    if has_pinyin:
        text = strip_pinyin(text)
    if traditional:
        text = to_simplified(text)
    return _tidy_lines(text)
