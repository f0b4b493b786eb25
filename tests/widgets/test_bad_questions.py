"""A bad question fails on load with the file, the id and the reason — in the bank and through the widget."""
from __future__ import annotations


import pytest

from dangxiao.questions import QuestionBankError, load_bank
from dangxiao.widgets import Quiz

GOOD = """\
  - id: ok-q1
    type: truefalse
    stem: 对吗？
    answer: true
    explanation: 对。
    source: yangquan
"""

BAD = {
    "missing-answer": ("""\
  - id: bad-q1
    type: single
    stem: 选哪个？
    options: [甲, 乙]
    explanation: 解析。
    source: yangquan
""", "bad-q1", "缺少必填字段"),
    "unknown-type": ("""\
  - id: bad-q2
    type: essay
    stem: 论述。
    answer: 随意
    explanation: 解析。
    source: yangquan
""", "bad-q2", "未知题型"),
    "answer-not-in-options": ("""\
  - id: bad-q3
    type: single
    stem: 选哪个？
    options: [甲, 乙]
    answer: 丙
    explanation: 解析。
    source: yangquan
""", "bad-q3", "不在选项中"),
    "multiple-answer-not-in-options": ("""\
  - id: bad-q4
    type: multiple
    stem: 选哪些？
    options: [甲, 乙, 丙]
    answer: [甲, 丁]
    explanation: 解析。
    source: yangquan
""", "bad-q4", "不在选项中"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_question_names_file_id_and_reason(tmp_path, case):
    body, qid, reason = BAD[case]
    folder = tmp_path / case
    folder.mkdir()
    path = folder / "m9.yaml"
    path.write_text("module: m9\nquestions:\n" + GOOD + body, encoding="utf-8")
    with pytest.raises(QuestionBankError) as error:
        load_bank(folder)
    message = str(error.value)
    assert str(path) in message and qid in message and reason in message
    assert error.value.file == str(path) and error.value.question_id == qid
    # A lesson asking for any question of that bank gets the same clear error, not a half-loaded bank.
    with pytest.raises(QuestionBankError, match=qid):
        Quiz.from_bank("ok-q1", folder=folder)


def test_good_bank_loads(tmp_path):
    (tmp_path / "m9.yaml").write_text("module: m9\nquestions:\n" + GOOD, encoding="utf-8")
    assert Quiz.from_bank("ok-q1", folder=tmp_path).spec.question.answer is True
