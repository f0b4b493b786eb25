"""The question bank: typed questions loaded from YAML and validated on load.

One YAML file per module in `datasets/questions/` (`m1.yaml` …)::

    module: m1
    title: 三个坚持
    questions:
      - id: m1-q01
        type: single            # single | multiple | truefalse | fill | numeric | matching | ordering
        stem: 题干……
        options: [甲, 乙, 丙]    # single, multiple
        answer: 乙              # see ANSWER SHAPES below
        explanation: 解析……
        source: yangquan         # a source id from the `sources` dataset
        tags: [三个坚持]

Answer shapes by type:
  single: one of `options`;  multiple: a list of `options`;  truefalse: true/false;
  fill: a string, with `accepted: [...]` variants;  numeric: a number, with `tolerance` (default 0);
  matching: `pairs:` a mapping left -> right (the answer is the mapping itself);
  ordering: `items:` the steps in their correct order (the answer is that order).

A bad question raises `QuestionBankError` naming the file, the question id and the field.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from dangxiao.errors import DangxiaoError

__all__ = [
    "QUESTION_TYPES",
    "Question",
    "QuestionBankError",
    "load_question_file",
    "load_bank",
    "get_question",
]

QUESTION_TYPES = ("single", "multiple", "truefalse", "fill", "numeric", "matching", "ordering")
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
KNOWN_FIELDS = {
    "id", "type", "stem", "options", "answer", "accepted", "tolerance", "pairs", "items",
    "explanation", "source", "tags", "points",
}


class QuestionBankError(DangxiaoError):
    """A question file that does not match the schema."""

    def __init__(self, file: Path | str, question_id: str | None, field_name: str | None, reason: str):
        self.file, self.question_id, self.field, self.reason = str(file), question_id, field_name, reason
        where = f"{file}"
        if question_id:
            where += f": 题目 {question_id}"
        if field_name:
            where += f": 字段 '{field_name}'"
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    stem: str
    explanation: str
    source: str
    answer: Any
    options: tuple[str, ...] = ()
    accepted: tuple[str, ...] = ()
    tolerance: float = 0.0
    pairs: tuple[tuple[str, str], ...] = ()
    items: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    points: float = 1.0
    module: str = ""
    file: str = field(default="", compare=False)

    def is_correct(self, response: Any) -> bool:
        """Whether `response` (in the shape the widget produces) is right."""
        if response is None:
            return False
        if self.type == "single":
            return response == self.answer
        if self.type == "multiple":
            return set(response) == set(self.answer)
        if self.type == "truefalse":
            return bool(response) is self.answer if isinstance(response, bool) else False
        if self.type == "fill":
            given = _normalise_text(str(response))
            return any(given == _normalise_text(v) for v in (self.answer, *self.accepted))
        if self.type == "numeric":
            try:
                value = float(response)
            except (TypeError, ValueError):
                return False
            return math.isfinite(value) and abs(value - float(self.answer)) <= self.tolerance
        if self.type == "matching":
            return dict(response) == dict(self.pairs)
        if self.type == "ordering":
            return list(response) == list(self.items)
        raise AssertionError(self.type)  # unreachable: types are validated on load


def _normalise_text(text: str) -> str:
    # Trainees type on phones and PCs: ignore spaces and full-width/half-width punctuation differences.
    table = str.maketrans({"（": "(", "）": ")", "，": ",", "、": ",", "“": '"', "”": '"'})
    return re.sub(r"\s+", "", text.translate(table)).lower()


def _require(raw: dict, key: str, kind: type | tuple[type, ...], file: Path, qid: str | None) -> Any:
    if key not in raw or raw[key] is None or raw[key] == "":
        raise QuestionBankError(file, qid, key, "缺少必填字段 / missing required field")
    value = raw[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise QuestionBankError(file, qid, key, f"类型错误 / wrong type: {type(value).__name__}")
    return value


def _string_list(raw: dict, key: str, file: Path, qid: str, minimum: int) -> tuple[str, ...]:
    values = _require(raw, key, list, file, qid)
    if len(values) < minimum:
        raise QuestionBankError(file, qid, key, f"至少需要 {minimum} 项 / needs at least {minimum} entries")
    if not all(isinstance(v, str) and v.strip() for v in values):
        raise QuestionBankError(file, qid, key, "每一项都须是非空文字 / every entry must be non-empty text")
    if len(set(values)) != len(values):
        raise QuestionBankError(file, qid, key, "有重复项 / has duplicate entries")
    return tuple(values)


def parse_question(raw: Any, file: Path | str, module: str = "", source_ids: set[str] | None = None) -> Question:
    """Validate one question mapping and build a `Question`."""
    file = Path(file)
    if not isinstance(raw, dict):
        raise QuestionBankError(file, None, None, "每道题须是一个映射 / each question must be a mapping")
    qid = raw.get("id")
    if not isinstance(qid, str) or not ID_PATTERN.match(qid):
        raise QuestionBankError(file, str(qid) if qid else None, "id",
                                "须为小写 ASCII 字母、数字、- 或 _ / must be lowercase ASCII, digits, - or _")
    unknown = set(raw) - KNOWN_FIELDS
    if unknown:
        raise QuestionBankError(file, qid, sorted(unknown)[0], "未知字段 / unknown field")
    qtype = _require(raw, "type", str, file, qid)
    if qtype not in QUESTION_TYPES:
        raise QuestionBankError(file, qid, "type", f"未知题型 '{qtype}' / unknown type; expected one of {', '.join(QUESTION_TYPES)}")
    stem = _require(raw, "stem", str, file, qid)
    explanation = _require(raw, "explanation", str, file, qid)
    source = _require(raw, "source", str, file, qid)
    if source_ids is not None and source not in source_ids:
        raise QuestionBankError(file, qid, "source", f"未知来源 '{source}' / unknown source id")
    tags = tuple(raw.get("tags") or ())
    points = raw.get("points", 1)
    if not isinstance(points, (int, float)) or isinstance(points, bool) or points <= 0:
        raise QuestionBankError(file, qid, "points", "须为正数 / must be a positive number")
    common = dict(id=qid, type=qtype, stem=stem, explanation=explanation, source=source, tags=tags,
                  points=float(points), module=module, file=str(file))

    if qtype in ("single", "multiple"):
        options = _string_list(raw, "options", file, qid, 2)
        if qtype == "single":
            answer = _require(raw, "answer", str, file, qid)
            if answer not in options:
                raise QuestionBankError(file, qid, "answer", f"答案 '{answer}' 不在选项中 / answer is not one of the options")
        else:
            answer = _string_list(raw, "answer", file, qid, 1)
            missing = [a for a in answer if a not in options]
            if missing:
                raise QuestionBankError(file, qid, "answer", f"答案 '{missing[0]}' 不在选项中 / answer is not one of the options")
        return Question(answer=answer, options=options, **common)
    if qtype == "truefalse":
        answer = _require(raw, "answer", bool, file, qid)
        return Question(answer=answer, **common)
    if qtype == "fill":
        answer = _require(raw, "answer", str, file, qid)
        accepted = tuple(raw.get("accepted") or ())
        if not all(isinstance(a, str) and a for a in accepted):
            raise QuestionBankError(file, qid, "accepted", "每一项都须是非空文字 / every entry must be non-empty text")
        return Question(answer=answer, accepted=accepted, **common)
    if qtype == "numeric":
        answer = _require(raw, "answer", (int, float), file, qid)
        tolerance = raw.get("tolerance", 0)
        if not isinstance(tolerance, (int, float)) or isinstance(tolerance, bool) or tolerance < 0:
            raise QuestionBankError(file, qid, "tolerance", "须为非负数 / must be a non-negative number")
        return Question(answer=answer, tolerance=float(tolerance), **common)
    if qtype == "matching":
        pairs = _require(raw, "pairs", dict, file, qid)
        if len(pairs) < 2:
            raise QuestionBankError(file, qid, "pairs", "至少需要 2 对 / needs at least 2 pairs")
        if not all(isinstance(k, str) and isinstance(v, str) and k and v for k, v in pairs.items()):
            raise QuestionBankError(file, qid, "pairs", "每一对都须是文字 / every pair must be text: text")
        if len(set(pairs.values())) != len(pairs):
            raise QuestionBankError(file, qid, "pairs", "右侧有重复项 / right-hand items repeat")
        frozen = tuple(pairs.items())
        return Question(answer=dict(frozen), pairs=frozen, **common)
    # ordering
    items = _string_list(raw, "items", file, qid, 2)
    return Question(answer=list(items), items=items, **common)


def load_question_file(path: Path | str, source_ids: set[str] | None = None) -> list[Question]:
    """Load and validate one module file of the bank."""
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise QuestionBankError(path, None, None, "文件不存在 / file not found") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f" (第 {mark.line + 1} 行 / line {mark.line + 1})" if mark else ""
        raise QuestionBankError(path, None, None, f"YAML 格式错误{line} / malformed YAML") from None
    if not isinstance(document, dict) or not isinstance(document.get("questions"), list):
        raise QuestionBankError(path, None, "questions", "须有 questions 列表 / needs a 'questions' list")
    module = str(document.get("module") or path.stem)
    questions = [parse_question(raw, path, module, source_ids) for raw in document["questions"]]
    seen: set[str] = set()
    for question in questions:
        if question.id in seen:
            raise QuestionBankError(path, question.id, "id", "题目编号重复 / duplicate id")
        seen.add(question.id)
    return questions


def _bank_dir() -> Path:
    from dangxiao.paths import datasets_dir

    return datasets_dir() / "questions"


def _known_source_ids() -> set[str] | None:
    try:
        from dangxiao import data
        return set(data.sources()["id"])
    except Exception:  # the sources dataset is optional when validating a bank on its own
        return None


@lru_cache(maxsize=None)
def _cached_bank(folder: str) -> dict[str, Question]:
    bank: dict[str, Question] = {}
    source_ids = _known_source_ids()
    for path in sorted(Path(folder).glob("*.yaml")):
        for question in load_question_file(path, source_ids):
            if question.id in bank:
                raise QuestionBankError(path, question.id, "id",
                                        f"与 {bank[question.id].file} 中的题目编号重复 / id already used")
            bank[question.id] = question
    return bank


def load_bank(folder: Path | str | None = None) -> dict[str, Question]:
    """Every question of the bank by id, validated (cached per folder)."""
    return dict(_cached_bank(str(Path(folder) if folder else _bank_dir())))


def get_question(question_id: str, folder: Path | str | None = None) -> Question:
    bank = load_bank(folder)
    try:
        return bank[question_id]
    except KeyError:
        raise DangxiaoError(f"题库中没有题目 '{question_id}' / no question with this id in the bank") from None
