"""The site's learning-record endpoints and pages.

    POST /dangxiao/api/events            the page's heartbeats and lesson end (signed-in trainee, XSRF)
    POST /dangxiao/api/kernel-events     a lesson kernel's quiz attempts, notes, scenario paths (HMAC)
    GET  /dangxiao/api/kernel-identity   a lesson kernel asks whose it is and gets their saved answers
    GET  /dangxiao/api/me                who is signed in, and whether anything is recorded
    GET  /dangxiao/me                    我的学习        GET /dangxiao/me/notes.docx   the notes as Word
    GET/POST /dangxiao/password          change one's password
    GET  /dangxiao/class[/<id>]          the class's progress, a trainee's notes (instructor role only)

A trainee reaches only their own record: no endpoint takes a trainee id from a trainee. Bad events get
a 4xx with the reason and a log line, and are never stored.
"""
from __future__ import annotations

import io
import json
import re
import time
import uuid
from pathlib import Path

import tornado.web
from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.base.handlers import APIHandler
from pydantic import ValidationError
from voila.handler import BaseVoilaHandler

from dangxiao.catalog import Catalog, load_catalog
from dangxiao.credit_rule import CreditRule
from dangxiao.errors import DangxiaoError
from dangxiao.events import (
    KERNEL_ID_HEADER,
    MAX_BODY_BYTES,
    SIGNATURE_HEADER,
    KernelBatch,
    PageBatch,
    signature_matches,
)
from dangxiao.publishing.gallery import lesson_url
from dangxiao.publishing.identity import in_thread, records_of
from dangxiao.publishing.ownership import KernelAssignment
from dangxiao.records.study import rule_text, study_table, wrong_answers

__all__ = ["records_handlers", "record_lesson_open"]

KERNEL_IDENTITY_WAIT = 60.0  # seconds a pool kernel's question "whose am I?" is held open
SIGNATURE_MAX_AGE = 300.0  # a kernel's signed request older than this is a replay


def _catalog(handler) -> Catalog:
    try:
        return load_catalog(handler.settings["dangxiao_courses"])
    except DangxiaoError as error:
        raise tornado.web.HTTPError(500, "catalog unusable: %s", error) from None


def _rule(handler) -> CreditRule:
    return handler.settings.get("dangxiao_credit_rule") or CreditRule()


def _lesson_of_path(catalog: Catalog, path: str):
    """The catalog lesson a page address (or notebook path) shows, or None."""
    notebook = path.split("/voila/render/", 1)[-1].lstrip("/")
    return next((lesson for lesson in catalog.lessons if lesson.notebook == notebook), None)


async def record_lesson_open(handler, lesson_id: str) -> None:
    """The server's own event: a signed-in trainee was handed this lesson's page."""
    from dangxiao.records.store import LessonOpen

    user = handler.current_user
    await in_thread(records_of(handler).record_events, user.username, lesson_id,
                    [LessonOpen(id=uuid.uuid4().hex, at=time.time())])


class RecordsAPIHandler(APIHandler):
    def _json_body(self) -> bytes:
        body = self.request.body or b""
        if len(body) > MAX_BODY_BYTES:
            self._refuse(413, f"body of {len(body)} bytes exceeds {MAX_BODY_BYTES}")
        return body

    def _refuse(self, status: int, reason: str):
        self.log.warning("records: refused %s %s: %s", self.request.method, self.request.path, reason)
        raise tornado.web.HTTPError(status, reason)

    def _parse(self, model, body: bytes):
        try:
            return model.model_validate_json(body)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            self._refuse(400, f"malformed events: {where}: {first['msg']}")

    def _store_batch(self, account_id: str, lesson_id: str, events):
        return in_thread(records_of(self).record_events, account_id, lesson_id, list(events))


class PageEventsHandler(RecordsAPIHandler):
    @tornado.web.authenticated
    async def post(self):
        batch = self._parse(PageBatch, self._json_body())
        lesson = _lesson_of_path(_catalog(self), batch.lesson)
        if lesson is None:
            self._refuse(404, f"unknown lesson {batch.lesson[:80]!r}")
        kept = await self._store_batch(self.current_user.username, lesson.id, batch.events)
        self.finish({"kept": kept, "received": len(batch.events)})


class KernelRequestMixin:
    """Requests a lesson kernel makes for its trainee: authenticated by the kernel's HMAC signature
    under its Jupyter session key, not by a cookie (the kernel has none)."""

    def check_xsrf_cookie(self):
        return None  # signed, and never sent by a browser

    def _kernel_assignment(self, signed: bytes) -> KernelAssignment | None:
        kernel_id = self.request.headers.get(KERNEL_ID_HEADER, "")
        manager = self.kernel_manager
        if not re.fullmatch(r"[0-9a-f-]{36}", kernel_id) or kernel_id not in manager:
            self._refuse(403, "unknown kernel")
        key = manager.get_kernel(kernel_id).session.key
        if not signature_matches(key, signed, self.request.headers.get(SIGNATURE_HEADER, "")):
            self._refuse(403, "bad kernel signature")
        self.kernel_id = kernel_id
        return manager.owners.get(kernel_id)


def _lesson_text(catalog: Catalog, lesson_id: str) -> str:
    path = catalog.root / catalog.lesson(lesson_id).notebook
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def _quoted_in(text: str, name: str) -> bool:
    return re.search(r"[\"']" + re.escape(name) + r"\\?[\"']", text) is not None


class KernelEventsHandler(KernelRequestMixin, RecordsAPIHandler):
    @allow_unauthenticated
    async def post(self):
        body = self._json_body()
        assignment = self._kernel_assignment(body)
        if assignment is None:
            self._refuse(409, "kernel not yet handed to a trainee")
        batch = self._parse(KernelBatch, body)
        if abs(time.time() - batch.sent_at) > SIGNATURE_MAX_AGE:
            self._refuse(400, "stale batch")
        lesson_text = _lesson_text(_catalog(self), assignment.lesson_id)
        for item in batch.events:
            named = item.question_id if item.kind == "quiz_attempt" else getattr(item, "key", "")
            # Every question id and 思考题 key a lesson uses is written, quoted, in its notebook.
            if item.kind in ("quiz_attempt", "note") and not _quoted_in(lesson_text, named):
                self._refuse(404, f"{item.kind} {named!r} is not in lesson {assignment.lesson_id}")
        kept = await self._store_batch(assignment.account_id, assignment.lesson_id, batch.events)
        self.finish({"kept": kept, "received": len(batch.events)})


class KernelIdentityHandler(KernelRequestMixin, RecordsAPIHandler):
    @allow_unauthenticated
    async def get(self):
        sent_at = self.get_argument("t", "")
        kernel_id = self.request.headers.get(KERNEL_ID_HEADER, "")
        assignment = self._kernel_assignment(f"{kernel_id}:{sent_at}".encode())
        try:
            if abs(time.time() - float(sent_at)) > SIGNATURE_MAX_AGE:
                raise ValueError
        except ValueError:
            self._refuse(400, "stale request")
        if assignment is None:
            assignment = await self.kernel_manager.owners.wait(self.kernel_id, KERNEL_IDENTITY_WAIT)
        if assignment is None:
            self.set_status(204)
            self.finish()
            return
        responses = await in_thread(records_of(self).responses, assignment.account_id, assignment.lesson_id)
        self.finish({"lesson_id": assignment.lesson_id,
                     "responses": {r.key: {"kind": r.kind, "value": r.value} for r in responses}})


class MeAPIHandler(APIHandler):
    @tornado.web.authenticated
    def get(self):
        user = self.current_user
        recording = self.settings.get("dangxiao_records") is not None
        self.set_header("Cache-Control", "no-store")
        self.finish({
            "recording": recording,
            "user": {"id": user.username, "name": user.name, "role": getattr(user, "role", "")} if recording else None,
        })


class RecordsPage(BaseVoilaHandler):
    def initialize(self, **kwargs):
        super().initialize(**kwargs)

    def page(self, name: str, **values) -> None:
        self.set_header("Cache-Control", "no-store")
        self.finish(self.render_template(name, base_url=self.base_url, user=self.current_user, **values))


def _study_summary(table):
    modules = []
    for module, rows in table.groupby("模块", sort=False):
        modules.append({
            "title": module,
            "lessons": rows.to_dict("records"),
            "done": int(rows["已完成"].sum()), "count": len(rows),
            "minutes": round(float(rows["学习时长（分钟）"].sum()), 1),
        })
    return modules


class MyStudyHandler(RecordsPage):
    @tornado.web.authenticated
    async def get(self):
        catalog, rule, store, user = _catalog(self), _rule(self), records_of(self), self.current_user
        table = await in_thread(study_table, store, catalog, rule, user.username)
        wrong = await in_thread(wrong_answers, store, user.username)
        notes = await in_thread(store.responses, user.username)
        self.page("me.html", modules=_study_summary(table), hours=float(table["学时"].sum()),
                  minutes=round(float(table["学习时长（分钟）"].sum()), 1), rule=rule_text(rule),
                  wrong=_wrong_view(wrong, catalog, self.base_url), notes=_notes_view(notes, catalog),
                  lesson_urls={lesson.id: lesson_url(self.base_url, lesson.notebook) for lesson in catalog.lessons})


def _wrong_view(wrong: list[dict], catalog: Catalog, base_url: str) -> list[dict]:
    from dangxiao.questions import get_question

    titles = {lesson.id: (lesson.title, lesson_url(base_url, lesson.notebook)) for lesson in catalog.lessons}
    view = []
    for entry in wrong:
        try:
            stem = get_question(entry["question_id"]).stem
        except DangxiaoError:  # a question written into the lesson, not from the bank
            stem = ""
        title, url = titles.get(entry["lesson_id"], (entry["lesson_id"], None))
        view.append({**entry, "stem": stem, "lesson_title": title, "lesson_url": url,
                     "answer_text": _answer_text(entry["last_wrong_answer"])})
    return view


def _answer_text(answer) -> str:
    if isinstance(answer, bool):
        return "对" if answer else "错"
    if isinstance(answer, list):
        return "、".join(map(str, answer))
    if isinstance(answer, dict):
        return "；".join(f"{k} → {v}" for k, v in answer.items())
    return "" if answer is None else str(answer)


def _notes_view(responses, catalog: Catalog) -> list[dict]:
    titles = {lesson.id: lesson.title for lesson in catalog.lessons}
    return [{"lesson_id": r.lesson_id, "lesson_title": titles.get(r.lesson_id, r.lesson_id), "key": r.key,
             "text": r.value, "updated_at": r.updated_at}
            for r in responses if r.kind == "note" and isinstance(r.value, str) and r.value.strip()]


class NotesExportHandler(RecordsPage):
    """我的学习 → 导出思考题笔记: the trainee's own notes as a Word file."""

    @tornado.web.authenticated
    async def get(self):
        from docx import Document

        user, catalog = self.current_user, _catalog(self)
        notes = _notes_view(await in_thread(records_of(self).responses, user.username), catalog)
        document = Document()
        document.add_heading(f"{catalog.title} · 思考题笔记", level=1)
        document.add_paragraph(f"{user.name}（{user.username}）")
        for note in notes:
            document.add_heading(note["lesson_title"], level=2)
            for paragraph in note["text"].splitlines() or [""]:
                document.add_paragraph(paragraph)
        buffer = io.BytesIO()
        document.save(buffer)
        self.set_header("Content-Type", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        self.set_header("Content-Disposition", "attachment; filename*=UTF-8''%E6%80%9D%E8%80%83%E9%A2%98%E7%AC%94%E8%AE%B0.docx")
        self.set_header("Cache-Control", "no-store")
        self.finish(buffer.getvalue())


class PasswordHandler(RecordsPage):
    @tornado.web.authenticated
    def get(self):
        self.page("password.html", message="", done=False)

    @tornado.web.authenticated
    async def post(self):
        from dangxiao.publishing.identity import SESSION_COOKIE
        from dangxiao.records.passwords import MIN_PASSWORD_LENGTH

        store, user = records_of(self), self.current_user
        old, new, again = (self.get_argument(name, "") for name in ("old_password", "new_password", "confirm"))
        message = ""
        if await in_thread(store.authenticate, user.username, old) is None:
            message = "原密码不正确。"
        elif len(new) < MIN_PASSWORD_LENGTH:
            message = f"新密码至少 {MIN_PASSWORD_LENGTH} 位。"
        elif new != again:
            message = "两次输入的新密码不一致。"
        if message:
            self.set_status(400)
            self.page("password.html", message=message, done=False)
            return
        token = self.get_secure_cookie(SESSION_COOKIE).decode()
        await in_thread(store.set_password, user.username, new, token)
        self.log.info("password changed: %s", user.username)
        self.page("password.html", message="密码已修改；其他设备上的登录已退出。", done=True)


class StaffPage(RecordsPage):
    def prepare_staff(self):
        if not getattr(self.current_user, "is_staff", False):
            raise tornado.web.HTTPError(403, "instructor role required")


class ClassProgressHandler(StaffPage):
    @tornado.web.authenticated
    async def get(self):
        self.prepare_staff()
        catalog, rule, store = _catalog(self), _rule(self), records_of(self)
        chosen = self.get_argument("class", None) or None
        table = await in_thread(study_table, store, catalog, rule, None, chosen)
        classes = sorted({a.class_name for a in await in_thread(store.accounts, "trainee")})
        lessons = [{"id": lesson.id, "title": lesson.title} for lesson in catalog.lessons]
        trainees = []
        for (account_id, name, class_name), rows in table.groupby(["学号", "姓名", "班级"], sort=True):
            by_lesson = rows.set_index("lesson_id")
            trainees.append({
                "id": account_id, "name": name, "class_name": class_name,
                "started": bool(rows["已打开"].any()), "done": int(rows["已完成"].sum()),
                "minutes": round(float(rows["学习时长（分钟）"].sum()), 1), "hours": float(rows["学时"].sum()),
                "cells": [by_lesson.loc[lesson.id].to_dict() for lesson in catalog.lessons],
            })
        per_lesson = []
        for lesson in catalog.lessons:
            rows = table[table["lesson_id"] == lesson.id]
            per_lesson.append({"title": lesson.title, "opened": int(rows["已打开"].sum()), "done": int(rows["已完成"].sum()),
                               "minutes": round(float(rows["学习时长（分钟）"].mean()), 1) if len(rows) else 0.0})
        self.page("class.html", trainees=trainees, lessons=lessons, per_lesson=per_lesson, classes=classes,
                  chosen=chosen, not_started=[t for t in trainees if not t["started"]], rule=rule_text(rule))


class TraineeNotesHandler(StaffPage):
    @tornado.web.authenticated
    async def get(self, account_id: str):
        self.prepare_staff()
        store, catalog = records_of(self), _catalog(self)
        account = await in_thread(store.account, account_id)
        if account is None:
            raise tornado.web.HTTPError(404)
        notes = _notes_view(await in_thread(store.responses, account_id), catalog)
        self.page("trainee.html", account=account, notes=notes)


def records_handlers(base_url: str, common: dict) -> list[tuple]:
    from jupyter_server.utils import url_path_join as join

    page = {"voila_configuration": common["voila_configuration"]}
    return [
        (join(base_url, r"/dangxiao/api/events"), PageEventsHandler),
        (join(base_url, r"/dangxiao/api/kernel-events"), KernelEventsHandler),
        (join(base_url, r"/dangxiao/api/kernel-identity"), KernelIdentityHandler),
        (join(base_url, r"/dangxiao/me"), MyStudyHandler, page),
        (join(base_url, r"/dangxiao/me/notes\.docx"), NotesExportHandler, page),
        (join(base_url, r"/dangxiao/password"), PasswordHandler, page),
        (join(base_url, r"/dangxiao/class"), ClassProgressHandler, page),
        (join(base_url, r"/dangxiao/class/([A-Za-z0-9_.-]{1,64})"), TraineeNotesHandler, page),
    ]
