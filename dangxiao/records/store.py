"""`RecordStore`: the one place the learning record is written and read.

    store = open_store()                       # sqlite file in data/ (WAL), migrated to the newest schema
    store = open_store("postgresql://…")       # a centre's shared database: several servers, one record

Publishing writes through it (sign-in, events); `dangxiao report`, 我的学习 and the class page read it.
Methods are synchronous; the web server calls them from a thread pool.
"""
from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterable

from sqlalchemy import create_engine, event, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from dangxiao.errors import DangxiaoError
from dangxiao.events import MAX_BEAT_SECONDS
from dangxiao.records.models import ROLE_LABELS, ROLES, Account, Event, LessonProgress, LoginSession, QuizAttempt, Response, Setting
from dangxiao.records.passwords import hash_password, new_password, verify_password

__all__ = [
    "AccountView",
    "RecordStore",
    "RecordsError",
    "open_store",
    "default_db_url",
    "DB_URL_ENV",
    "SESSION_DAYS",
]

DB_URL_ENV = "DANGXIAO_DB"
SESSION_DAYS = 7  # a sign-in lasts this long, then the trainee signs in again
# How far back a sender's clock is believed: a page that was offline for longer has its events dated now.
CLOCK_WINDOW = timedelta(hours=6)
# A heartbeat after a longer silence starts a new stretch of study: it credits what it claims, no more
# than MAX_BEAT_SECONDS.
NEW_STRETCH_AFTER = timedelta(minutes=5)


class RecordsError(DangxiaoError):
    """The record store refused something (unknown account, bad role, a database it cannot open)."""


@dataclass(frozen=True)
class AccountView:
    id: str
    name: str
    class_name: str
    unit: str
    role: str

    @property
    def is_staff(self) -> bool:
        return self.role in ("instructor", "admin")


def _view(account: Account) -> AccountView:
    return AccountView(account.id, account.name, account.class_name, account.unit, account.role)


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def default_db_url() -> str:
    """`$DANGXIAO_DB`, else an SQLite file in the project's `data/` folder (created on first use)."""
    env = os.environ.get(DB_URL_ENV)
    if env:
        return env
    from dangxiao.paths import data_dir

    return f"sqlite:///{data_dir() / 'records.sqlite'}"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
    cursor.execute("PRAGMA busy_timeout=10000")  # a locked database waits, it does not fail the event
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable at each checkpoint; WAL keeps it consistent
    cursor.close()


def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest schema with alembic (an upgrade keeps every record)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def open_store(url: str | None = None, migrate: bool = True) -> "RecordStore":
    url = url or default_db_url()
    try:
        engine = _engine(url)
        if migrate:
            upgrade(engine)
    except Exception as error:  # noqa: BLE001 -- any driver error becomes one line naming the database
        shown = engine.url.render_as_string(hide_password=True) if "engine" in locals() else url
        raise RecordsError(f"{shown}: 无法打开学习记录库 / cannot open the record store: {' '.join(str(getattr(error, 'orig', None) or error).split())}") from None
    return RecordStore(engine)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class RecordStore:
    def __init__(self, engine: Engine):
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def session(self) -> Session:
        return self._sessions()

    # -- accounts ------------------------------------------------------------------------------------
    def has_accounts(self) -> bool:
        with self.session() as db:
            return db.scalar(select(func.count()).select_from(Account)) > 0

    def account(self, account_id: str) -> AccountView | None:
        with self.session() as db:
            account = db.get(Account, account_id)
            return _view(account) if account else None

    def accounts(self, role: str | None = None) -> list[AccountView]:
        with self.session() as db:
            query = select(Account).order_by(Account.class_name, Account.id)
            if role:
                query = query.where(Account.role == role)
            return [_view(a) for a in db.scalars(query)]

    def import_roster(self, rows: Iterable["RosterRow"]) -> list[tuple[AccountView, str | None]]:  # noqa: F821
        """Add new trainees and update the names, classes and units of known ones, in one transaction.
        Returns each row's account with its initial password (None for an account that already existed:
        its password and records stay as they are)."""
        now = utcnow()
        result = []
        with self.session() as db, db.begin():
            for row in rows:
                account = db.get(Account, row.id)
                if account is None:
                    password = row.password or new_password()
                    account = Account(id=row.id, name=row.name, class_name=row.class_name, unit=row.unit,
                                      role="trainee", password_hash=hash_password(password),
                                      created_at=now, updated_at=now)
                    db.add(account)
                    result.append((account, password))
                elif account.role != "trainee":
                    # a roster is of trainees: a staff id in it is a mistake, not a change of role
                    raise RecordsError(f"{row.id}: 名单中的学号是{ROLE_LABELS.get(account.role, account.role)}账号"
                                       f"（{account.name}），未导入任何人 / a staff account's id in the roster: nothing imported")
                else:
                    account.name, account.class_name, account.unit = row.name, row.class_name, row.unit
                    account.updated_at = now
                    result.append((account, None))
            db.flush()
            return [(_view(a), p) for a, p in result]

    def add_staff(self, account_id: str, name: str, role: str, password: str | None = None,
                  promote: bool = False) -> str:
        """Add (or change the role of) an instructor or administrator; returns the password set.

        A trainee's id is refused unless `promote`: a typo in a staff id must not turn a trainee into
        someone who reads the whole class's record (and replace their password)."""
        if role not in ROLES or role == "trainee":
            raise RecordsError(f"角色 {role!r} 无效，应为 instructor 或 admin / role must be instructor or admin")
        password = password or new_password()
        now = utcnow()
        with self.session() as db, db.begin():
            account = db.get(Account, account_id)
            if account is not None and account.role == "trainee" and not promote:
                raise RecordsError(f"{account_id}: 这是学员 {account.name} 的账号，未改动；确要把该学员设为{ROLE_LABELS.get(role, role)}，"
                                   "请加 --promote / a trainee's account: unchanged (use --promote to make them staff)")
            if account is None:
                db.add(Account(id=account_id, name=name, class_name="", unit="", role=role,
                               password_hash=hash_password(password), created_at=now, updated_at=now))
            else:
                account.name, account.role, account.updated_at = name, role, now
                account.password_hash = hash_password(password)
                db.execute(LoginSession.__table__.delete().where(LoginSession.account_id == account_id))
        return password

    def ensure_account(self, account_id: str, name: str, role: str, class_name: str = "") -> AccountView:
        """The account of a person whose identity comes from elsewhere (a JupyterHub user): made on
        first contact with a password hash that no password matches ("!"), so nobody signs in with it
        to `dangxiao serve`; name, role and class follow the hub's when they change."""
        if role not in ROLES:
            raise RecordsError(f"角色 {role!r} 无效 / unknown role")
        now = utcnow()
        with self.session() as db, db.begin():
            account = db.get(Account, account_id)
            if account is None:
                account = Account(id=account_id, name=name, class_name=class_name, unit="", role=role,
                                  password_hash="!", created_at=now, updated_at=now)
                db.add(account)
                try:
                    db.flush()
                except IntegrityError:  # another request made it first
                    db.rollback()
                    return self.ensure_account(account_id, name, role, class_name)
            elif (account.name, account.role, account.class_name) != (name, role, class_name):
                account.name, account.role, account.class_name, account.updated_at = name, role, class_name, now
            return _view(account)

    def authenticate(self, account_id: str, password: str) -> AccountView | None:
        with self.session() as db:
            account = db.get(Account, account_id)
            if account is None:
                verify_password(None, password)  # same work either way: no timing hint of who exists
                return None
            return _view(account) if verify_password(account.password_hash, password) else None

    def set_password(self, account_id: str, password: str, keep_session: str | None = None) -> None:
        """Change a password; every other sign-in of the account ends."""
        with self.session() as db, db.begin():
            account = db.get(Account, account_id)
            if account is None:
                raise RecordsError(f"{account_id}: 没有这个账号 / no such account")
            account.password_hash = hash_password(password)
            account.updated_at = utcnow()
            query = LoginSession.__table__.delete().where(LoginSession.account_id == account_id)
            if keep_session:
                query = query.where(LoginSession.token_hash != _token_hash(keep_session))
            db.execute(query)

    # -- sign-in sessions ------------------------------------------------------------------------------
    def create_session(self, account_id: str, days: float = SESSION_DAYS) -> str:
        token = secrets.token_urlsafe(32)
        now = utcnow()
        with self.session() as db, db.begin():
            db.add(LoginSession(token_hash=_token_hash(token), account_id=account_id, created_at=now,
                                expires_at=now + timedelta(days=days)))
        return token

    def session_account(self, token: str) -> AccountView | None:
        with self.session() as db:
            row = db.get(LoginSession, _token_hash(token))
            if row is None or row.expires_at <= utcnow():
                return None
            account = db.get(Account, row.account_id)
            return _view(account) if account else None

    def end_session(self, token: str) -> None:
        with self.session() as db, db.begin():
            db.execute(LoginSession.__table__.delete().where(LoginSession.token_hash == _token_hash(token)))

    def cookie_secret(self) -> bytes:
        """One secret for every server process on this database, made on first use."""
        with self.session() as db, db.begin():
            row = db.get(Setting, "cookie_secret")
            if row is None:
                try:
                    with db.begin_nested():
                        row = Setting(key="cookie_secret", value=secrets.token_hex(32))
                        db.add(row)
                except IntegrityError:  # another process made it first: read theirs
                    row = db.scalars(select(Setting).where(Setting.key == "cookie_secret")
                                     .execution_options(populate_existing=True)).one()
            return bytes.fromhex(row.value)

    def setting(self, key: str) -> str | None:
        with self.session() as db:
            row = db.get(Setting, key)
            return row.value if row else None

    def set_setting(self, key: str, value: str) -> None:
        with self.session() as db, db.begin():
            row = db.get(Setting, key)
            if row is None:
                db.add(Setting(key=key, value=value))
            else:
                row.value = value

    # -- events ----------------------------------------------------------------------------------------
    def record_events(self, account_id: str, lesson_id: str, events: list) -> int:
        """Store a batch of validated events (`dangxiao.events` models, or `LessonOpen`) for one trainee
        and lesson. An id seen before is skipped. Returns how many were new."""
        now = utcnow()
        with self.session() as db, db.begin():
            # Take the trainee's row lock before reading anything: two requests of one trainee (two tabs,
            # two servers, a retry racing its original) then run one after the other, so neither reads
            # the seen ids or the active time before the other has written them. (On SQLite this first
            # write is what begins the transaction and takes the database's write lock.)
            db.execute(update(Account).where(Account.id == account_id).values(last_beat_at=Account.last_beat_at))
            ids = [e.id for e in events]
            seen = set(db.scalars(select(Event.id).where(Event.id.in_(ids))))
            fresh = []
            for item in events:  # also drops a repeat inside the batch
                if item.id not in seen:
                    seen.add(item.id)
                    fresh.append(item)
            if not fresh:
                return 0
            progress = db.get(LessonProgress, (account_id, lesson_id), with_for_update=True)
            if progress is None:
                progress = LessonProgress(account_id=account_id, lesson_id=lesson_id, opens=0, active_seconds=0.0)
                db.add(progress)
            account = None
            for item in sorted(fresh, key=lambda e: e.at):
                at = _bounded(item.at, now)
                payload = _event_payload(item)
                db.add(Event(id=item.id, account_id=account_id, lesson_id=lesson_id, kind=item.kind,
                             payload=payload, at=at, received_at=now))
                progress.last_seen_at = max(progress.last_seen_at or at, at)
                if item.kind == "lesson_open":
                    progress.opens += 1
                    progress.first_opened_at = min(progress.first_opened_at or at, at)
                elif item.kind == "heartbeat":
                    account = account or db.get(Account, account_id, with_for_update=True)
                    progress.active_seconds += _credit(account, at, item.active_seconds)
                elif item.kind == "lesson_end":
                    progress.completed_at = progress.completed_at or at
                elif item.kind == "quiz_attempt":
                    earlier = db.scalar(select(func.count()).select_from(QuizAttempt).where(
                        QuizAttempt.account_id == account_id, QuizAttempt.question_id == item.question_id))
                    db.add(QuizAttempt(event_id=item.id, account_id=account_id, lesson_id=lesson_id,
                                       question_id=item.question_id, answer=item.answer, correct=item.correct,
                                       first=earlier == 0, at=at))
                    db.flush()
                elif item.kind in ("note", "scenario"):
                    key = (account_id, lesson_id, item.key)
                    value = item.text if item.kind == "note" else list(item.path)
                    response = db.get(Response, key)
                    if response is None:
                        db.add(Response(account_id=account_id, lesson_id=lesson_id, key=item.key,
                                        kind=item.kind, value=value, updated_at=at))
                        db.flush()
                    elif response.updated_at <= at:  # a late retry never overwrites newer text
                        response.value, response.updated_at, response.kind = value, at, item.kind
            return len(fresh)

    # -- reading ---------------------------------------------------------------------------------------
    def progress(self, account_id: str | None = None) -> list[LessonProgress]:
        with self.session() as db:
            query = select(LessonProgress)
            if account_id is not None:
                query = query.where(LessonProgress.account_id == account_id)
            return list(db.scalars(query))

    def progress_rows(self, account_id: str | None = None) -> list[tuple]:
        """(account, lesson, opens, active seconds, completed at, first opened, last seen) as plain rows:
        the study table of a whole centre reads these (building ORM objects cost 75 % of its time)."""
        columns = (LessonProgress.account_id, LessonProgress.lesson_id, LessonProgress.opens,
                   LessonProgress.active_seconds, LessonProgress.completed_at, LessonProgress.first_opened_at,
                   LessonProgress.last_seen_at)
        query = select(*columns)
        if account_id is not None:
            query = query.where(LessonProgress.account_id == account_id)
        with self.session() as db:
            return [tuple(row) for row in db.execute(query)]

    def attempted_lessons(self, account_id: str | None = None) -> list[tuple[str, str]]:
        """(account, lesson) pairs with at least one answer to a lesson question."""
        query = select(QuizAttempt.account_id, QuizAttempt.lesson_id).distinct()
        if account_id is not None:
            query = query.where(QuizAttempt.account_id == account_id)
        with self.session() as db:
            return [tuple(row) for row in db.execute(query)]

    def responses(self, account_id: str, lesson_id: str | None = None) -> list[Response]:
        with self.session() as db:
            query = select(Response).where(Response.account_id == account_id).order_by(Response.lesson_id, Response.key)
            if lesson_id is not None:
                query = query.where(Response.lesson_id == lesson_id)
            return list(db.scalars(query))

    def attempts(self, account_id: str | None = None, first_only: bool = False) -> list[QuizAttempt]:
        with self.session() as db:
            query = select(QuizAttempt).order_by(QuizAttempt.at, QuizAttempt.id)
            if account_id is not None:
                query = query.where(QuizAttempt.account_id == account_id)
            if first_only:
                query = query.where(QuizAttempt.first.is_(True))
            return list(db.scalars(query))


@dataclass(frozen=True)
class LessonOpen:
    """The server's own event when it hands a lesson page to a signed-in trainee."""

    id: str
    at: float
    kind: str = "lesson_open"

    def model_dump(self, exclude=()) -> dict:
        return {}


def _event_payload(item) -> dict:
    """What the events table keeps of an event. A note is sent again at every pause in typing, and its
    text (up to 20 000 characters) lives in `Response`; the event keeps its length and SHA-256, so the
    log still shows when the note changed, and to what, without a copy of the text at every pause."""
    payload = item.model_dump(exclude={"id", "at", "kind"})
    if item.kind == "note":
        text = payload.pop("text")
        payload.update(chars=len(text), sha256=hashlib.sha256(text.encode("utf-8")).hexdigest())
    return payload


def _bounded(at: float, now: datetime) -> datetime:
    """The sender's time, believed within CLOCK_WINDOW before now and never in the future."""
    try:
        when = datetime.fromtimestamp(float(at), timezone.utc).replace(tzinfo=None)
    except (OverflowError, OSError, ValueError):
        return now
    return min(max(when, now - CLOCK_WINDOW), now)


def _credit(account: Account, at: datetime, claimed: float) -> float:
    """Seconds a heartbeat adds. It claims the page's active seconds since its last beat; it gets no more
    than the time since the account's previous beat on any page, so a second tab (or a script sending
    beats faster) adds nothing the clock does not allow."""
    claimed = max(0.0, min(float(claimed), MAX_BEAT_SECONDS))
    last = account.last_beat_at
    if last is not None and at <= last:
        return 0.0
    if last is None or at - last > NEW_STRETCH_AFTER:
        credit = claimed
    else:
        credit = min(claimed, (at - last).total_seconds())
    account.last_beat_at = at
    return credit
