"""Question widgets: the bank's seven auto-graded types (essays are refused), a submit button, instant feedback.

    Quiz.from_bank("m1-q03")                                   # a lesson: judged, answer revealed
    Quiz.inline(id="a01-q1", type="single", stem="……", options=["甲", "乙"], store=store)
                                                               # a graded notebook: no key, only recorded
    QuizGroup(["m1-q01", "m1-q02"])                            # a set with its score

`Quiz.response` is the current answer in the shape `Question.is_correct` expects (single: the option;
multiple: list of options; truefalse: bool; fill: text; numeric: float; matching: {left: right};
ordering: list of items). With a store, the saved answer is loaded on creation and every change is saved.
"""
from __future__ import annotations

import html
import random
import re
import unicodedata
from dataclasses import dataclass, replace
from typing import Any, Iterable

import ipywidgets as widgets
import traitlets

from dangxiao.questions import (
    AUTO_GRADED_TYPES, ID_PATTERN, INLINE_FILE, Question, QuestionBankError, get_question, inline_question,
)

from ._datasets import source_title
from .events import lesson_recorder
from .store import AnswerStore

__all__ = ["Quiz", "QuizGroup"]

PLEASE_ANSWER = "请先作答，再点“提交”。"
# The bank's essay (简答) items are graded by hand: no widget judges them.
ESSAY_REFUSED = "简答题由教员人工评分，不能做成自测题；课件中请用思考题控件 Reflection / essay items are graded by hand"
RECORDED = "已记录作答。"
TYPE_LABELS = {"single": "单选题", "multiple": "多选题", "truefalse": "判断题", "fill": "填空题",
               "numeric": "数值题", "matching": "连线题", "ordering": "排序题"}


@dataclass(frozen=True)
class QuizSpec:
    """What a widget shows; `question` holds the key, or is None when the notebook must not carry it."""
    id: str
    type: str
    stem: str
    explanation: str = ""
    source: str = ""
    options: tuple[str, ...] = ()   # single, multiple
    left: tuple[str, ...] = ()      # matching: the items to pair …
    right: tuple[str, ...] = ()     # … with one of these
    items: tuple[str, ...] = ()     # ordering: the steps, in the order first shown
    points: float = 1.0
    question: Question | None = None


def _shuffled(values: Iterable[str], seed: str, avoid: tuple[str, ...] | None = None) -> tuple[str, ...]:
    # Deterministic per question, so a reload shows the same order; never the solved order itself.
    values = list(values)
    random.Random(seed).shuffle(values)
    if avoid is not None and tuple(values) == avoid and len(values) > 1:
        values = values[1:] + values[:1]
    return tuple(values)


def spec_from_question(question: Question) -> QuizSpec:
    if not question.auto_graded:
        raise QuestionBankError(question.file, question.id, "type", ESSAY_REFUSED)
    left = tuple(k for k, _ in question.pairs)
    return QuizSpec(
        id=question.id, type=question.type, stem=question.stem, explanation=question.explanation,
        source=question.source, options=question.options, left=left,
        right=_shuffled((v for _, v in question.pairs), question.id),
        items=_shuffled(question.items, question.id, avoid=question.items) if question.items else (),
        points=question.points, question=question,
    )


def _inline_spec(id: str, type: str, stem: str, options: Any, answer: Any, explanation: str, source: str,
                 accepted: Iterable[str], tolerance: float, points: float) -> QuizSpec:
    def fail(field: str, reason: str) -> QuestionBankError:
        return QuestionBankError(INLINE_FILE, id if isinstance(id, str) else None, field, reason)

    if not isinstance(id, str) or not ID_PATTERN.match(id):
        raise fail("id", "须为小写 ASCII 字母、数字、- 或 _ / must be lowercase ASCII, digits, - or _")
    if type == "essay":
        raise fail("type", ESSAY_REFUSED)
    if type not in AUTO_GRADED_TYPES:
        raise fail("type", f"未知题型 '{type}' / unknown type; expected one of {', '.join(AUTO_GRADED_TYPES)}")
    if not isinstance(stem, str) or not stem.strip():
        raise fail("stem", "缺少必填字段 / missing required field")
    left: tuple[str, ...] = ()
    right: tuple[str, ...] = ()
    if type == "matching" and options is not None:
        if not isinstance(options, dict) or not {"left", "right"} <= set(options):
            raise fail("options", "连线题的 options 须为 {'left': [...], 'right': [...]} / matching needs left and right lists")
        left, right = tuple(options["left"]), tuple(options["right"])
        if len(left) < 2 or len(right) < len(left) or not all(isinstance(v, str) and v for v in left + right):
            raise fail("options", "左右两侧须为文字，至少 2 项，右侧不少于左侧 / needs ≥ 2 text items per side")
        if len(set(left)) != len(left) or len(set(right)) != len(right):
            raise fail("options", "有重复项 / has duplicate entries")
    elif type in ("single", "multiple", "ordering") and options is not None:
        if not isinstance(options, (list, tuple)) or len(options) < 2 or not all(isinstance(v, str) and v for v in options):
            raise fail("options", "至少需要 2 项非空文字 / needs at least 2 non-empty text entries")
        if len(set(options)) != len(options):
            raise fail("options", "有重复项 / has duplicate entries")

    if answer is None:  # graded notebook: the key lives only in the hidden tests
        if type in ("single", "multiple", "ordering") and options is None:
            raise fail("options", "缺少必填字段 / missing required field")
        if type == "matching" and not left:
            raise fail("options", "缺少必填字段 / missing required field")
        return QuizSpec(id=id, type=type, stem=stem, explanation=explanation, source=source,
                        options=tuple(options) if type in ("single", "multiple") else (),
                        left=left, right=right, items=tuple(options) if type == "ordering" else (),
                        points=float(points))

    question = inline_question(id, type, stem, options, answer, explanation, source, accepted, tolerance, points)
    spec = spec_from_question(question)
    if type == "matching" and left:
        if set(left) != set(question.answer) or not set(question.answer.values()) <= set(right):
            raise fail("options", "左右两侧须包含答案中的每一项 / options must contain every item of the answer")
        spec = replace(spec, left=left, right=right)
    if type == "ordering" and options is not None:
        if set(options) != set(question.items):
            raise fail("options", "选项须与答案的步骤相同 / options must be the answer's steps")
        spec = replace(spec, items=tuple(options))
    return spec


def rich_text(text: str) -> str:
    """Escape text for an HTML widget, keeping the authors' **bold** (stems mark 不/并非 that way)."""
    return re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", html.escape(text))


def format_answer(question: Question) -> str:
    answer = question.answer
    if question.type == "multiple":
        return "、".join(o for o in question.options if o in answer)
    if question.type == "truefalse":
        return "正确" if answer else "错误"
    if question.type == "numeric":
        return f"{answer:g}" + (f"（允许误差 ±{question.tolerance:g}）" if question.tolerance else "")
    if question.type == "matching":
        return "；".join(f"{left} → {right}" for left, right in question.pairs)
    if question.type == "ordering":
        return " → ".join(question.items)
    return str(answer)


def parse_number(text: str) -> float | None:
    """'95.2' / '９５．２' / '1,200' / '95.2%' → float; anything else → None."""
    cleaned = unicodedata.normalize("NFKC", text).strip().replace(",", "").rstrip("%").strip()
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


class Quiz(widgets.VBox):
    """One question: its stem, an input for its type, a 提交 button and the feedback."""

    response = traitlets.Any(None, allow_none=True, help="当前作答 / current answer, in is_correct's shape")
    feedback = traitlets.Unicode("", help="反馈文字 / the feedback shown after 提交")
    correct = traitlets.Bool(None, allow_none=True, help="True/False once judged; None if unjudged")
    submitted = traitlets.Bool(False, help="提交过 / submitted at least once")
    reveal = traitlets.Bool(True, help="提交后是否显示正确答案 / show the correct answer after 提交")

    def __init__(self, spec: QuizSpec, reveal: bool = True, store: AnswerStore | None = None, **kwargs):
        self.spec = spec
        self.store = store
        self._loading = False
        self.input = self._build_input()
        self.submit_button = widgets.Button(description="提交", button_style="primary",
                                            tooltip="提交作答 / submit")
        self.submit_button.on_click(lambda _: self.submit())
        self.feedback_html = widgets.HTML()
        header = widgets.HTML(
            f"<div class='dangxiao-quiz-stem'><b>【{TYPE_LABELS[spec.type]}】</b>{rich_text(spec.stem)}</div>")
        super().__init__(children=[header, self.input, self.submit_button, self.feedback_html], **kwargs)
        self.add_class("dangxiao-quiz")
        self.reveal = reveal
        self.response = self._read_controls()
        if store is not None:
            self._load_saved()

    # -- construction ----------------------------------------------------------------------------------
    @classmethod
    def from_bank(cls, question_id: str, reveal: bool = True, store: AnswerStore | None = None,
                  folder=None) -> "Quiz":
        """The bank's question `question_id` (`folder` defaults to `datasets/questions/`)."""
        return cls(spec_from_question(get_question(question_id, folder)), reveal=reveal, store=store)

    @classmethod
    def inline(cls, id: str, type: str, stem: str, options: Any = None, answer: Any = None,
               explanation: str = "", source: str = "", reveal: bool = False, store: AnswerStore | None = None,
               accepted: Iterable[str] = (), tolerance: float = 0, points: float = 1) -> "Quiz":
        """A question written in the notebook. With `answer=None` it records the answer without judging.

        options: single/multiple → the choices; ordering → the steps in the order shown;
        matching → {"left": [...], "right": [...]}. answer: as in the bank (matching: {left: right}).
        """
        spec = _inline_spec(id, type, stem, options, answer, explanation, source, accepted, tolerance, points)
        return cls(spec, reveal=reveal, store=store)

    def _build_input(self) -> widgets.Widget:
        spec, wide = self.spec, widgets.Layout(width="auto")
        if spec.type == "single":
            control = widgets.RadioButtons(options=list(spec.options), value=None, layout=wide)
        elif spec.type == "truefalse":
            control = widgets.RadioButtons(options=[("正确", True), ("错误", False)], value=None, layout=wide)
        elif spec.type == "multiple":
            self.checkboxes = [widgets.Checkbox(value=False, description=o, indent=False, layout=wide)
                               for o in spec.options]
            for box in self.checkboxes:
                box.observe(self._on_control_change, "value")
            return widgets.VBox(self.checkboxes)
        elif spec.type == "fill":
            control = widgets.Text(placeholder="在此填写答案", layout=widgets.Layout(width="60%"))
        elif spec.type == "numeric":
            control = widgets.Text(placeholder="在此填写数字", layout=widgets.Layout(width="30%"))
        elif spec.type == "matching":
            self.dropdowns = {}
            rows = []
            for left in spec.left:
                dropdown = widgets.Dropdown(options=list(spec.right), value=None, layout=widgets.Layout(width="50%"))
                dropdown.observe(self._on_control_change, "value")
                self.dropdowns[left] = dropdown
                rows.append(widgets.HBox([widgets.HTML(f"{html.escape(left)}&nbsp;→&nbsp;"), dropdown]))
            return widgets.VBox(rows)
        else:  # ordering
            self.order = list(spec.items)
            self.order_box = widgets.VBox()
            self._render_order()
            return self.order_box
        control.observe(self._on_control_change, "value")
        self.control = control
        return control

    def _render_order(self) -> None:
        rows, self.order_buttons = [], []
        for position, item in enumerate(self.order):
            up = widgets.Button(description="上移", layout=widgets.Layout(width="5em"),
                                disabled=position == 0)
            down = widgets.Button(description="下移", layout=widgets.Layout(width="5em"),
                                  disabled=position == len(self.order) - 1)
            up.on_click(lambda _, p=position: self.move(p, -1))
            down.on_click(lambda _, p=position: self.move(p, +1))
            self.order_buttons.append((up, down))
            rows.append(widgets.HBox([up, down, widgets.HTML(f"{position + 1}. {html.escape(item)}")]))
        self.order_box.children = rows

    def move(self, position: int, step: int) -> None:
        """Ordering: move the step at `position` up (-1) or down (+1), as the arrow buttons do."""
        target = position + step
        if 0 <= position < len(self.order) and 0 <= target < len(self.order):
            self.order[position], self.order[target] = self.order[target], self.order[position]
            self._render_order()
            self._on_control_change()

    # -- answer <-> controls ---------------------------------------------------------------------------
    def _read_controls(self) -> Any:
        kind = self.spec.type
        if kind in ("single", "truefalse"):
            return self.control.value
        if kind == "multiple":
            chosen = [box.description for box in self.checkboxes if box.value]
            return chosen or None
        if kind == "fill":
            return self.control.value.strip() or None
        if kind == "numeric":
            return parse_number(self.control.value)
        if kind == "matching":
            pairs = {left: d.value for left, d in self.dropdowns.items() if d.value is not None}
            return pairs or None
        return list(self.order)

    def _apply(self, value: Any) -> bool:
        """Put a saved answer back into the controls; False (controls untouched) if it does not fit."""
        spec, kind = self.spec, self.spec.type
        if kind == "single" and value in spec.options:
            self.control.value = value
        elif kind == "truefalse" and isinstance(value, bool):
            self.control.value = value
        elif kind == "multiple" and isinstance(value, list) and set(value) <= set(spec.options):
            for box in self.checkboxes:
                box.value = box.description in value
        elif kind in ("fill", "numeric") and isinstance(value, (str, int, float)) and not isinstance(value, bool):
            self.control.value = f"{value:g}" if isinstance(value, float) else str(value)
        elif (kind == "matching" and isinstance(value, dict) and set(value) <= set(spec.left)
              and set(value.values()) <= set(spec.right)):
            for left, dropdown in self.dropdowns.items():
                dropdown.value = value.get(left)
        elif kind == "ordering" and isinstance(value, list) and sorted(value) == sorted(spec.items):
            self.order = list(value)
            self._render_order()
        else:
            return False
        return True

    def _load_saved(self) -> None:
        saved = self.store.get(self.spec.id)
        if saved is None:
            return
        self._loading = True
        try:
            fits = self._apply(saved)
        finally:
            self._loading = False
        self.response = self._read_controls()
        if fits:
            self.feedback = "已载入上次保存的作答，可修改后再次提交。"
        else:
            self.feedback = "保存的作答与本题不符，未能载入（文件未改动），请重新作答。"
        self._show(self.feedback, "note")

    def _on_control_change(self, _change=None) -> None:
        if self._loading:
            return
        self.response = self._read_controls()
        if self.store is not None:
            self.store.set(self.spec.id, self.response)

    # -- submitting ------------------------------------------------------------------------------------
    def submit(self) -> bool | None:
        """What the 提交 button does: save, judge (when the key is known), show the feedback."""
        response = self._read_controls()
        self.response = response
        if response is None:
            self.correct = None
            self.feedback = PLEASE_ANSWER
            self._show(self.feedback, "note")
            return None
        if self.store is not None:
            self.store.set(self.spec.id, response)
        question = self.spec.question
        recorder = lesson_recorder()
        if question is None:
            self.correct = None
            self.feedback = RECORDED + ("（已保存，重启后仍在）" if self.store is not None else "")
            self._show(self.feedback, "note")
            self.submitted = True
            if recorder is not None:
                recorder.quiz_attempt(self.spec.id, response, None)
            return None
        correct = question.is_correct(response)
        if recorder is not None:
            recorder.quiz_attempt(self.spec.id, response, correct)
        lines = ["✔ 回答正确！" if correct else "✘ 回答有误。"]
        if self.reveal and not correct:
            lines.append(f"正确答案：{format_answer(question)}")
        if (self.reveal or correct) and self.spec.explanation:
            lines.append(f"解析：{self.spec.explanation}")
        if self.spec.source:
            lines.append(f"出处：{source_title(self.spec.source)}")
        self.feedback = "\n".join(lines)
        self._show(self.feedback, "right" if correct else "wrong")
        self.correct = correct
        self.submitted = True
        return correct

    def _show(self, text: str, mood: str) -> None:
        colour = {"right": "#1b7f3b", "wrong": "#b3261e", "note": "#555"}[mood]
        body = "<br>".join(html.escape(line) for line in text.splitlines())
        self.feedback_html.value = f"<div style='color:{colour}'>{body}</div>"


class QuizGroup(widgets.VBox):
    """Several questions and the score of the set (points of the questions answered right)."""

    score = traitlets.Float(0.0, help="得分 / points of the questions judged right")
    total = traitlets.Float(0.0, help="满分 / points of all the questions")
    answered = traitlets.Int(0, help="已提交的题数 / questions submitted")

    def __init__(self, question_ids: Iterable[str | Quiz], reveal: bool = True, store: AnswerStore | None = None,
                 folder=None, **kwargs):
        self.quizzes = [q if isinstance(q, Quiz) else Quiz.from_bank(q, reveal=reveal, store=store, folder=folder)
                        for q in question_ids]
        self.score_label = widgets.HTML()
        super().__init__(children=[*self.quizzes, self.score_label], **kwargs)
        self.add_class("dangxiao-quiz-group")
        self.total = sum(q.spec.points for q in self.quizzes)
        for quiz in self.quizzes:
            quiz.observe(self._update, names=["correct", "submitted"])
        self._update()

    def _update(self, _change=None) -> None:
        self.score = sum(q.spec.points for q in self.quizzes if q.correct)
        self.answered = sum(1 for q in self.quizzes if q.submitted)
        judged = any(q.spec.question is not None for q in self.quizzes)
        count = f"已提交 {self.answered} / {len(self.quizzes)} 题"
        text = f"得分：{self.score:g} / {self.total:g}（{count}）" if judged else count
        self.score_label.value = f"<b>{html.escape(text)}</b>"
