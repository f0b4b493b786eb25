"""Short-answer assistance: which rubric key points a written answer seems to cover.

A hint for the human grader, never a grade: nothing here writes to the gradebook.

A key point such as "党建引领" is cut into content words with jieba (党建, 引领); a word counts as
found when it, or one of its synonyms, occurs in the answer. The key point is marked covered when
at least `min_share` (default half) of its content words are found; the words found are returned as
evidence so the grader can check them. Synonyms come from the rubric itself and from the glossary
(`dangxiao.data.glossary()`, when present): its terms are added to jieba's dictionary so they stay
whole, and a definition saying 简称/又称/也称 "X" (or a term with an alias in brackets) makes X a
synonym of the term.

Rubric file (YAML, e.g. `source/<assignment>/rubric.yaml`), keyed by the answer cell's grade_id::

    answer:                          # grade_id of a manually graded cell
      - 党建引领
      - text: 群众参与
        synonyms: [居民参与, 发动群众]
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, NamedTuple

import yaml

from dangxiao.errors import DangxiaoError

__all__ = [
    "KeyPoint",
    "KeyPointHint",
    "suggest_key_points",
    "load_rubric",
    "answers_in_notebook",
    "course_hints",
    "submission_notebooks",
]

# Function words that carry no content in a key point.
STOPWORDS = frozenset(
    "的 了 和 与 及 以及 在 是 要 把 被 对 为 从 由 将 并 或 等 中 上 下 其 之 而 且 也 都 就 有 这 那 "
    "一个 一些 通过 进行 坚持 加强 做好 推动 推进 实现 工作 问题 方面".split()
)
_ALIAS = re.compile(r"(?:简称|又称|也称|俗称|亦称)[“\"「]?([^”\"」，。；、（）()\s]{2,12})")
_BRACKETED = re.compile(r"^(.+?)[（(]([^（）()]{2,20})[）)]$")
_PUNCTUATION = re.compile(r"[\s\W_]+", re.UNICODE)


class KeyPointHint(NamedTuple):
    key_point: str
    covered: bool
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class KeyPoint:
    text: str
    synonyms: tuple[str, ...] = field(default=())


def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    if jieba.dt.tmp_dir is None:
        # jieba keeps its dictionary cache as /tmp/jieba.cache and loads it with marshal, unchecked: on a
        # shared machine (the hub) anyone could plant that file under the grader. A private folder instead.
        import os
        import tempfile

        private = os.path.join(tempfile.gettempdir(), f"dangxiao-jieba-{os.getuid()}")
        os.makedirs(private, mode=0o700, exist_ok=True)
        if os.stat(private).st_uid == os.getuid():
            os.chmod(private, 0o700)
            jieba.dt.tmp_dir = private
        else:  # someone else made that folder first: keep no cache rather than read theirs
            jieba.dt.tmp_dir = tempfile.mkdtemp(prefix="dangxiao-jieba-")
    return jieba


@lru_cache(maxsize=1)
def _glossary_synonyms() -> dict[str, frozenset[str]]:
    """term ↔ alias pairs read from the glossary; the terms also join jieba's dictionary."""
    try:
        from dangxiao.data import glossary

        table = glossary()
    except Exception:  # the glossary is optional: hints still work from the rubric alone
        return {}
    jieba = _jieba()
    groups: dict[str, set[str]] = {}
    for term, definition in zip(table["term"].astype(str), table["definition"].fillna("").astype(str)):
        names = {term.strip()}
        bracketed = _BRACKETED.match(term.strip())
        if bracketed:
            names |= {bracketed.group(1).strip(), bracketed.group(2).strip()}
        names |= {alias.strip() for alias in _ALIAS.findall(definition)}
        names = {name for name in names if len(name) >= 2}
        for name in names:
            jieba.add_word(name)
            groups.setdefault(name, set()).update(names - {name})
    return {name: frozenset(others) for name, others in groups.items()}


def _content_words(text: str) -> list[str]:
    words = []
    for word in _jieba().lcut(text):
        word = word.strip()
        if len(word) >= 2 and word not in STOPWORDS and not _PUNCTUATION.fullmatch(word) and word not in words:
            words.append(word)
    return words or ([text.strip()] if text.strip() else [])


def _as_key_point(item) -> KeyPoint:
    if isinstance(item, KeyPoint):
        return item
    if isinstance(item, str):
        return KeyPoint(item)
    text, synonyms = item
    return KeyPoint(str(text), tuple(synonyms))


def suggest_key_points(
    answer_text: str,
    key_points: Iterable[str | KeyPoint | tuple[str, Iterable[str]]],
    synonyms: dict[str, Iterable[str]] | None = None,
    min_share: float = 0.5,
) -> list[KeyPointHint]:
    """For each key point: (key_point, covered, evidence words found in the answer).

    `key_points` are strings, `KeyPoint`s, or (text, synonyms) pairs; synonyms of a key point match
    it as a whole. `synonyms` maps a word to other words that count for it (added to the glossary's).
    """
    glossary = _glossary_synonyms()
    answer = _PUNCTUATION.sub("", answer_text or "")
    hints = []
    for item in key_points:
        point = _as_key_point(item)
        whole = [s for s in point.synonyms if s and _PUNCTUATION.sub("", s) in answer]
        if whole:
            hints.append(KeyPointHint(point.text, True, tuple(whole)))
            continue
        words = _content_words(point.text)
        found = []
        for word in words:
            variants = [word, *glossary.get(word, ()), *((synonyms or {}).get(word, ()))]
            hit = next((v for v in variants if v and v in answer), None)
            if hit is None and len(word) >= 4:
                # A long word may be split in the answer (党建引领 → 以党建来引领): all its parts count.
                parts = [p for p in _jieba().lcut_for_search(word) if len(p) >= 2 and p != word]
                if parts and all(p in answer for p in parts):
                    hit = "+".join(parts)
            if hit is not None:
                found.append(hit)
        covered = bool(words) and len(found) / len(words) >= min_share
        hints.append(KeyPointHint(point.text, covered, tuple(found)))
    return hints


def load_rubric(path: Path | str) -> dict[str, list[KeyPoint]]:
    """Read a rubric YAML (grade_id → key points) and validate it; errors name the file and the entry."""
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DangxiaoError(f"{path}: 评分要点文件不存在 / rubric not found") from None
    except yaml.YAMLError:
        raise DangxiaoError(f"{path}: YAML 格式错误 / malformed YAML") from None
    if not isinstance(document, dict) or not document:
        raise DangxiaoError(f"{path}: 须为 “单元格 grade_id: 要点列表” 的映射 / must map grade_id to a list of key points")
    rubric = {}
    for cell, points in document.items():
        if not isinstance(points, list) or not points:
            raise DangxiaoError(f"{path}: {cell}: 须为非空要点列表 / needs a non-empty list of key points")
        parsed = []
        for index, point in enumerate(points, 1):
            if isinstance(point, str) and point.strip():
                parsed.append(KeyPoint(point.strip()))
            elif isinstance(point, dict) and isinstance(point.get("text"), str) and set(point) <= {"text", "synonyms"}:
                synonyms = point.get("synonyms") or []
                if not isinstance(synonyms, list) or not all(isinstance(s, str) for s in synonyms):
                    raise DangxiaoError(f"{path}: {cell}[{index}].synonyms: 须为字符串列表 / must be a list of strings")
                parsed.append(KeyPoint(point["text"].strip(), tuple(s.strip() for s in synonyms if s.strip())))
            else:
                raise DangxiaoError(f"{path}: {cell}[{index}]: 要点须为文字或 {{text, synonyms}} / key point must be text or {{text, synonyms}}")
        rubric[str(cell)] = parsed
    return rubric


def answers_in_notebook(path: Path | str, cell_ids: Iterable[str]) -> dict[str, str]:
    """The source of each cell whose nbgrader grade_id is in `cell_ids`."""
    import nbformat

    wanted = set(cell_ids)
    try:
        notebook = nbformat.read(str(path), as_version=4)
    except Exception as error:  # a malformed or tampered submission must not stop the others
        raise DangxiaoError(f"{path}: 无法读取笔记本 / cannot read notebook ({type(error).__name__})") from None
    answers = {}
    for cell in notebook.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in wanted:
            answers[grade_id] = cell.get("source", "")
    return answers


def submission_notebooks(course: Path | str, assignment: str) -> list[Path]:
    """Each trainee's notebooks of `assignment`: the autograded copy where there is one, else the
    submission (a trainee not graded yet is not left out because others are)."""
    course = Path(course)
    students = sorted({p.parent.name for stage in ("autograded", "submitted") for p in course.glob(f"{stage}/*/{assignment}")})
    found = []
    for student in students:
        graded = course / "autograded" / student / assignment
        found += sorted((graded if any(graded.glob("*.ipynb")) else course / "submitted" / student / assignment).glob("*.ipynb"))
    return found


def course_hints(course: Path | str, assignment: str, rubric: dict[str, list[KeyPoint]]) -> list[dict]:
    """Hints for every submission of `assignment` in an nbgrader course folder.

    Reads each trainee's `autograded/<student>/<assignment>/*.ipynb`, or `submitted/` when that trainee is
    not autograded yet.
    Returns dicts with student, notebook, cell, hints — or student, notebook, error for a file that
    could not be read (the others go on).
    """
    rows = []
    for path in submission_notebooks(course, assignment):
        student = path.parent.parent.name
        try:
            answers = answers_in_notebook(path, rubric)
        except DangxiaoError as error:
            rows.append({"student": student, "notebook": path.stem, "error": str(error)})
            continue
        for cell, text in answers.items():
            rows.append({"student": student, "notebook": path.stem, "cell": cell, "hints": suggest_key_points(text, rubric[cell])})
    return rows
