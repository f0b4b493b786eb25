"""Grading runs on one course take turns: two runs never publish into the same autograded/ at once."""
from __future__ import annotations

import logging
import threading
import time

from dangxiao.grading.sandbox import course_lock


def _enter_and_record(course, events, name):
    with course_lock(course):
        events.append(f"{name} in")


def test_a_second_run_on_the_course_waits_for_the_first(tmp_path, caplog):
    events: list[str] = []
    with caplog.at_level(logging.WARNING, logger="dangxiao.autograde"):
        with course_lock(tmp_path):
            second = threading.Thread(target=_enter_and_record, args=(tmp_path / ".", events, "second"))
            second.start()
            time.sleep(1.0)
            events.append("first out")
        second.join(timeout=30)
    assert events == ["first out", "second in"]
    assert "另一个评分任务" in caplog.text and str(tmp_path) in caplog.text


def test_runs_on_different_courses_do_not_wait(tmp_path, caplog):
    one, other = tmp_path / "one", tmp_path / "other"
    one.mkdir()
    other.mkdir()
    events: list[str] = []
    with caplog.at_level(logging.WARNING, logger="dangxiao.autograde"):
        with course_lock(one):
            runner = threading.Thread(target=_enter_and_record, args=(other, events, "other"))
            runner.start()
            runner.join(timeout=30)
            events.append("one out")
    assert events == ["other in", "one out"]
    assert "另一个评分任务" not in caplog.text
