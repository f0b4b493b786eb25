"""The server's clock decides: opening, closing, attempts, and the deadline of an attempt."""
from __future__ import annotations

import datetime as dt

import pytest

from dangxiao.assessments import load_blueprint
from dangxiao.assessments.timing import accepts_answers, can_start, deadline
from dangxiao.errors import DangxiaoError

CST = dt.timezone(dt.timedelta(hours=8))
TEXT = """\
id: quiz
title: 小测
points: {single: 2}
draws: [{type: single, count: 1}]
time_limit: 40
attempts: 2
pass_mark: 60
opens: 2026-12-20 09:00
closes: 2026-12-20 11:00
"""


@pytest.fixture
def blueprint(kit, tmp_path):
    return load_blueprint(kit.write_blueprint(tmp_path, "quiz", TEXT))


def at(hour, minute=0, second=0):
    return dt.datetime(2026, 12, 20, hour, minute, second, tzinfo=CST)


def test_window_and_attempts(blueprint):
    assert can_start(blueprint, at(8, 59), 0)[0] is False and "尚未开始" in can_start(blueprint, at(8, 59), 0)[1]
    assert can_start(blueprint, at(9), 0) == (True, "")
    assert can_start(blueprint, at(9, 30), 1) == (True, "")
    assert "用完 2 次" in can_start(blueprint, at(9, 30), 2)[1]
    assert "已经结束" in can_start(blueprint, at(11), 0)[1]
    # the zone counts: 03:00 UTC is 11:00 in China
    assert can_start(blueprint, dt.datetime(2026, 12, 20, 3, 0, tzinfo=dt.timezone.utc), 0)[0] is False


def test_deadline_is_the_time_limit_capped_by_closing(blueprint):
    assert deadline(blueprint, at(9, 10)) == at(9, 50)
    assert deadline(blueprint, at(10, 50)) == at(11)  # ten minutes before closing: ten minutes
    assert accepts_answers(blueprint, at(9, 10), at(9, 50))
    assert not accepts_answers(blueprint, at(9, 10), at(9, 50, 1))
    assert accepts_answers(blueprint, at(9, 10), at(9, 50, 4), grace=dt.timedelta(seconds=5))
    with pytest.raises(DangxiaoError, match="时区"):
        accepts_answers(blueprint, at(9, 10), dt.datetime(2026, 12, 20, 9, 20))


def test_untimed_practice_has_no_deadline(kit, tmp_path):
    text = "\n".join(l for l in TEXT.splitlines() if not l.startswith(("time_limit", "attempts", "opens", "closes")))
    practice = load_blueprint(kit.write_blueprint(tmp_path, "quiz", text + "\nmode: practice\n"))
    assert deadline(practice, at(9)) is None and accepts_answers(practice, at(9), at(23))
    assert can_start(practice, at(9), 500) == (True, "")
