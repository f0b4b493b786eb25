"""Reflection: the text of a 思考题 is kept in the store and comes back."""
from __future__ import annotations

import pytest

from dangxiao.questions import QuestionBankError
from dangxiao.widgets import AnswerStore, Reflection


def test_text_is_saved_on_change_and_loaded_again(tmp_path):
    path = tmp_path / "answers.json"
    box = Reflection("m1-r1", "谈谈你所在社区如何化解邻里纠纷。", store=AnswerStore(path))
    box.textarea.value = "先上门听取双方意见，再请法律顾问参与。"
    assert box.text == box.textarea.value
    assert AnswerStore(path).get("m1-r1") == "先上门听取双方意见，再请法律顾问参与。"
    assert "已自动保存" in box.status

    again = Reflection("m1-r1", "谈谈你所在社区如何化解邻里纠纷。", store=AnswerStore(path))
    assert again.textarea.value == again.text == "先上门听取双方意见，再请法律顾问参与。"
    assert "已载入" in again.status


def test_without_store_nothing_is_written_and_trainee_is_told(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    box = Reflection("m1-r2", "思考题")
    box.textarea.value = "想法"
    assert box.text == "想法" and "不保存" in box.status
    assert list(tmp_path.iterdir()) == []


def test_setting_text_updates_the_box():
    box = Reflection("m1-r3", "思考题")
    box.text = "由程序写入"
    assert box.textarea.value == "由程序写入"


def test_bad_id_is_refused():
    with pytest.raises(QuestionBankError, match="id"):
        Reflection("思考一", "思考题")
