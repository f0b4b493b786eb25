"""A bad question fails on load with the file, the id, the field and the reason — in the bank and through the widget."""
from __future__ import annotations


import pytest

from dangxiao.questions import QuestionBankError, load_bank
from dangxiao.widgets import Quiz

GOOD = """\
  - id: ok-q1
    type: truefalse
    level: 理解
    difficulty: 易
    stem: 对吗？
    answer: true
    explanation: 对。
    source: yangquan
"""

ESSAY = """\
  - id: ok-essay
    type: essay
    level: 分析
    difficulty: 难
    stem: 请论述。
    rubric:
      - {criterion: 观点明确, points: 4}
      - {criterion: 有事实依据, points: 6}
    key_points: [党建引领, {text: 群众参与, synonyms: [居民参与]}]
    explanation: 参考要点。
    source: yangquan
"""


def _item(qid: str, extra: str = "", drop: tuple[str, ...] = (), **fields) -> str:
    """A single-choice item in YAML; `fields` override, `drop` removes keys, `extra` adds raw lines."""
    base = {"id": qid, "type": "single", "level": "应用", "difficulty": "中", "stem": "选哪个？",
            "options": "[甲, 乙]", "answer": "甲", "explanation": "解析。", "source": "yangquan"}
    base.update(fields)
    lines = [f"    {k}: {v}" for k, v in base.items() if k not in drop]
    lines[0] = "  - " + lines[0].lstrip()
    return "\n".join(lines) + "\n" + extra


# case: (question YAML, id, field, words the reason must contain)
BAD = {
    "missing-answer": (_item("bad-q1", drop=("answer",)), "bad-q1", "answer", "缺少必填字段"),
    "unknown-type": (_item("bad-q2", type="puzzle"), "bad-q2", "type", "未知题型"),
    "type-not-text": (_item("bad-q2b", type="[single]"), "bad-q2b", "type", "未知题型"),
    "answer-not-in-options": (_item("bad-q3", answer="丙"), "bad-q3", "answer", "不在选项中"),
    "multiple-answer-not-in-options": (_item("bad-q4", type="multiple", options="[甲, 乙, 丙]", answer="[甲, 丁]"),
                                       "bad-q4", "answer", "不在选项中"),
    "missing-level": (_item("bad-q5", drop=("level",)), "bad-q5", "level", "缺少必填字段"),
    "missing-difficulty": (_item("bad-q6", drop=("difficulty",)), "bad-q6", "difficulty", "缺少必填字段"),
    "bad-level": (_item("bad-q7", level="背诵"), "bad-q7", "level", "须为 记忆、理解、应用、分析 之一"),
    "bad-difficulty": (_item("bad-q8", difficulty="5"), "bad-q8", "difficulty", "须为 易、中、难 之一"),
    "unknown-field": (_item("bad-q9", hint="提示"), "bad-q9", "hint", "未知字段"),
    "options-on-truefalse": (_item("bad-q10", type="truefalse", answer="true"), "bad-q10", "options", "未知字段"),
    "number-as-text": (_item("bad-q11", type="numeric", drop=("options",), answer='"95.2"'), "bad-q11", "answer", "类型错误"),
    "blank-stem": (_item("bad-q12", stem='"  "'), "bad-q12", "stem", "非空"),
    "essay-without-rubric": (ESSAY.replace("ok-essay", "bad-q13").split("    rubric:")[0]
                             + "    key_points: [甲]\n    explanation: 解。\n    source: yangquan\n",
                             "bad-q13", "rubric", "缺少必填字段"),
    "essay-without-key-points": (ESSAY.replace("ok-essay", "bad-q14").replace(
        "    key_points: [党建引领, {text: 群众参与, synonyms: [居民参与]}]\n", ""), "bad-q14", "key_points", "缺少必填字段"),
    "essay-with-answer": (ESSAY.replace("ok-essay", "bad-q15") + "    answer: 标准答案\n", "bad-q15", "answer", "人工评分"),
    "essay-points-do-not-add-up": (ESSAY.replace("ok-essay", "bad-q16") + "    points: 8\n", "bad-q16", "rubric", "不符"),
    "essay-empty-rubric": (ESSAY.replace("ok-essay", "bad-q17").replace(
        "      - {criterion: 观点明确, points: 4}\n      - {criterion: 有事实依据, points: 6}\n", "").replace(
        "    rubric:\n", "    rubric: []\n"), "bad-q17", "rubric", "至少需要 1 条"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_question_names_file_id_field_and_reason(tmp_path, case):
    body, qid, field, reason = BAD[case]
    folder = tmp_path / case
    folder.mkdir()
    path = folder / "m9.yaml"
    path.write_text("module: m9\nquestions:\n" + GOOD + body, encoding="utf-8")
    with pytest.raises(QuestionBankError) as error:
        load_bank(folder)
    message = str(error.value)
    assert str(path) in message and qid in message and f"'{field}'" in message and reason in message, message
    assert (error.value.file, error.value.question_id, error.value.field) == (str(path), qid, field)
    assert "\n" not in message and "pydantic" not in message  # one line, our words, not a validator dump
    # A lesson asking for any question of that bank gets the same clear error, not a half-loaded bank.
    with pytest.raises(QuestionBankError, match=qid):
        Quiz.from_bank("ok-q1", folder=folder)


def test_file_without_module_is_refused(tmp_path):
    (tmp_path / "m9.yaml").write_text("questions:\n" + GOOD, encoding="utf-8")
    with pytest.raises(QuestionBankError, match=r"m9.yaml: 字段 'module'"):
        load_bank(tmp_path)


def test_good_bank_loads(tmp_path):
    (tmp_path / "m9.yaml").write_text("module: m9\nquestions:\n" + GOOD + ESSAY, encoding="utf-8")
    bank = load_bank(tmp_path)
    assert Quiz.from_bank("ok-q1", folder=tmp_path).spec.question.answer is True
    essay = bank["ok-essay"]
    assert (essay.module, essay.level, essay.difficulty, essay.answer) == ("m9", "分析", "难", None)
    assert essay.points == 10 and essay.rubric == (("观点明确", 4.0), ("有事实依据", 6.0))
    assert essay.key_points == (("党建引领", ()), ("群众参与", ("居民参与",)))
    assert not essay.auto_graded and bank["ok-q1"].auto_graded


def test_essay_is_refused_by_the_quiz_widget_with_a_clear_message(tmp_path):
    """Essays are graded by hand: a lesson that asks for one as a self-check quiz is told so, by name."""
    (tmp_path / "m9.yaml").write_text("module: m9\nquestions:\n" + GOOD + ESSAY, encoding="utf-8")
    with pytest.raises(QuestionBankError) as error:
        Quiz.from_bank("ok-essay", folder=tmp_path)
    assert error.value.question_id == "ok-essay" and error.value.field == "type" and "人工评分" in str(error.value)
    with pytest.raises(QuestionBankError, match="人工评分"):
        Quiz.inline(id="x-essay", type="essay", stem="论述。")


def test_essay_key_points_feed_the_graders_hints(tmp_path):
    """The essay's key points are in the shape the jieba key-point hints take (grading/rubric_hints.py)."""
    from dangxiao.grading.rubric_hints import suggest_key_points

    (tmp_path / "m9.yaml").write_text("module: m9\nquestions:\n" + GOOD + ESSAY, encoding="utf-8")
    essay = load_bank(tmp_path)["ok-essay"]
    hints = suggest_key_points("社区以党建来引领，把居民参与议事落到实处。", essay.key_points)
    assert [(h.key_point, h.covered) for h in hints] == [("党建引领", True), ("群众参与", True)]
    assert [h.covered for h in suggest_key_points("只谈了经费。", essay.key_points)] == [False, False]
