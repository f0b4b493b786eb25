"""An assessment blueprint: which questions a paper holds, how it is timed and scored.

One YAML file per assessment in `assignments/assessments/<id>.yaml`, validated on load (pydantic 2;
unknown keys are refused)::

    id: final                      # ASCII: it is also the nbgrader assignment id
    title: 结业测试
    mode: exam                     # exam | practice (practice: unlimited attempts, results at once, not counted)
    extends: final                 # optional: start from another blueprint of the same folder, override keys
    points:                        # points per type; the order of this mapping is the order of the sections
      single: 3
      multiple: 5
      truefalse: 3
    draws:                         # drawn per trainee from the bank
      - {module: m1, type: single, count: 4}
      - {type: truefalse, tags: [法治], level: [应用, 分析], count: 2}
      - {type: single, difficulty: [中, 难], count: 1}
    fixed: [m1-q01]                # on every paper
    items_module: m1               # module of the blueprint's own questions (below)
    items: []                      # the blueprint's own questions, in the bank's format (e.g. a01's)
    time_limit: 40                 # minutes, > 0 (practice may leave it out: untimed)
    opens: 2026-12-20 09:00        # optional; a time without a zone is China Standard Time (UTC+8)
    closes: 2026-12-20 18:00
    attempts: 1                    # exam only (default 1); practice is unlimited
    pass_mark: 60                  # percent of the paper's points
    shuffle_options: true          # options in a per-trainee order
    shuffle_order: true            # item order shuffled within each section (a type keeps its positions)
    show_results: on_release       # immediately | on_release (practice: immediately)

`load_blueprint(path)` validates the file on its own; `load_blueprint(path, bank=bank)` (or
`check_blueprint`) also checks it against the bank: every fixed id exists, every type has points, and
the draws can be served together with distinct items. The last is a matching problem, not a sum per
draw: two draws whose pools overlap (say "m1 single" and "tag 党的领导 single") cannot both take the
same item, so the check counts what the draws can get *together* (maximum bipartite matching of draw
slots to items) and names the draw that comes up short.

Errors are one line naming the file, the key and the cause: `BlueprintError`.
"""
from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dangxiao.errors import DangxiaoError
from dangxiao.questions import DIFFICULTIES, LEVELS, QUESTION_TYPES, Question, QuestionBankError, parse_question

__all__ = [
    "ASSESSMENT_TYPES",
    "Blueprint",
    "BlueprintError",
    "Draw",
    "assessments_dir",
    "check_blueprint",
    "load_blueprint",
    "assessment_bank",
]

#: types a paper can hold: the bank's, and 简答 `essay` (graded by hand), which the bank is gaining
ASSESSMENT_TYPES = tuple(dict.fromkeys((*QUESTION_TYPES, "essay")))
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")  # nbgrader's grade/assignment id rule, no leading dash
#: a time written without a zone in a blueprint is the centre's local time
CHINA_STANDARD_TIME = _dt.timezone(_dt.timedelta(hours=8), "CST")


class BlueprintError(DangxiaoError):
    """A blueprint that does not match the schema or cannot be served by the bank."""

    def __init__(self, file: Path | str, key: str | None, reason: str):
        self.file, self.key, self.reason = str(file), key, reason
        where = f"{file}"
        if key:
            where += f": 键 '{key}'"
        super().__init__(f"{where}: {reason}")


def assessments_dir() -> Path:
    """Where the course keeps its blueprints (instructor side, never released)."""
    from dangxiao.paths import assignments_dir

    return assignments_dir() / "assessments"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _as_list(value: Any) -> Any:
    if value is None or isinstance(value, (list, tuple)):
        return value
    return [value]


class Draw(_Strict):
    """One rule of the paper: `count` items of `type`, drawn from the bank items matching every filter."""

    type: str
    count: int = Field(gt=0)
    module: list[str] | None = None
    tags: list[str] = []
    level: list[Literal[LEVELS]] | None = None  # type: ignore[valid-type]  # 记忆 理解 应用 分析
    difficulty: list[Literal[DIFFICULTIES]] | None = None  # type: ignore[valid-type]  # 易 中 难

    @field_validator("module", "level", "difficulty", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return _as_list(value)

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in ASSESSMENT_TYPES:
            raise ValueError(f"未知题型 '{value}' / unknown type; expected one of {', '.join(ASSESSMENT_TYPES)}")
        return value

    def matches(self, question: Question) -> bool:
        """Whether a bank item belongs to this draw's pool (`level` and `difficulty` are optional
        fields of bank items: an item without them never matches a draw that filters on them)."""
        if question.type != self.type:
            return False
        if self.module is not None and question.module not in self.module:
            return False
        if self.tags and not set(self.tags) <= set(question.tags):
            return False
        if self.level is not None and question.level not in self.level:
            return False
        if self.difficulty is not None and question.difficulty not in self.difficulty:
            return False
        return True

    def describe(self) -> str:
        parts = [f"type={self.type}"]
        if self.module:
            parts.append("module=" + "/".join(self.module))
        if self.tags:
            parts.append("tags=" + "+".join(self.tags))
        if self.level:
            parts.append("level=" + "/".join(map(str, self.level)))
        if self.difficulty is not None:
            parts.append("difficulty=" + "/".join(self.difficulty))
        return ", ".join(parts)


class Blueprint(_Strict):
    """A validated blueprint. `file` is where it was read from (for error messages)."""

    id: str
    title: str = Field(min_length=1)
    mode: Literal["exam", "practice"] = "exam"
    points: dict[str, float]
    draws: list[Draw] = []
    fixed: list[str] = []
    items_module: str = ""
    items: list[dict[str, Any]] = []
    time_limit: int | None = Field(default=None, gt=0, description="minutes")
    opens: _dt.datetime | None = None
    closes: _dt.datetime | None = None
    attempts: int | None = Field(default=None, gt=0)
    pass_mark: float = Field(gt=0, le=100)
    shuffle_options: bool = True
    shuffle_order: bool = True
    show_results: Literal["immediately", "on_release"] | None = None
    file: str = Field(default="", exclude=True)

    @field_validator("id")
    @classmethod
    def _ascii_id(cls, value: str) -> str:
        if not ID_PATTERN.match(value):
            raise ValueError("须为 ASCII 字母、数字、- 或 _（也是 nbgrader 作业 id）/ must be ASCII letters, digits, - or _")
        return value

    @field_validator("points")
    @classmethod
    def _points(cls, value: dict[str, float]) -> dict[str, float]:
        if not value:
            raise ValueError("至少给一种题型的分值 / give points for at least one type")
        for qtype, points in value.items():
            if qtype not in ASSESSMENT_TYPES:
                raise ValueError(f"未知题型 '{qtype}' / unknown type; expected one of {', '.join(ASSESSMENT_TYPES)}")
            if points <= 0:
                raise ValueError(f"'{qtype}' 的分值须为正数 / points for '{qtype}' must be positive")
        return value

    @field_validator("opens", "closes")
    @classmethod
    def _zoned(cls, value: _dt.datetime | None) -> _dt.datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=CHINA_STANDARD_TIME)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "Blueprint":
        if self.opens and self.closes and self.closes <= self.opens:
            raise ValueError("closes 须晚于 opens / closes must be after opens")
        if self.mode == "exam":
            if self.time_limit is None:
                raise ValueError("考试须有 time_limit（分钟）/ an exam needs time_limit (minutes)")
            if self.attempts is None:
                object.__setattr__(self, "attempts", 1)
            if self.show_results is None:
                object.__setattr__(self, "show_results", "on_release")
        else:
            if self.attempts is not None:
                raise ValueError("练习不限次数，不能设 attempts / practice has unlimited attempts: remove 'attempts'")
            if self.show_results == "on_release":
                raise ValueError("练习须立即反馈 / practice shows results immediately")
            object.__setattr__(self, "show_results", "immediately")
        if not self.draws and not self.fixed:
            raise ValueError("须有 draws 或 fixed / needs draws or fixed items")
        if len(set(self.fixed)) != len(self.fixed):
            raise ValueError("fixed 中有重复题目 / fixed lists an item twice")
        return self

    @property
    def counted(self) -> bool:
        """Whether results count (enter the gradebook): exams do, practice does not."""
        return self.mode == "exam"

    @property
    def sections(self) -> list[str]:
        """The types in the order the paper lists them."""
        return list(self.points)

    def own_items(self) -> dict[str, Question]:
        """The blueprint's own questions (`items`), validated as bank questions."""
        own: dict[str, Question] = {}
        for index, raw in enumerate(self.items):
            try:
                question = parse_question(raw, self.file or "<blueprint>", self.items_module)
            except QuestionBankError as error:
                raise BlueprintError(self.file, f"items[{index}]", error.reason if not error.field
                                     else f"字段 '{error.field}': {error.reason}") from None
            if question.id in own:
                raise BlueprintError(self.file, f"items[{index}].id", f"题目编号 '{question.id}' 重复 / duplicate id")
            own[question.id] = question
        return own


def assessment_bank(blueprint: Blueprint, bank: Mapping[str, Question]) -> dict[str, Question]:
    """The bank this assessment draws from and is scored against: the bank plus the blueprint's own
    items. Pass it (not the bare bank) to `score_paper` for blueprints with `items`."""
    own = blueprint.own_items()
    # the same item already merged (this is called again on a merged bank) is not a clash
    clash = sorted(qid for qid in set(own) & set(bank) if bank[qid] != own[qid])
    if clash:
        index = [q.get("id") for q in blueprint.items].index(clash[0])
        raise BlueprintError(blueprint.file, f"items[{index}].id", f"题目编号 '{clash[0]}' 与题库重复 / id already in the bank")
    return {**bank, **own}


# --- loading --------------------------------------------------------------------------------------

_MESSAGES = {
    "extra_forbidden": "未知键 / unknown key",
    "missing": "缺少必填键 / missing required key",
    "greater_than": "须大于 {gt} / must be greater than {gt}",
    "less_than_equal": "须不大于 {le} / must be at most {le}",
    "int_parsing": "须为整数 / must be an integer",
    "int_from_float": "须为整数 / must be an integer",
    "float_parsing": "须为数字 / must be a number",
    "bool_parsing": "须为 true 或 false / must be true or false",
    "literal_error": "取值须为 {expected} / must be one of {expected}",
    "string_type": "须为文字 / must be text",
    "list_type": "须为列表 / must be a list",
    "dict_type": "须为映射 / must be a mapping",
    "model_type": "须为映射 / must be a mapping",
    "model_attributes_type": "须为映射 / must be a mapping",
    "datetime_parsing": "须为日期时间，如 2026-12-20 09:00 / must be a date and time",
    "datetime_from_date_parsing": "须为日期时间，如 2026-12-20 09:00 / must be a date and time",
    "string_too_short": "不能为空 / must not be empty",
}


def _location(loc: tuple) -> str:
    key = ""
    for part in loc:
        if isinstance(part, int):
            key += f"[{part}]"
        elif part in ("function-after", "function-before") or str(part).startswith(("list[", "union[", "function-")):
            continue  # pydantic's names for union / validator branches, not keys of the file
        elif part in ("str", "int", "float"):
            continue
        else:
            key += ("." if key else "") + str(part)
    return key or None


def _error_from_validation(file: str, error: ValidationError) -> BlueprintError:
    errors = error.errors()
    # in a union (e.g. a list or null) pydantic reports every branch; the branch that failed on
    # content, not on the kind of value, is the one the author meant
    first = next((e for e in errors if not e["type"].endswith("_type")), errors[0])
    template = _MESSAGES.get(first["type"])
    ctx = first.get("ctx") or {}
    if template:
        try:
            reason = template.format(**ctx)
        except (KeyError, IndexError):
            reason = template
    else:
        reason = first["msg"].removeprefix("Value error, ")
    return BlueprintError(file, _location(first["loc"]), reason)


def _read_yaml(path: Path) -> dict:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BlueprintError(path, None, "文件不存在 / file not found") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f" (第 {mark.line + 1} 行 / line {mark.line + 1})" if mark else ""
        raise BlueprintError(path, None, f"YAML 格式错误{line} / malformed YAML") from None
    if not isinstance(document, dict):
        raise BlueprintError(path, None, "须为一个映射 / must be a mapping")
    return document


def _resolve_path(path_or_id: Path | str, folder: Path | str | None) -> Path:
    path = Path(path_or_id)
    if path.suffix in (".yaml", ".yml") or path.parent != Path("."):
        return path
    return Path(folder or assessments_dir()) / f"{path_or_id}.yaml"


def load_blueprint(path_or_id: Path | str, folder: Path | str | None = None,
                   bank: Mapping[str, Question] | None = None) -> Blueprint:
    """Read and validate a blueprint (a path, or an id looked up in `folder`, default
    `assignments/assessments/`). With `bank`, also check it against the bank (`check_blueprint`)."""
    path = _resolve_path(path_or_id, folder)
    document = _read_yaml(path)
    seen = [path.resolve()]
    while "extends" in document:
        parent_id = document.pop("extends")
        if not isinstance(parent_id, str) or not ID_PATTERN.match(parent_id):
            raise BlueprintError(path, "extends", "须为同一文件夹中另一测验的 id / must be the id of another blueprint in this folder")
        parent_path = path.parent / f"{parent_id}.yaml"
        if parent_path.resolve() in seen:
            raise BlueprintError(path, "extends", "循环继承 / extends itself")
        seen.append(parent_path.resolve())
        if not parent_path.is_file():
            raise BlueprintError(path, "extends", f"找不到 {parent_path.name} / no such blueprint")
        parent = _read_yaml(parent_path)
        document = {**parent, **document} if "extends" not in parent else {**parent, **document, "extends": parent["extends"]}
    if document.get("id") is not None and path.stem != str(document.get("id")):
        raise BlueprintError(path, "id", f"id '{document.get('id')}' 须与文件名 '{path.stem}' 一致 / must match the file name")
    try:
        blueprint = Blueprint.model_validate({**document, "file": str(path)})
    except ValidationError as error:
        raise _error_from_validation(str(path), error) from None
    blueprint.own_items()  # the blueprint's own questions are validated on load too, bank or not
    if bank is not None:
        check_blueprint(blueprint, bank)
    return blueprint


# --- checking against the bank --------------------------------------------------------------------

def draw_pools(blueprint: Blueprint, bank: Mapping[str, Question]) -> list[list[str]]:
    """For each draw, the ids it may take (fixed items excluded), in id order."""
    fixed = set(blueprint.fixed)
    return [sorted(qid for qid, q in bank.items() if qid not in fixed and draw.matches(q)) for draw in blueprint.draws]


def check_blueprint(blueprint: Blueprint, bank: Mapping[str, Question]) -> None:
    """Raise `BlueprintError` if the bank cannot serve the blueprint (see the module docstring)."""
    from dangxiao.assessments.matching import SlotMatching

    full = assessment_bank(blueprint, bank)
    for index, qid in enumerate(blueprint.fixed):
        if qid not in full:
            raise BlueprintError(blueprint.file, f"fixed[{index}]", f"题库中没有题目 '{qid}' / unknown question id")
        qtype = full[qid].type
        if qtype not in blueprint.points:
            raise BlueprintError(blueprint.file, f"fixed[{index}]",
                                 f"题目 '{qid}' 的题型 '{qtype}' 没有分值（points）/ no points for its type")
    for index, draw in enumerate(blueprint.draws):
        if draw.type not in blueprint.points:
            raise BlueprintError(blueprint.file, f"draws[{index}].type", f"题型 '{draw.type}' 没有分值（points）/ no points for this type")
    pools = draw_pools(blueprint, full)
    matching = SlotMatching([draw.count for draw in blueprint.draws], pools)
    short = matching.shortfall()
    if short:
        index, served = short[0]
        draw = blueprint.draws[index]
        alone = len(pools[index])
        overlap = "" if alone < draw.count else "（与其他抽题规则共用题目后）/ once the other draws are served"
        raise BlueprintError(
            blueprint.file, f"draws[{index}]",
            f"需要 {draw.count} 道（{draw.describe()}），题库只能给出 {served} 道不同的题{overlap} / "
            f"needs {draw.count} distinct items, the bank can give {served} (pool {alone})")
