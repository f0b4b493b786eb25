"""AnswerStore: JSON keyed by id, atomic writes, a corrupt file moved aside (never overwritten, never a crash)."""
from __future__ import annotations

import json

import pytest

from dangxiao.widgets import AnswerStore, AnswerStoreWarning


def test_round_trip_across_instances(tmp_path):
    path = tmp_path / "answers.json"
    store = AnswerStore(path)
    assert store.get("q1") is None and store.all() == {} and not path.exists()  # reading creates nothing
    store.set("q1", "乙")
    store.set("q2", {"阳泉": "一居一律师"})
    store.set("q1", ["甲", "丙"])
    assert AnswerStore(path).all() == {"q1": ["甲", "丙"], "q2": {"阳泉": "一居一律师"}}
    assert json.loads(path.read_text(encoding="utf-8"))["q2"] == {"阳泉": "一居一律师"}
    assert "阳泉" in path.read_text(encoding="utf-8")  # readable Chinese, not \\u escapes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answers.json"]  # no temporary file left


def test_relative_path_is_resolved_against_the_cwd_at_creation(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = AnswerStore()
    monkeypatch.chdir("/")
    store.set("q1", 1)
    assert (tmp_path / "answers.json").is_file()


def test_two_stores_on_one_file_see_each_others_answers(tmp_path):
    first, second = AnswerStore(tmp_path / "a.json"), AnswerStore(tmp_path / "a.json")
    first.set("q1", "甲")
    second.set("q2", "乙")
    assert first.all() == {"q1": "甲", "q2": "乙"}


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b"\xff\xfe garbage"])
def test_corrupt_file_is_moved_aside_with_a_chinese_warning(tmp_path, content):
    path = tmp_path / "answers.json"
    path.write_bytes(content)
    store = AnswerStore(path)
    with pytest.warns(AnswerStoreWarning, match="已损坏") as caught:
        assert store.get("q1") is None
    assert "answers.json.corrupt-" in str(caught[0].message)
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("answers.json.corrupt-")]
    assert len(aside) == 1 and aside[0].read_bytes() == content  # kept byte for byte
    store.set("q1", "甲")  # the lesson goes on with a fresh file
    assert AnswerStore(path).get("q1") == "甲"
    assert aside[0].read_bytes() == content


def test_second_corruption_does_not_overwrite_the_first(tmp_path):
    path = tmp_path / "answers.json"
    for content in (b"{bad", b"{worse"):
        path.write_bytes(content)
        with pytest.warns(AnswerStoreWarning):
            AnswerStore(path).all()
    kept = sorted(p.read_bytes() for p in tmp_path.iterdir() if ".corrupt-" in p.name)
    assert kept == [b"{bad", b"{worse"]


def test_unwritable_location_warns_and_keeps_the_answer_in_memory(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    store = AnswerStore(blocker / "answers.json")  # its parent is a file: every write fails
    with pytest.warns(AnswerStoreWarning, match="无法保存"):
        store.set("q1", "甲")
    assert store.get("q1") == "甲"


def test_value_json_cannot_hold_is_refused_before_touching_the_file(tmp_path):
    path = tmp_path / "answers.json"
    store = AnswerStore(path)
    store.set("q1", "甲")
    before = path.read_bytes()
    with pytest.raises(TypeError):
        store.set("q2", {1, 2})
    assert path.read_bytes() == before
