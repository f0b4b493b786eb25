"""When a test may be started and until when answers are accepted: the server's clock, not the page's.

`deadline(blueprint, started_at)` is the start plus the time limit, and never later than `closes`
(a trainee who starts 10 minutes before closing gets 10 minutes). `accepts_answers` is what the exam
page asks before saving an answer; `grace` covers the last answer in flight when time runs out (the
page submits at zero; a request that left the browser in time may arrive a moment later) — the caller
chooses it, default none. `can_start` refuses before `opens`, after `closes`, and beyond `attempts`.
All times must carry a zone.
"""
from __future__ import annotations

import datetime as _dt

from dangxiao.assessments.blueprint import Blueprint
from dangxiao.errors import DangxiaoError

__all__ = ["deadline", "accepts_answers", "can_start"]


def _zoned(moment: _dt.datetime, name: str) -> _dt.datetime:
    if moment.tzinfo is None:
        raise DangxiaoError(f"{name} 须带时区 / {name} must carry a time zone")
    return moment


def deadline(blueprint: Blueprint, started_at: _dt.datetime) -> _dt.datetime | None:
    """When the attempt begun at `started_at` ends (None: untimed practice with no closing time)."""
    _zoned(started_at, "started_at")
    ends = started_at + _dt.timedelta(minutes=blueprint.time_limit) if blueprint.time_limit else None
    if blueprint.closes is not None:
        ends = blueprint.closes if ends is None else min(ends, blueprint.closes)
    return ends


def accepts_answers(blueprint: Blueprint, started_at: _dt.datetime, now: _dt.datetime,
                    grace: _dt.timedelta = _dt.timedelta(0)) -> bool:
    _zoned(now, "now")
    ends = deadline(blueprint, started_at)
    return ends is None or now <= ends + grace


def can_start(blueprint: Blueprint, now: _dt.datetime, attempts_used: int) -> tuple[bool, str]:
    """(allowed, reason in Chinese / English) for starting attempt `attempts_used + 1` at `now`."""
    _zoned(now, "now")
    if blueprint.opens is not None and now < blueprint.opens:
        return False, f"测验尚未开始（{blueprint.opens:%Y-%m-%d %H:%M} 开始）/ not open yet"
    if blueprint.closes is not None and now >= blueprint.closes:
        return False, "测验已经结束 / the test is closed"
    if blueprint.attempts is not None and attempts_used >= blueprint.attempts:
        return False, f"已用完 {blueprint.attempts} 次作答机会 / no attempts left"
    return True, ""
