"""随机组卷: one trainee's paper, drawn from a blueprint and the bank with a stable seed.

The seed is SHA-256 of (assessment id, trainee id, attempt), and every random choice is an ordering by
SHA-256 of (seed, purpose, item id …) — not Python's `hash()` (salted per process) nor `random`
(whose algorithms may change between versions): the same inputs give the same paper on any machine,
in any process, today and after an upgrade, as long as the bank and blueprint are unchanged. (The
paper records what was shown, so the exam server keeps it once drawn: a later edit of the bank does not
change a paper already handed out.)

Layout: sections by type in the order of the blueprint's `points`; within a section the fixed items and
the draws' items, shuffled when `shuffle_order` is on. A type therefore keeps the same positions on every
paper of an assessment (position k of `final` is always a 单选 worth 3 points), which is what lets one
nbgrader source notebook grade every trainee's paper (`dangxiao.assessments.nbgrader_route`).

Options are shuffled per item when `shuffle_options` is on (single, multiple). Ordering items always
show their steps shuffled (never in the right order: that would be the answer), matching items their
right-hand side shuffled.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from dangxiao.assessments.blueprint import Blueprint, BlueprintError, assessment_bank, check_blueprint, draw_pools
from dangxiao.assessments.matching import SlotMatching
from dangxiao.errors import DangxiaoError
from dangxiao.questions import Question

__all__ = ["Paper", "PaperItem", "TYPE_LABELS", "TRUE_FALSE_OPTIONS", "draw_paper", "paper_seed", "rubric_lines"]

TYPE_LABELS = {
    "single": "单选题", "multiple": "多选题", "truefalse": "判断题", "fill": "填空题", "numeric": "数值题",
    "matching": "连线题", "ordering": "排序题", "essay": "简答题",
}
#: what a 判断题 shows; an answer may be given as this text or as true/false
TRUE_FALSE_OPTIONS = ("正确", "错误")


def paper_seed(assessment_id: str, trainee_id: str, attempt: int) -> str:
    text = "\x1f".join(("dangxiao-paper-v1", assessment_id, trainee_id, str(int(attempt))))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _rank(seed: str, *parts: str) -> bytes:
    return hashlib.sha256("\x1f".join((seed, *parts)).encode("utf-8")).digest()


def _shuffled(seed: str, purpose: str, values: list[str]) -> list[str]:
    return sorted(values, key=lambda value: _rank(seed, purpose, value))


@dataclass(frozen=True)
class PaperItem:
    """One position of a paper: which bank item, shown how, worth what."""

    position: int                      # 1-based
    item_id: str
    type: str
    module: str
    points: float
    stem: str
    options: tuple[str, ...] = ()      # as displayed: single/multiple options, ordering steps, matching right side
    left: tuple[str, ...] = ()         # matching: the left-hand side, in the bank's order
    option_order: tuple[int, ...] = ()  # indices into the bank item's options/items/right side, as displayed

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("options", "left", "option_order"):
            data[key] = list(data[key])
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "PaperItem":
        return cls(**{**data, "options": tuple(data.get("options", ())), "left": tuple(data.get("left", ())),
                      "option_order": tuple(data.get("option_order", ()))})


@dataclass(frozen=True)
class Paper:
    """A trainee's paper. Holds no answer key: the key stays in the bank on the server."""

    assessment_id: str
    title: str
    mode: str
    trainee_id: str
    attempt: int
    seed: str
    items: tuple[PaperItem, ...]
    pass_mark: float
    time_limit: int | None
    show_results: str
    counted: bool = field(default=True)

    @property
    def max_points(self) -> float:
        return sum(item.points for item in self.items)

    @property
    def item_ids(self) -> list[str]:
        return [item.item_id for item in self.items]

    def item(self, item_id: str) -> PaperItem:
        for item in self.items:
            if item.item_id == item_id:
                return item
        raise DangxiaoError(f"试卷 {self.assessment_id}/{self.trainee_id}: 没有题目 '{item_id}' / item not on this paper")

    def mix(self) -> dict[tuple[str, str], int]:
        """(module, type) -> count: what every paper of the assessment shares."""
        counts: dict[tuple[str, str], int] = {}
        for item in self.items:
            counts[item.module, item.type] = counts.get((item.module, item.type), 0) + 1
        return counts

    def public_view(self) -> dict[str, Any]:
        """What the browser may receive before submission (JSON-safe): stems, options as displayed, types,
        points. No answer, explanation, source, tag or anything of another paper."""
        items = []
        for item in self.items:
            entry: dict[str, Any] = {
                "position": item.position, "id": item.item_id, "type": item.type,
                "type_label": TYPE_LABELS.get(item.type, item.type), "points": item.points, "stem": item.stem,
            }
            if item.type in ("single", "multiple", "ordering"):
                entry["options"] = list(item.options)
            elif item.type == "truefalse":
                entry["options"] = list(TRUE_FALSE_OPTIONS)
            elif item.type == "matching":
                entry["left"] = list(item.left)
                entry["options"] = list(item.options)
            items.append(entry)
        return {
            "assessment": self.assessment_id, "title": self.title, "mode": self.mode, "attempt": self.attempt,
            "time_limit_minutes": self.time_limit, "pass_mark": self.pass_mark, "max_points": self.max_points,
            "count": len(items), "items": items,
        }

    def to_dict(self) -> dict[str, Any]:
        """Everything, for the server's record store (not for the browser: use `public_view`)."""
        data = asdict(self)
        data["items"] = [item.to_dict() for item in self.items]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Paper":
        return cls(**{**data, "items": tuple(PaperItem.from_dict(item) for item in data["items"])})


def _display(question: Question, seed: str, shuffle_options: bool) -> tuple[tuple[str, ...], tuple[str, ...], tuple[int, ...]]:
    """(options as displayed, left side, permutation) for one item."""
    def permuted(values: tuple[str, ...], purpose: str) -> tuple[int, ...]:
        indices = [str(i) for i in range(len(values))]
        return tuple(int(i) for i in _shuffled(seed, f"{purpose}:{question.id}", indices))

    if question.type in ("single", "multiple"):
        order = permuted(question.options, "options") if shuffle_options else tuple(range(len(question.options)))
        return tuple(question.options[i] for i in order), (), order
    if question.type == "ordering":
        order = permuted(question.items, "ordering")
        if order == tuple(range(len(question.items))):  # shown in the right order would give the answer away
            order = order[1:] + order[:1]
        return tuple(question.items[i] for i in order), (), order
    if question.type == "matching":
        left = tuple(k for k, _ in question.pairs)
        right = tuple(v for _, v in question.pairs)
        order = permuted(right, "matching")
        return tuple(right[i] for i in order), left, order
    return (), (), ()


def draw_paper(blueprint: Blueprint, bank: Mapping[str, Question], trainee_id: str, attempt: int = 1) -> Paper:
    """The paper of `trainee_id`'s `attempt` (1-based) at `blueprint`: same inputs, same paper."""
    if not isinstance(trainee_id, str) or not trainee_id.strip():
        raise DangxiaoError(f"{blueprint.file}: 学员 id 不能为空 / trainee id must not be empty")
    if not isinstance(attempt, int) or attempt < 1:
        raise DangxiaoError(f"{blueprint.file}: attempt 须为正整数 / attempt must be a positive integer")
    if blueprint.attempts is not None and attempt > blueprint.attempts:
        raise DangxiaoError(f"{blueprint.file}: 只允许 {blueprint.attempts} 次作答，第 {attempt} 次被拒绝 / "
                            f"only {blueprint.attempts} attempt(s) allowed")
    full = assessment_bank(blueprint, bank)
    check_blueprint(blueprint, full)
    seed = paper_seed(blueprint.id, trainee_id, attempt)

    pools = draw_pools(blueprint, full)
    matching = SlotMatching([draw.count for draw in blueprint.draws], pools)
    chosen: dict[int, list[str]] = {}
    for index, pool in enumerate(pools):
        candidates = _shuffled(seed, f"draw:{index}", pool)
        picked = []
        for slot in matching.slots_of(index):
            for qid in candidates:
                if qid not in picked and matching.try_fix(slot, qid):
                    picked.append(qid)
                    break
            else:  # unreachable after check_blueprint: a complete matching always leaves one candidate
                raise BlueprintError(blueprint.file, f"draws[{index}]", "抽题失败 / could not draw")
        chosen[index] = picked

    items: list[PaperItem] = []
    for qtype in blueprint.sections:
        section = [qid for qid in blueprint.fixed if full[qid].type == qtype]
        section += [qid for index, draw in enumerate(blueprint.draws) if draw.type == qtype for qid in chosen[index]]
        if blueprint.shuffle_order:
            section = _shuffled(seed, f"order:{qtype}", section)
        for qid in section:
            question = full[qid]
            options, left, order = _display(question, seed, blueprint.shuffle_options)
            items.append(PaperItem(
                position=len(items) + 1, item_id=qid, type=qtype, module=question.module,
                points=float(blueprint.points[qtype]), stem=question.stem, options=options, left=left,
                option_order=order,
            ))
    return Paper(
        assessment_id=blueprint.id, title=blueprint.title, mode=blueprint.mode, trainee_id=trainee_id,
        attempt=attempt, seed=seed, items=tuple(items), pass_mark=blueprint.pass_mark,
        time_limit=blueprint.time_limit, show_results=blueprint.show_results or "immediately",
        counted=blueprint.counted,
    )


def rubric_lines(question) -> list[str]:
    """An essay item's rubric as the grader reads it: one line per criterion with its points."""
    return [f"{criterion}（{points:g} 分）" for criterion, points in getattr(question, "rubric", ())]
