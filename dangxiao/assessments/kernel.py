"""What both the exam server and nbgrader's test cells use to judge an answer: one code path.

`score_paper` (server side, at once) and the hidden tests of the generated source notebook (nbgrader,
in the grading kernel) both call `judge(answer_key(question), response)`, so the gradebook and the
score shown to the trainee cannot disagree. The key is a small JSON-safe dict built from a bank item;
`judge` rebuilds a `Question` from it and calls the bank's own `Question.is_correct`.

Responses are in the form the page sends, *by displayed text, not index*, so shuffled options cannot
be confused: single → the option's text; multiple → a list of option texts (all-or-nothing: the set
must equal the key's set; no partial credit, as on a paper 多选题 "多选、少选、错选均不得分");
truefalse → true/false, or the text 正确/错误 (对/错); fill → text; numeric → a number or numeric text;
matching → {left: right}; ordering → the steps in order; essay → text (graded by hand).

Imports only the standard library and `dangxiao.questions`: the grading kernel imports it.
"""
from __future__ import annotations

import math
from typing import Any

from dangxiao.errors import DangxiaoError
from dangxiao.questions import Question

__all__ = ["AnswerError", "answer_key", "judge", "normalise_response", "response_at", "MAX_TEXT"]

#: longest text accepted for a fill-in answer and for an essay (characters)
MAX_TEXT = {"fill": 200, "essay": 5000}
_TRUE = {"正确", "对", "是", "true", "True"}
_FALSE = {"错误", "错", "否", "false", "False"}


class AnswerError(DangxiaoError):
    """An answer that does not fit its item (wrong shape, an option that was not shown)."""


def answer_key(question: Question) -> dict[str, Any]:
    """The parts of a bank item needed to judge a response (JSON-safe)."""
    key: dict[str, Any] = {"type": question.type}
    if question.type == "multiple":
        key["answer"] = sorted(question.answer)
    elif question.type in ("single", "truefalse", "fill", "numeric"):
        key["answer"] = question.answer
    if question.type == "fill" and question.accepted:
        key["accepted"] = list(question.accepted)
    if question.type == "numeric":
        key["tolerance"] = question.tolerance
    if question.type == "matching":
        key["pairs"] = [list(pair) for pair in question.pairs]
    if question.type == "ordering":
        key["items"] = list(question.items)
    return key


def judge(key: dict[str, Any], response: Any) -> bool:
    """Whether `response` (normalised) is right by `key`. Essays are never judged here."""
    qtype = key["type"]
    if qtype == "essay":
        raise ValueError("简答题人工评分 / essays are graded by hand")
    if response is None:
        return False
    question = Question(
        id="key", type=qtype, stem="", explanation="", source="",
        answer=(tuple(key["answer"]) if qtype == "multiple" else dict(map(tuple, key["pairs"])) if qtype == "matching"
                else list(key["items"]) if qtype == "ordering" else key.get("answer")),
        accepted=tuple(key.get("accepted", ())), tolerance=float(key.get("tolerance", 0.0)),
        pairs=tuple(tuple(pair) for pair in key.get("pairs", ())), items=tuple(key.get("items", ())),
    )
    return question.is_correct(response)


def normalise_response(item_type: str, response: Any, options: tuple[str, ...] | list[str] = (),
                       left: tuple[str, ...] | list[str] = ()) -> Any:
    """The canonical form of a response to an item of `item_type` shown with `options` (None: not
    answered). Raises `AnswerError` when the response cannot be an answer to that item."""
    if response is None or response == "" or response == []:
        return None
    options = list(options)
    if item_type == "single":
        if not isinstance(response, str) or response not in options:
            raise AnswerError("单选题的答案须是所显示的一个选项 / a single-choice answer must be one of the options shown")
        return response
    if item_type == "multiple":
        if not isinstance(response, (list, tuple)) or not all(isinstance(r, str) for r in response):
            raise AnswerError("多选题的答案须是选项列表 / a multiple-choice answer must be a list of options")
        if len(set(response)) != len(response) or not set(response) <= set(options):
            raise AnswerError("多选题的答案须是所显示选项中不重复的几项 / options must be distinct and among those shown")
        return sorted(response)
    if item_type == "truefalse":
        if isinstance(response, bool):
            return response
        if isinstance(response, str) and response.strip() in _TRUE | _FALSE:
            return response.strip() in _TRUE
        raise AnswerError("判断题的答案须是“正确”或“错误” / a true/false answer must be 正确 or 错误")
    if item_type in ("fill", "essay"):
        if not isinstance(response, str):
            raise AnswerError("答案须是文字 / the answer must be text")
        if len(response) > MAX_TEXT[item_type]:
            raise AnswerError(f"答案超过 {MAX_TEXT[item_type]} 字 / longer than {MAX_TEXT[item_type]} characters")
        return response if response.strip() else None
    if item_type == "numeric":
        if isinstance(response, bool):
            raise AnswerError("数值题的答案须是数字 / a numeric answer must be a number")
        try:
            value = float(response.strip().replace("，", "").replace(",", "")) if isinstance(response, str) else float(response)
        except (TypeError, ValueError):
            raise AnswerError("数值题的答案须是数字 / a numeric answer must be a number") from None
        if not math.isfinite(value):
            raise AnswerError("数值题的答案须是有限的数 / a numeric answer must be finite")
        return value
    if item_type == "matching":
        if not isinstance(response, dict) or not set(response) <= set(left) or not set(map(str, response.values())) <= set(options):
            raise AnswerError("连线题的答案须把左侧各项对应到所显示的右侧选项 / pair left items with options shown")
        return {str(k): str(v) for k, v in response.items()}
    if item_type == "ordering":
        if not isinstance(response, (list, tuple)) or sorted(response) != sorted(options):
            raise AnswerError("排序题的答案须是所显示各项的一个排列 / an ordering must use each step shown once")
        return list(response)
    raise AnswerError(f"未知题型 '{item_type}' / unknown type")


def response_at(paper: dict[str, Any], position: int, item_type: str) -> tuple[str, Any]:
    """(item id, response) at `position` of a submitted paper (the data cell's `PAPER`), checking
    the position holds an item of `item_type` — a test cell grades only its own kind of item."""
    for item in paper.get("items", ()):
        if item.get("position") == position:
            if item.get("type") != item_type:
                raise AssertionError(f"第 {position} 题的题型不符 / position {position} is not a {item_type} item")
            return item["id"], paper.get("answers", {}).get(item["id"])
    raise AssertionError(f"试卷中没有第 {position} 题 / the paper has no position {position}")
