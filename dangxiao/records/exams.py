"""Tests taken in the published site: the record of each attempt, and the rules of taking one.

    state = exam_state(store, blueprint, bank, "t001", now)     # what the page may show now
    attempt = start_attempt(store, blueprint, bank, "t001", now) # draws the paper, starts the clock
    save_answer(store, blueprint, attempt.id, "t001", item_id, answer, now)
    finish(store, blueprint, bank, attempt.id, "t001", now, by="trainee")

The paper is drawn once per (assessment, trainee, attempt) and kept here; the browser only ever gets
its `public_view()`. The clock is the server's: an answer after the deadline is refused, and an attempt
whose time is up is finished by whoever touches it next (the page, a sweep, `dangxiao exam collect`).
A finished attempt is written as an nbgrader submission (`export_attempt`); the record stays the truth,
so a failed export is repeated later and never loses an answer.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from dangxiao.assessments.blueprint import Blueprint, assessment_bank
from dangxiao.assessments.kernel import AnswerError
from dangxiao.assessments.paper import Paper, draw_paper
from dangxiao.assessments.scoring import check_answer, feedback_view, score_paper
from dangxiao.assessments.timing import can_start, deadline
from dangxiao.errors import DangxiaoError
from dangxiao.questions import Question
from dangxiao.records.models import ExamAnswer, ExamAttempt, QuizAttempt
from dangxiao.records.store import RecordStore

__all__ = [
    "AttemptView",
    "ExamRefused",
    "exam_state",
    "start_attempt",
    "save_answer",
    "finish",
    "finish_expired",
    "export_attempt",
    "export_pending",
    "mark_exported",
    "attempt_file",
    "attempts_of",
    "answers_of",
    "results_released",
    "release_results",
    "exam_results",
    "paper_results",
    "RESULT_COLUMNS",
]

UTC = _dt.timezone.utc
# An answer sent just before the deadline may arrive a moment after it.
ANSWER_GRACE = _dt.timedelta(seconds=5)


class ExamRefused(DangxiaoError):
    def __init__(self, status: int, reason: str):
        self.status, self.reason = status, reason
        super().__init__(reason)


@dataclass(frozen=True)
class AttemptView:
    id: int
    account_id: str
    assessment_id: str
    attempt: int
    paper: Paper
    started_at: _dt.datetime
    deadline: _dt.datetime | None
    submitted_at: _dt.datetime | None
    submitted_by: str | None
    result: dict | None
    exported_at: _dt.datetime | None

    @property
    def open(self) -> bool:
        return self.submitted_at is None


def _aware(moment: _dt.datetime | None) -> _dt.datetime | None:
    return None if moment is None else moment.replace(tzinfo=UTC)


def _naive(moment: _dt.datetime | None) -> _dt.datetime | None:
    return None if moment is None else moment.astimezone(UTC).replace(tzinfo=None)


def _view(row: ExamAttempt) -> AttemptView:
    return AttemptView(row.id, row.account_id, row.assessment_id, row.attempt, Paper.from_dict(row.paper),
                       _aware(row.started_at), _aware(row.deadline), _aware(row.submitted_at), row.submitted_by,
                       row.result, _aware(row.exported_at))


def attempts_of(store: RecordStore, account_id: str | None, assessment_id: str) -> list[AttemptView]:
    with store.session() as db:
        query = select(ExamAttempt).where(ExamAttempt.assessment_id == assessment_id).order_by(ExamAttempt.attempt)
        if account_id is not None:
            query = query.where(ExamAttempt.account_id == account_id)
        return [_view(row) for row in db.scalars(query)]


def answers_of(store: RecordStore, attempt_id: int) -> dict[str, Any]:
    """The saved answers of an attempt, by item id."""
    with store.session() as db:
        return {a.item_id: a.answer for a in db.scalars(select(ExamAnswer).where(ExamAnswer.attempt_id == attempt_id))}


def _attempt(store: RecordStore, attempt_id: int, account_id: str) -> AttemptView:
    with store.session() as db:
        row = db.get(ExamAttempt, attempt_id)
        if row is None or row.account_id != account_id:  # never another trainee's attempt
            raise ExamRefused(404, "no such attempt")
        return _view(row)


def start_attempt(store: RecordStore, blueprint: Blueprint, bank: Mapping[str, Question], account_id: str,
                  now: _dt.datetime) -> AttemptView:
    """The open attempt, or a new one when the blueprint allows it (opens, closes, attempts)."""
    existing = attempts_of(store, account_id, blueprint.id)
    for attempt in existing:
        if attempt.open:
            if attempt.deadline is None or now <= attempt.deadline:
                return attempt
            finish(store, blueprint, bank, attempt.id, account_id, now, by="timeout")
    allowed, reason = can_start(blueprint, now, len(existing))
    if not allowed:
        raise ExamRefused(409, reason)
    number = len(existing) + 1
    paper = draw_paper(blueprint, assessment_bank(blueprint, bank), account_id, number)
    ends = deadline(blueprint, now)
    try:
        with store.session() as db, db.begin():
            row = ExamAttempt(account_id=account_id, assessment_id=blueprint.id, attempt=number, paper=paper.to_dict(),
                              started_at=_naive(now), deadline=_naive(ends))
            db.add(row)
            db.flush()
            attempt_id = row.id
    except IntegrityError:  # a second tab started the same attempt a moment earlier: that one counts
        return next(a for a in attempts_of(store, account_id, blueprint.id) if a.attempt == number)
    return _attempt(store, attempt_id, account_id)


def save_answer(store: RecordStore, attempt_id: int, account_id: str, item_id: str, answer: Any,
                now: _dt.datetime) -> Any:
    """Keep an answer (the newest per item wins); refused after submission or the deadline."""
    attempt = _attempt(store, attempt_id, account_id)
    if not attempt.open:
        raise ExamRefused(409, "已交卷，不再接受作答 / already submitted")
    if attempt.deadline is not None and now > attempt.deadline + ANSWER_GRACE:
        raise ExamRefused(409, "时间已到，不再接受作答 / time is up")
    try:
        value = check_answer(attempt.paper, item_id, answer) if answer is not None else None
    except (AnswerError, DangxiaoError) as error:
        raise ExamRefused(400, str(error)) from None
    with store.session() as db, db.begin():
        row = db.get(ExamAnswer, (attempt_id, item_id))
        if row is None:
            db.add(ExamAnswer(attempt_id=attempt_id, item_id=item_id, answer=value, saved_at=_naive(now)))
        else:
            row.answer, row.saved_at = value, _naive(now)
    return value


def finish(store: RecordStore, blueprint: Blueprint, bank: Mapping[str, Question], attempt_id: int,
           account_id: str, now: _dt.datetime, by: str = "trainee") -> AttemptView:
    """交卷 (or time up): score by the key and close the attempt, once; a repeat returns it as it is."""
    attempt = _attempt(store, attempt_id, account_id)
    if not attempt.open:
        return attempt
    answers = answers_of(store, attempt_id)
    result = score_paper(attempt.paper, assessment_bank(blueprint, bank), answers).to_dict()
    if attempt.deadline is not None and now >= attempt.deadline:
        by = "timeout"  # whoever asks, the server's clock says the time was up
    when = min(now, attempt.deadline) if (by == "timeout" and attempt.deadline) else now
    with store.session() as db, db.begin():
        db.execute(update(ExamAttempt).where(ExamAttempt.id == attempt_id, ExamAttempt.submitted_at.is_(None))
                   .values(submitted_at=_naive(when), submitted_by=by, result=result))
    finished = _attempt(store, attempt_id, account_id)
    if results_released(store, blueprint):
        _to_wrongbook(store, finished)
    return finished


def results_released(store: RecordStore, blueprint: Blueprint) -> bool:
    """Practice and `show_results: immediately` show results at once; otherwise when the instructor
    releases them (`dangxiao exam release-results <id>`)."""
    return blueprint.show_results == "immediately" or store.setting(f"exam_results_released:{blueprint.id}") == "yes"


def release_results(store: RecordStore, blueprint: Blueprint) -> int:
    """Let trainees see their results of `blueprint`; their wrong items join their 错题本. Returns how
    many finished attempts there are."""
    store.set_setting(f"exam_results_released:{blueprint.id}", "yes")
    finished = [a for a in attempts_of(store, None, blueprint.id) if not a.open]
    for attempt in finished:
        _to_wrongbook(store, attempt)
    return len(finished)


def _to_wrongbook(store: RecordStore, attempt: AttemptView) -> None:
    """The attempt's judged items as quiz attempts of the pseudo-lesson `exam:<id>` (once per attempt):
    the 错题本 and the item analysis read them with the lessons' questions."""
    answers = answers_of(store, attempt.id)
    with store.session() as db, db.begin():
        for item in (attempt.result or {}).get("items", []):
            if item["correct"] is None:
                continue
            event_id = f"exam-{attempt.id}-{item['item_id']}"[:64]
            if db.scalar(select(QuizAttempt.id).where(QuizAttempt.event_id == event_id)) is not None:
                continue
            earlier = db.scalar(select(QuizAttempt.id).where(QuizAttempt.account_id == attempt.account_id,
                                                             QuizAttempt.question_id == item["item_id"]).limit(1))
            db.add(QuizAttempt(event_id=event_id, account_id=attempt.account_id, lesson_id=f"exam:{attempt.assessment_id}",
                               question_id=item["item_id"], answer=answers.get(item["item_id"]),
                               correct=bool(item["correct"]), first=earlier is None,
                               at=_naive(attempt.submitted_at)))


def finish_expired(store: RecordStore, blueprints: Mapping[str, Blueprint], bank: Mapping[str, Question],
                   now: _dt.datetime) -> int:
    """Finish every open attempt whose time is up (the page may be closed). Returns how many."""
    with store.session() as db:
        rows = list(db.scalars(select(ExamAttempt).where(ExamAttempt.submitted_at.is_(None),
                                                          ExamAttempt.deadline < _naive(now))))
    done = 0
    for row in rows:
        blueprint = blueprints.get(row.assessment_id)
        if blueprint is not None:
            finish(store, blueprint, bank, row.id, row.account_id, now, by="timeout")
            done += 1
    return done


def export_attempt(store: RecordStore, blueprint: Blueprint, bank: Mapping[str, Question], attempt: AttemptView,
                   course: Path) -> Path | None:
    """Write a finished, counted attempt as the nbgrader submission `submitted/<trainee>/<id>/`."""
    from dangxiao.assessments.nbgrader_route import write_submission

    if attempt.open or not blueprint.counted:
        return None
    folder = write_submission(course, attempt.account_id, attempt.paper, answers_of(store, attempt.id),
                              attempt.submitted_at, bank=assessment_bank(blueprint, bank),
                              replace=attempt.exported_at is not None)
    mark_exported(store, attempt.id)
    return folder


def mark_exported(store: RecordStore, attempt_id: int) -> None:
    """Note that a finished attempt has been handed to nbgrader (or left for the course's grader)."""
    with store.session() as db, db.begin():
        db.execute(update(ExamAttempt).where(ExamAttempt.id == attempt_id)
                   .values(exported_at=_naive(_dt.datetime.now(UTC))))


def attempt_file(store: RecordStore, attempt: AttemptView):
    """A finished attempt as the file the hub's records service leaves for the course's grader
    (`dangxiao.assessments.handoff`)."""
    from dangxiao.assessments.handoff import AttemptFile

    return AttemptFile(assessment=attempt.assessment_id, trainee=attempt.account_id, attempt=attempt.attempt,
                       paper=attempt.paper.to_dict(), answers=answers_of(store, attempt.id),
                       submitted_at=attempt.submitted_at)


def export_pending(store: RecordStore, blueprint: Blueprint, bank: Mapping[str, Question], course: Path) -> list[Path]:
    """Every finished attempt of `blueprint` not yet written for nbgrader (the last attempt per trainee)."""
    latest: dict[str, AttemptView] = {}
    for attempt in attempts_of(store, None, blueprint.id):
        if not attempt.open:
            latest[attempt.account_id] = attempt
    return [folder for attempt in latest.values() if attempt.exported_at is None
            for folder in [export_attempt(store, blueprint, bank, attempt, course)] if folder is not None]


def exam_state(store: RecordStore, blueprint: Blueprint, bank: Mapping[str, Question], account_id: str,
               now: _dt.datetime) -> dict[str, Any]:
    """What the exam page shows (JSON-safe, never the key before submission): the blueprint's facts,
    the open attempt's paper and saved answers with the time left, or the last result as far as the
    blueprint lets it be shown."""
    attempts = attempts_of(store, account_id, blueprint.id)
    for attempt in attempts:
        if attempt.open and attempt.deadline is not None and now > attempt.deadline + ANSWER_GRACE:
            finish(store, blueprint, bank, attempt.id, account_id, now, by="timeout")
            attempts = attempts_of(store, account_id, blueprint.id)
    allowed, reason = can_start(blueprint, now, len(attempts))
    state: dict[str, Any] = {
        "assessment": blueprint.id, "title": blueprint.title, "mode": blueprint.mode,
        "time_limit_minutes": blueprint.time_limit, "pass_mark": blueprint.pass_mark,
        "attempts_allowed": blueprint.attempts, "attempts_used": len(attempts),
        "can_start": allowed, "refusal": reason, "now": now.timestamp(), "status": "not_started",
    }
    current = next((a for a in attempts if a.open), None)
    if current is not None:
        state.update(status="in_progress", attempt_id=current.id, paper=current.paper.public_view(),
                     answers=answers_of(store, current.id),
                     deadline=current.deadline.timestamp() if current.deadline else None)
        return state
    if attempts:
        last = attempts[-1]
        state.update(status="submitted", attempt_id=last.id, submitted_by=last.submitted_by,
                     submitted_at=last.submitted_at.timestamp())
        if results_released(store, blueprint):
            state["result"] = feedback_view(last.paper, assessment_bank(blueprint, bank), _paper_result(last.result),
                                            answers_of(store, last.id))
        else:
            state["result"] = None  # released by the instructor through the gradebook and feedback
    return state


RESULT_COLUMNS = ["学号", "测验", "测验名称", "第几次", "得分", "满分", "得分率（%）", "合格", "交卷方式", "交卷时间（UTC）"]


def exam_results(store: RecordStore, blueprints: Mapping[str, Blueprint]) -> "pd.DataFrame":  # noqa: F821
    """The last finished attempt of every trainee at every counted test, as scored by the key at 交卷
    (essays, if any, are pending: 合格 stays empty until the formgrader's grades are in the gradebook)."""
    import pandas as pd

    rows = []
    for blueprint in blueprints.values():
        if not blueprint.counted:
            continue
        latest: dict[str, AttemptView] = {}
        for attempt in attempts_of(store, None, blueprint.id):
            if not attempt.open:
                latest[attempt.account_id] = attempt
        for account_id, attempt in sorted(latest.items()):
            result = attempt.result or {}
            rows.append([account_id, blueprint.id, blueprint.title, attempt.attempt, result.get("total"),
                         result.get("max_points"), result.get("percent"), result.get("passed"),
                         {"timeout": "时间到自动交卷", "trainee": "学员交卷"}.get(attempt.submitted_by, attempt.submitted_by),
                         attempt.submitted_at.replace(tzinfo=None) if attempt.submitted_at else None])
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def paper_results(store: RecordStore, blueprint: Blueprint) -> list:
    """The scored papers (`PaperResult`) of the last finished attempt of each trainee at `blueprint`:
    what item statistics across papers and the paper's reliability are computed from."""
    latest: dict[str, AttemptView] = {}
    for attempt in attempts_of(store, None, blueprint.id):
        if not attempt.open and attempt.result:
            latest[attempt.account_id] = attempt
    return [_paper_result(a.result) for _, a in sorted(latest.items())]


def _paper_result(result: dict):
    """A stored `PaperResult.to_dict()` back as the object."""
    from dangxiao.assessments.scoring import ItemResult, PaperResult

    return PaperResult(**{**result, "items": tuple(ItemResult(**item) for item in result["items"])})
