"""Scoring a paper at once (the exam server) — the same judgement nbgrader's test cells make.

`score_paper(paper, bank, answers)`: answers keyed by item id, in displayed text (see
`dangxiao.assessments.kernel`). Each item earns its points or nothing (multiple choice included:
all-or-nothing). An answer that does not fit its item (an option that was not shown, a list for a
单选) earns nothing and is marked `invalid`; an answer for an item that is not on the paper is an error
(the page or a caller is wrong, and the score must not silently ignore it). Essays earn nothing here:
they wait for the formgrader, `pending_points` says how many points are still open, and `passed` is
None until they are graded.

`feedback_view(paper, bank, result)` is what the trainee may see once the blueprint allows it
(`show_results`): per item the answer given, the key, the explanation and the source.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from dangxiao.assessments.kernel import AnswerError, answer_key, judge, normalise_response
from dangxiao.assessments.paper import TRUE_FALSE_OPTIONS, Paper, PaperItem
from dangxiao.errors import DangxiaoError
from dangxiao.questions import Question

__all__ = ["ItemResult", "PaperResult", "check_answer", "score_paper", "feedback_view"]


@dataclass(frozen=True)
class ItemResult:
    position: int
    item_id: str
    type: str
    points: float
    earned: float
    correct: bool | None        # None: graded by hand (essay)
    answered: bool
    invalid: bool = False


@dataclass(frozen=True)
class PaperResult:
    assessment_id: str
    trainee_id: str
    attempt: int
    items: tuple[ItemResult, ...]
    total: float
    max_points: float
    percent: float
    pending_points: float
    passed: bool | None          # None while essays wait for the formgrader

    @property
    def answered(self) -> int:
        return sum(item.answered for item in self.items)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["items"] = [asdict(item) for item in self.items]
        return data


def _question(bank: Mapping[str, Question], paper: Paper, item: PaperItem) -> Question:
    try:
        return bank[item.item_id]
    except KeyError:
        raise DangxiaoError(
            f"试卷 {paper.assessment_id}/{paper.trainee_id}: 题目 '{item.item_id}' 不在题库中（测验自带题目时请传入 "
            f"assessment_bank(blueprint, bank)）/ item not in the bank") from None


def check_answer(paper: Paper, item_id: str, response: Any) -> Any:
    """The normalised response, or `AnswerError` naming the item: for the page to refuse a bad answer
    when it is saved rather than when it is scored."""
    item = paper.item(item_id)
    try:
        return normalise_response(item.type, response, _shown(item), item.left)
    except AnswerError as error:
        raise AnswerError(f"第 {item.position} 题（{item_id}）: {error}") from None


def _shown(item: PaperItem) -> tuple[str, ...]:
    return TRUE_FALSE_OPTIONS if item.type == "truefalse" else item.options


def score_paper(paper: Paper, bank: Mapping[str, Question], answers: Mapping[str, Any]) -> PaperResult:
    on_paper = set(paper.item_ids)
    stray = sorted(set(answers) - on_paper)
    if stray:
        raise AnswerError(f"试卷 {paper.assessment_id}/{paper.trainee_id}: 题目 '{stray[0]}' 不在这份试卷上 / "
                          "answer for an item not on this paper")
    results = []
    for item in paper.items:
        question = _question(bank, paper, item)
        raw = answers.get(item.item_id)
        invalid = False
        try:
            response = normalise_response(item.type, raw, _shown(item), item.left)
        except AnswerError:
            response, invalid = None, True
        answered = response is not None or invalid
        if item.type == "essay":
            results.append(ItemResult(item.position, item.item_id, item.type, item.points, 0.0, None, answered, invalid))
            continue
        correct = judge(answer_key(question), response)
        results.append(ItemResult(item.position, item.item_id, item.type, item.points,
                                  item.points if correct else 0.0, correct, answered, invalid))
    total = sum(r.earned for r in results)
    max_points = paper.max_points
    pending = sum(r.points for r in results if r.correct is None)
    percent = round(100.0 * total / max_points, 2) if max_points else 0.0
    passed = None if pending else percent >= paper.pass_mark
    return PaperResult(paper.assessment_id, paper.trainee_id, paper.attempt, tuple(results), total, max_points,
                       percent, pending, passed)


def _key_text(question: Question) -> Any:
    if question.type == "truefalse":
        return TRUE_FALSE_OPTIONS[0] if question.answer else TRUE_FALSE_OPTIONS[1]
    if question.type == "multiple":
        return list(question.answer)
    if question.type == "matching":
        return dict(question.pairs)
    if question.type == "ordering":
        return list(question.items)
    if question.type == "essay":
        return None
    return question.answer


def feedback_view(paper: Paper, bank: Mapping[str, Question], result: PaperResult,
                  answers: Mapping[str, Any]) -> dict[str, Any]:
    """Score, pass or fail and per-item feedback (JSON-safe), for after submission when
    `show_results` allows it (the caller decides when; this only assembles)."""
    items = []
    for item, item_result in zip(paper.items, result.items):
        question = _question(bank, paper, item)
        items.append({
            "position": item.position, "id": item.item_id, "type": item.type, "stem": item.stem,
            "options": list(_shown(item)), "points": item.points, "earned": item_result.earned,
            "correct": item_result.correct, "your_answer": answers.get(item.item_id),
            "answer": _key_text(question), "explanation": question.explanation, "source": question.source,
        })
    return {"assessment": paper.assessment_id, "title": paper.title, "total": result.total,
            "max_points": result.max_points, "percent": result.percent, "pass_mark": paper.pass_mark,
            "passed": result.passed, "pending_points": result.pending_points, "items": items}
