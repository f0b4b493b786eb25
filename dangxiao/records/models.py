"""The learning record's tables (SQLAlchemy 2). Every change of shape is an alembic migration in
`migrations/versions/`; `tests/records/test_migrations.py` fails when the two drift apart.

Times are stored in UTC without a zone (SQLite keeps none); the report shows them in Beijing time.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "Base",
    "Account",
    "LoginSession",
    "Event",
    "LessonProgress",
    "QuizAttempt",
    "Response",
    "Setting",
    "ExamAttempt",
    "ExamAnswer",
    "ROLES",
]

ROLES = ("trainee", "instructor", "admin")
ROLE_LABELS = {"trainee": "学员", "instructor": "教员", "admin": "管理员"}


class Base(DeclarativeBase):
    pass


class Account(Base):
    """A trainee from the roster, or an instructor / administrator added by command."""

    __tablename__ = "accounts"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # 学号 / login name
    name: Mapped[str] = mapped_column(String(100))
    class_name: Mapped[str] = mapped_column(String(100), default="")
    unit: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16), default="trainee")
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    # The latest heartbeat credited to this account, whatever the lesson or tab: two tabs open at once
    # cannot earn more study time than the clock allows.
    last_beat_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class LoginSession(Base):
    """A signed-in browser. The cookie carries the token; only its SHA-256 is stored."""

    __tablename__ = "login_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class Event(Base):
    """Every accepted event, by the id its sender gave it: a repeat of the same id is ignored."""

    __tablename__ = "events"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    lesson_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(DateTime)  # when it happened (the sender's clock, bounded)
    received_at: Mapped[datetime] = mapped_column(DateTime)


class LessonProgress(Base):
    """One trainee's state in one lesson, kept up to date as events arrive."""

    __tablename__ = "lesson_progress"
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    lesson_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_opened_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    opens: Mapped[int] = mapped_column(Integer, default=0)
    active_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)  # read to its end


class QuizAttempt(Base):
    """One answer to a lesson question; `first` marks the trainee's first attempt at that question."""

    __tablename__ = "quiz_attempts"
    __table_args__ = (UniqueConstraint("event_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    lesson_id: Mapped[str] = mapped_column(String(64))
    question_id: Mapped[str] = mapped_column(String(64))
    answer: Mapped[object] = mapped_column(JSON, nullable=True)
    correct: Mapped[bool | None] = mapped_column(Boolean, nullable=True)  # None: not judged
    first: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime] = mapped_column(DateTime)


class Response(Base):
    """The latest text of a 思考题 box, or the path taken through a scenario."""

    __tablename__ = "responses"
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    lesson_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # note | scenario
    value: Mapped[object] = mapped_column(JSON, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class Setting(Base):
    """Site-wide values every server process shares (the cookie secret)."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ExamAttempt(Base):
    """One trainee's attempt at a test: the paper drawn for it (the key stays in the bank), its clock kept
    by the server, and how it ended. The answers are `ExamAnswer` rows; the nbgrader submission is written
    from these (`exported_at`), so a failed export loses nothing and can be repeated."""

    __tablename__ = "exam_attempts"
    __table_args__ = (UniqueConstraint("account_id", "assessment_id", "attempt"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    assessment_id: Mapped[str] = mapped_column(String(64))
    attempt: Mapped[int] = mapped_column(Integer)
    paper: Mapped[dict] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    deadline: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    submitted_by: Mapped[str | None] = mapped_column(String(16), nullable=True)  # trainee | timeout
    result: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # score_paper's PaperResult
    exported_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class ExamAnswer(Base):
    """The latest answer to one item of an attempt, saved as the trainee gives it."""

    __tablename__ = "exam_answers"
    attempt_id: Mapped[int] = mapped_column(ForeignKey("exam_attempts.id"), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    answer: Mapped[object] = mapped_column(JSON, nullable=True)
    saved_at: Mapped[datetime] = mapped_column(DateTime)
