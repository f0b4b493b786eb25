"""The question bank: typed questions loaded from YAML and validated on load.

One YAML file per module in `datasets/questions/` (`m1.yaml` …)::

    module: m1                  # every item of the file belongs to this module
    title: 三个坚持
    questions:
      - id: m1-q01
        type: single            # single | multiple | truefalse | fill | numeric | matching | ordering | essay
        level: 应用             # cognitive level: 记忆 | 理解 | 应用 | 分析
        difficulty: 中          # 易 | 中 | 难
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
  ordering: `items:` the steps in their correct order (the answer is that order);
  essay (简答, graded by hand, so no `answer`): `rubric:` a list of {criterion, points} whose points
  add up to the item's `points`, and `key_points:` the points a good answer covers, each a string or
  {text, synonyms} — the shape `dangxiao.grading.rubric_hints.suggest_key_points` takes.

Each item is checked by a small pydantic model per type (strict: "3" is not a number, an unknown
key is refused rather than ignored). Bank files (`load_question_file`, `load_bank`) also require
`level` and `difficulty`; a question written inline in a notebook (`parse_question`) does not.
A bad question raises `QuestionBankError` naming the file, the question id, the field and the cause.

`bank_fills_mix(bank, mix)` says which cells of a paper's mix {(module, type): count} the bank cannot
fill; `load_mix(path)` reads a mix file (`datasets/questions/mixes/*.yaml`).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Iterable, Literal, Mapping, Union

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator, model_validator

from dangxiao.errors import DangxiaoError

__all__ = [
    "QUESTION_TYPES",
    "AUTO_GRADED_TYPES",
    "LEVELS",
    "APPLIED_LEVELS",
    "DIFFICULTIES",
    "Question",
    "QuestionBankError",
    "parse_question",
    "load_question_file",
    "load_bank",
    "get_question",
    "bank_dir",
    "inline_question",
    "notebook_inline_questions",
    "INLINE_FILE",
    "applied_share",
    "bank_fills_mix",
    "load_mix",
]

QUESTION_TYPES = ("single", "multiple", "truefalse", "fill", "numeric", "matching", "ordering", "essay")
AUTO_GRADED_TYPES = QUESTION_TYPES[:-1]  # essay (简答) is graded by hand
LEVELS = ("记忆", "理解", "应用", "分析")
APPLIED_LEVELS = ("应用", "分析")  # issue 14: at least 40 % of the bank at these levels
DIFFICULTIES = ("易", "中", "难")
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
INLINE_FILE = "<notebook>"  # what a bad inline question's error names as its file
MODULE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_]*$")


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
    level: str = ""          # 记忆 | 理解 | 应用 | 分析 ("" only for inline notebook questions)
    difficulty: str = ""     # 易 | 中 | 难
    rubric: tuple[tuple[str, float], ...] = ()                 # essay: (criterion, points)
    key_points: tuple[tuple[str, tuple[str, ...]], ...] = ()   # essay: (text, synonyms)

    @property
    def auto_graded(self) -> bool:
        return self.type in AUTO_GRADED_TYPES

    def is_correct(self, response: Any) -> bool:
        """Whether `response` (in the shape the widget produces) is right."""
        if self.type == "essay":
            raise DangxiaoError(f"{self.file}: 题目 {self.id}: 简答题由教员人工评分，没有标准答案 / "
                                f"essay items are graded by hand")
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


# ---------------------------------------------------------------- the schema, one model per type

def _non_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("须为非空文字 / must be non-empty text")
    return value


def _positive(value: float) -> float:
    if not math.isfinite(value) or value <= 0:
        raise ValueError("须为正数 / must be a positive number")
    return value


def _distinct(values: list) -> list:
    if len(set(values)) != len(values):
        raise ValueError("有重复项 / has duplicate entries")
    return values


Text = Annotated[str, AfterValidator(_non_blank)]
Positive = Annotated[float, AfterValidator(_positive)]


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    id: str
    type: str
    stem: Text
    explanation: Text
    source: Text
    tags: list[Text] = []
    points: Positive = 1.0
    level: Literal[LEVELS] | None = None  # type: ignore[valid-type]
    difficulty: Literal[DIFFICULTIES] | None = None  # type: ignore[valid-type]

    @field_validator("source")
    @classmethod
    def _known_source(cls, value: str, info: ValidationInfo) -> str:
        known = (info.context or {}).get("source_ids")
        if known is not None and value not in known:
            raise ValueError(f"未知来源 '{value}' / unknown source id")
        return value


class _Single(_Item):
    options: Annotated[list[Text], AfterValidator(_distinct)]
    answer: Text

    @model_validator(mode="after")
    def _answer_is_an_option(self):
        if len(self.options) < 2:
            raise _FieldError("options", "至少需要 2 项 / needs at least 2 entries")
        if self.answer not in self.options:
            raise _FieldError("answer", f"答案 '{self.answer}' 不在选项中 / answer is not one of the options")
        return self


class _Multiple(_Item):
    options: Annotated[list[Text], AfterValidator(_distinct)]
    answer: Annotated[list[Text], AfterValidator(_distinct)]

    @model_validator(mode="after")
    def _answers_are_options(self):
        if len(self.options) < 2:
            raise _FieldError("options", "至少需要 2 项 / needs at least 2 entries")
        if not self.answer:
            raise _FieldError("answer", "至少需要 1 项 / needs at least 1 entry")
        missing = [a for a in self.answer if a not in self.options]
        if missing:
            raise _FieldError("answer", f"答案 '{missing[0]}' 不在选项中 / answer is not one of the options")
        return self


class _TrueFalse(_Item):
    answer: bool


class _Fill(_Item):
    answer: Text
    accepted: list[Text] = []


class _Numeric(_Item):
    answer: float
    tolerance: float = 0.0

    @model_validator(mode="after")
    def _finite(self):
        if not math.isfinite(self.answer):
            raise _FieldError("answer", "须为有限的数 / must be a finite number")
        if not math.isfinite(self.tolerance) or self.tolerance < 0:
            raise _FieldError("tolerance", "须为非负数 / must be a non-negative number")
        return self


class _Matching(_Item):
    pairs: dict[Text, Text]

    @model_validator(mode="after")
    def _pairs(self):
        if len(self.pairs) < 2:
            raise _FieldError("pairs", "至少需要 2 对 / needs at least 2 pairs")
        if len(set(self.pairs.values())) != len(self.pairs):
            raise _FieldError("pairs", "右侧有重复项 / right-hand items repeat")
        return self


class _Ordering(_Item):
    items: Annotated[list[Text], AfterValidator(_distinct)]

    @model_validator(mode="after")
    def _two(self):
        if len(self.items) < 2:
            raise _FieldError("items", "至少需要 2 项 / needs at least 2 entries")
        return self


class _Criterion(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    criterion: Text
    points: Positive


class _KeyPoint(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    text: Text
    synonyms: list[Text] = []


class _Essay(_Item):
    points: Positive | None = None  # defaults to the rubric's total
    rubric: list[_Criterion]
    key_points: list[Union[Text, _KeyPoint]]

    @model_validator(mode="after")
    def _rubric_adds_up(self):
        if not self.rubric:
            raise _FieldError("rubric", "至少需要 1 条评分标准 / needs at least one criterion")
        if not self.key_points:
            raise _FieldError("key_points", "至少需要 1 个要点 / needs at least one key point")
        total = sum(c.points for c in self.rubric)
        if self.points is not None and abs(total - self.points) > 1e-9:
            raise _FieldError("rubric", f"各项分值之和 {total:g} 与 points {self.points:g} 不符 / "
                                        f"criteria points do not add up to the item's points")
        return self


MODELS: dict[str, type[_Item]] = {
    "single": _Single, "multiple": _Multiple, "truefalse": _TrueFalse, "fill": _Fill, "numeric": _Numeric,
    "matching": _Matching, "ordering": _Ordering, "essay": _Essay,
}


class _FieldError(ValueError):
    """A cross-field check that knows which field is at fault."""

    def __init__(self, field_name: str, reason: str):
        super().__init__(reason)
        self.field_name, self.reason = field_name, reason


_TYPE_NAMES = {"string_type": "文字 / text", "float_type": "数 / a number", "bool_type": "true 或 false",
               "list_type": "列表 / a list", "dict_type": "映射 / a mapping", "model_type": "映射 / a mapping"}


def _reason(error: dict, raw: Mapping) -> tuple[str, str]:
    """(field, one-line reason) for one pydantic error."""
    # Drop pydantic's own steps from the location (validator and union-member names).
    loc = [str(part) for part in error["loc"] if not str(part).startswith(("function-after", "_")) and part != "str"]
    field_name = loc[0] if loc else ""
    inner = "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in loc[1:])
    kind, ctx = error["type"], error.get("ctx") or {}
    if isinstance(ctx.get("error"), _FieldError):
        return ctx["error"].field_name, ctx["error"].reason
    if kind == "missing":
        return field_name, f"缺少必填字段{inner} / missing required field"
    if kind == "extra_forbidden":
        if field_name == "answer" and raw.get("type") == "essay":
            return field_name, "简答题由教员人工评分，不设 answer；请写 rubric 与 key_points / essay items have no answer"
        return field_name, f"未知字段{inner} / unknown field"
    if kind == "literal_error":
        expected = {"level": LEVELS, "difficulty": DIFFICULTIES}.get(field_name, ())
        return field_name, (f"'{error.get('input')}' 不是可选值，须为 {'、'.join(expected)} 之一 / "
                            f"must be one of {', '.join(expected)}")
    if kind == "value_error":
        return field_name, f"{inner + ': ' if inner else ''}{ctx.get('error', error['msg'])}"
    if kind in _TYPE_NAMES or kind.endswith("_type") or kind.endswith("_parsing"):
        wanted = _TYPE_NAMES.get(kind, kind)
        return field_name, f"类型错误{inner}：须为{wanted} / wrong type: {type(error.get('input')).__name__}"
    return field_name, f"{inner + ': ' if inner else ''}{error['msg']}"


def parse_question(raw: Any, file: Path | str, module: str = "", source_ids: set[str] | None = None,
                   tagged: bool = False) -> Question:
    """Validate one question mapping and build a `Question` (`tagged`: require level and difficulty)."""
    file = Path(file)
    if not isinstance(raw, dict):
        raise QuestionBankError(file, None, None, "每道题须是一个映射 / each question must be a mapping")
    qid = raw.get("id")
    if not isinstance(qid, str) or not ID_PATTERN.match(qid):
        raise QuestionBankError(file, str(qid) if qid else None, "id",
                                "须为小写 ASCII 字母、数字、- 或 _ / must be lowercase ASCII, digits, - or _")
    qtype = raw.get("type")
    if qtype in (None, ""):
        raise QuestionBankError(file, qid, "type", "缺少必填字段 / missing required field")
    if not isinstance(qtype, str) or qtype not in MODELS:
        raise QuestionBankError(file, qid, "type", f"未知题型 '{qtype}' / unknown type; expected one of {', '.join(QUESTION_TYPES)}")
    try:
        item = MODELS[qtype].model_validate(raw, context={"source_ids": source_ids})
    except ValidationError as error:
        errors = error.errors()
        # An unknown key first (often a typo of the missing one), then the rest in field order.
        errors.sort(key=lambda e: e["type"] != "extra_forbidden")
        field_name, reason = _reason(errors[0], raw)
        raise QuestionBankError(file, qid, field_name or None, reason) from None
    if tagged:
        for name, allowed in (("level", LEVELS), ("difficulty", DIFFICULTIES)):
            if getattr(item, name) is None:
                raise QuestionBankError(file, qid, name, f"缺少必填字段（{'、'.join(allowed)}）/ missing required field")
    return _to_question(item, module, file)


def _to_question(item: _Item, module: str, file: Path) -> Question:
    common = dict(id=item.id, type=item.type, stem=item.stem, explanation=item.explanation, source=item.source,
                  tags=tuple(item.tags), points=float(item.points or 0), module=module, file=str(file),
                  level=item.level or "", difficulty=item.difficulty or "")
    if isinstance(item, _Single):
        return Question(answer=item.answer, options=tuple(item.options), **common)
    if isinstance(item, _Multiple):
        return Question(answer=tuple(item.answer), options=tuple(item.options), **common)
    if isinstance(item, _TrueFalse):
        return Question(answer=item.answer, **common)
    if isinstance(item, _Fill):
        return Question(answer=item.answer, accepted=tuple(item.accepted), **common)
    if isinstance(item, _Numeric):
        answer = int(item.answer) if item.answer.is_integer() else item.answer
        return Question(answer=answer, tolerance=float(item.tolerance), **common)
    if isinstance(item, _Matching):
        frozen = tuple(item.pairs.items())
        return Question(answer=dict(frozen), pairs=frozen, **common)
    if isinstance(item, _Ordering):
        return Question(answer=list(item.items), items=tuple(item.items), **common)
    assert isinstance(item, _Essay)
    rubric = tuple((c.criterion, float(c.points)) for c in item.rubric)
    key_points = tuple((k, ()) if isinstance(k, str) else (k.text, tuple(k.synonyms)) for k in item.key_points)
    common["points"] = float(item.points if item.points is not None else sum(p for _, p in rubric))
    return Question(answer=None, rubric=rubric, key_points=key_points, **common)


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise QuestionBankError(path, None, None, "文件不存在 / file not found") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f" (第 {mark.line + 1} 行 / line {mark.line + 1})" if mark else ""
        raise QuestionBankError(path, None, None, f"YAML 格式错误{line} / malformed YAML") from None


def load_question_file(path: Path | str, source_ids: set[str] | None = None) -> list[Question]:
    """Load and validate one module file of the bank (every item tagged with level and difficulty)."""
    path = Path(path)
    document = _read_yaml(path)
    if not isinstance(document, dict) or not isinstance(document.get("questions"), list):
        raise QuestionBankError(path, None, "questions", "须有 questions 列表 / needs a 'questions' list")
    module = document.get("module")
    if not isinstance(module, str) or not MODULE_PATTERN.match(module):
        raise QuestionBankError(path, None, "module", "缺少模块编号或格式不对（如 m1）/ needs the module id, e.g. m1")
    unknown = set(document) - {"module", "title", "questions"}
    if unknown:
        raise QuestionBankError(path, None, sorted(unknown)[0], "未知字段 / unknown field")
    questions = [parse_question(raw, path, module, source_ids, tagged=True) for raw in document["questions"]]
    seen: set[str] = set()
    for question in questions:
        if question.id in seen:
            raise QuestionBankError(path, question.id, "id", "题目编号重复 / duplicate id")
        seen.add(question.id)
    return questions


def bank_dir() -> Path:
    """Where the installed question bank is read from (its YAML files hold the keys)."""
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
    return dict(_cached_bank(str(Path(folder) if folder else bank_dir())))


def get_question(question_id: str, folder: Path | str | None = None) -> Question:
    bank = load_bank(folder)
    try:
        return bank[question_id]
    except KeyError:
        raise DangxiaoError(f"题库中没有题目 '{question_id}' / no question with this id in the bank") from None


# ---------------------------------------------------------------- what a bank can supply

def applied_share(questions: Mapping[str, Question] | list[Question]) -> float:
    """The share of items at 应用 or 分析 (0 for an empty bank)."""
    items = list(questions.values()) if isinstance(questions, Mapping) else list(questions)
    return sum(q.level in APPLIED_LEVELS for q in items) / len(items) if items else 0.0


def bank_fills_mix(bank: Mapping[str, Question] | list[Question], mix: Mapping[tuple[str, str], int],
                   reserve: int = 1) -> list[str]:
    """The cells of `mix` ({(module, type): count}) the bank cannot fill `reserve` times over; [] when it can.

    `reserve` 3 asks for three times the paper's count per cell, so that papers drawn for different
    trainees differ (issue 12).
    """
    items = list(bank.values()) if isinstance(bank, Mapping) else list(bank)
    held: dict[tuple[str, str], int] = {}
    for question in items:
        held[(question.module, question.type)] = held.get((question.module, question.type), 0) + 1
    problems = []
    for (module, qtype), count in sorted(mix.items()):
        needed = count * reserve
        if held.get((module, qtype), 0) < needed:
            times = f"（{count} × {reserve}）" if reserve != 1 else ""
            problems.append(f"模块 {module} 题型 {qtype}：需要 {needed} 题{times}，题库只有 {held.get((module, qtype), 0)} 题"
                            f" / module {module}, type {qtype}: needs {needed}, the bank holds {held.get((module, qtype), 0)}")
    return problems


@dataclass(frozen=True)
class Mix:
    """A paper's mix: how many items per (module, type), points per type, and the reserve asked of the bank."""
    id: str
    counts: dict[tuple[str, str], int]
    points: dict[str, float]
    reserve: int = 1
    file: str = ""

    @property
    def total_points(self) -> float:
        return sum(count * self.points.get(qtype, 0) for (_, qtype), count in self.counts.items())


def load_mix(path: Path | str) -> Mix:
    """Read a mix file: `draw: {type: {module: count}}`, `points: {type: n}`, `reserve: n`, `total: n`."""
    path = Path(path)
    document = _read_yaml(path)

    def fail(key: str, reason: str) -> QuestionBankError:
        return QuestionBankError(path, None, key, reason)

    if not isinstance(document, dict):
        raise fail("draw", "须为映射 / must be a mapping")
    unknown = set(document) - {"id", "title", "draw", "points", "reserve", "total"}
    if unknown:
        raise fail(sorted(unknown)[0], "未知字段 / unknown field")
    draw, points = document.get("draw"), document.get("points") or {}
    if not isinstance(draw, dict) or not draw:
        raise fail("draw", "须为 “题型: {模块: 题数}” / must map type to {module: count}")
    counts: dict[tuple[str, str], int] = {}
    for qtype, per_module in draw.items():
        if qtype not in AUTO_GRADED_TYPES and qtype != "essay":
            raise fail(f"draw.{qtype}", f"未知题型 / unknown type; expected one of {', '.join(QUESTION_TYPES)}")
        if not isinstance(per_module, dict):
            raise fail(f"draw.{qtype}", "须为 {模块: 题数} / must map module to count")
        for module, count in per_module.items():
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise fail(f"draw.{qtype}.{module}", "题数须为非负整数 / count must be a non-negative integer")
            counts[(str(module), str(qtype))] = count
    if not isinstance(points, dict) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in points.values()):
        raise fail("points", "须为 {题型: 正数} / must map type to a positive number")
    missing = sorted({t for _, t in counts} - set(points)) if points else []
    if missing:
        raise fail("points", f"缺少题型 {missing[0]} 的分值 / no points for type {missing[0]}")
    reserve = document.get("reserve", 1)
    if not isinstance(reserve, int) or isinstance(reserve, bool) or reserve < 1:
        raise fail("reserve", "须为正整数 / must be a positive integer")
    mix = Mix(id=str(document.get("id") or path.stem), counts=counts, points={k: float(v) for k, v in points.items()},
              reserve=reserve, file=str(path))
    total = document.get("total")
    if total is not None and points and abs(mix.total_points - total) > 1e-9:
        raise fail("total", f"按题数与分值合计 {mix.total_points:g} 分，与 total {total} 不符 / points add up to "
                            f"{mix.total_points:g}, not {total}")
    return mix


def inline_question(id: str, type: str, stem: str, options: Any = None, answer: Any = None, explanation: str = "",
                    source: str = "", accepted: Iterable[str] = (), tolerance: float = 0, points: float = 1) -> Question:
    """The `Question` (with its key) of a question written in a notebook as `Quiz.inline(...)`, validated
    as a bank question is; `answer` must be given. The widget builds what it shows from this, and the
    hub's records service judges a lesson's inline questions with it (`notebook_inline_questions`)."""
    raw: dict[str, Any] = {"id": id, "type": type, "stem": stem, "explanation": explanation or "（无解析）",
                           "source": source or "（未注明）", "points": points}
    if type in ("single", "multiple"):
        raw.update(options=list(options or ()), answer=list(answer) if type == "multiple" and isinstance(answer, (list, tuple)) else answer)
    elif type == "matching":
        raw["pairs"] = dict(answer) if isinstance(answer, dict) else answer
    elif type == "ordering":
        raw["items"] = list(answer) if isinstance(answer, (list, tuple)) else answer
    else:
        raw["answer"] = answer
        if type == "fill" and accepted:
            raw["accepted"] = list(accepted)
        if type == "numeric":
            raw["tolerance"] = tolerance
    question = parse_question(raw, INLINE_FILE)
    return replace(question, explanation=explanation, source=source)


_INLINE_ARGUMENTS = ("id", "type", "stem", "options", "answer", "explanation", "source", "accepted", "tolerance", "points")


@lru_cache(maxsize=64)
def _inline_questions_cached(path: str, mtime_ns: int) -> dict[str, Question]:
    import ast
    import json

    try:
        cells = json.loads(Path(path).read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError, AttributeError):
        return {}
    found: dict[str, Question] = {}
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        try:
            tree = ast.parse("".join(source) if isinstance(source, list) else str(source))
        except (SyntaxError, ValueError, RecursionError):  # magics, a NUL byte, absurd nesting: nothing read
            continue
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "inline"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "Quiz"):
                continue
            try:  # only literal arguments: nothing in the notebook is run; any oddity leaves the call out
                arguments = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg in _INLINE_ARGUMENTS}
                if arguments.get("answer") is None or not isinstance(arguments.get("id"), str):
                    continue
                found[arguments["id"]] = inline_question(**arguments)
            except Exception:  # noqa: BLE001 -- e.g. {[1]} (TypeError), a bad question: not judged, never a 500
                continue
    return found


def notebook_inline_questions(path: Path | str) -> dict[str, Question]:
    """id -> Question of every `Quiz.inline(...)` with a literal key in a notebook, read with `ast`, never run
    (a question built from variables, or without `answer`, is left out). Cached until the file changes."""
    path = Path(path)
    try:
        mtime_ns = path.stat().st_mtime_ns
    except OSError:
        return {}
    return _inline_questions_cached(str(path.resolve()), mtime_ns)
