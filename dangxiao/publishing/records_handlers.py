"""The learning-record endpoints and pages of `dangxiao serve` (with a roster).

    POST /dangxiao/api/events            the page's heartbeats and lesson end (signed-in trainee, XSRF)
    POST /dangxiao/api/kernel-events     a lesson kernel's quiz attempts, notes, scenario paths (HMAC)
    GET  /dangxiao/api/kernel-identity   a lesson kernel asks whose it is and gets their saved answers
    GET  /dangxiao/api/me                who is signed in, whether anything is recorded, where things are
    GET  /dangxiao/me                    我的学习        GET /dangxiao/me/notes.docx   the notes as Word
    GET/POST /dangxiao/password          change one's password
    GET  /dangxiao/class[/<id>]          the class's progress, a trainee's notes (instructor role only)

A trainee reaches only their own record: no endpoint takes a trainee id from a trainee. Bad events get
a 4xx with the reason and a log line, and are never stored. What is checked and shown is in
`record_views`, shared with the JupyterHub records service.
"""
from __future__ import annotations

import re
import time
import uuid

import tornado.web
from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from voila.handler import BaseVoilaHandler

from dangxiao.catalog import Catalog, load_catalog
from dangxiao.credit_rule import CreditRule
from dangxiao.errors import DangxiaoError
from dangxiao.events import KERNEL_ID_HEADER, MAX_BODY_BYTES, SIGNATURE_HEADER, KernelBatch, signature_matches
from dangxiao.publishing import record_views as views
from dangxiao.publishing.identity import SESSION_COOKIE, in_thread, records_of
from dangxiao.publishing.ownership import KernelAssignment
from dangxiao.publishing.page_config import COURSES_SETTING

__all__ = ["records_handlers", "record_lesson_open", "MeAPIHandler", "KernelRequestMixin", "RefusingMixin"]

KERNEL_IDENTITY_WAIT = 60.0  # seconds a pool kernel's question "whose am I?" is held open
SIGNATURE_MAX_AGE = 300.0  # a kernel's signed request older than this is a replay


def _catalog(handler) -> Catalog:
    try:
        return load_catalog(handler.settings[COURSES_SETTING])
    except DangxiaoError as error:
        raise tornado.web.HTTPError(500, "catalog unusable: %s", error) from None


def _rule(handler) -> CreditRule:
    return handler.settings.get("dangxiao_credit_rule") or CreditRule()


async def record_lesson_open(handler, lesson_id: str) -> None:
    """The server's own event: a signed-in trainee was handed this lesson's page."""
    from dangxiao.records.store import LessonOpen

    await in_thread(records_of(handler).record_events, handler.current_user.username, lesson_id,
                    [LessonOpen(id=uuid.uuid4().hex, at=time.time())])


class RefusingMixin:
    async def accepting(self, function, *args):
        """Run a `record_views` call in a thread; its refusal becomes a 4xx with a log line."""
        try:
            return await in_thread(function, *args)
        except views.Refused as refused:
            self.refuse(refused.status, refused.reason)

    def refuse(self, status: int, reason: str):
        self.log.warning("records: refused %s %s: %s", self.request.method, self.request.path, reason)
        raise tornado.web.HTTPError(status, reason)


class PageEventsHandler(RefusingMixin, APIHandler):
    @tornado.web.authenticated
    async def post(self):
        result = await self.accepting(views.accept_page_batch, records_of(self), _catalog(self),
                                      self.current_user.username, self.request.body or b"")
        self.finish(result)


class KernelRequestMixin(RefusingMixin):
    """Requests a lesson kernel makes for its trainee: authenticated by the kernel's HMAC signature
    under its Jupyter session key, not by a cookie (the kernel has none)."""

    def check_xsrf_cookie(self):
        return None  # signed, and never sent by a browser

    def signed_kernel(self, signed: bytes) -> str:
        """The id of the kernel that signed `signed`, or a 403."""
        kernel_id = self.request.headers.get(KERNEL_ID_HEADER, "")
        manager = self.kernel_manager
        if not re.fullmatch(r"[0-9a-f-]{36}", kernel_id) or kernel_id not in manager:
            self.refuse(403, "unknown kernel")
        key = manager.get_kernel(kernel_id).session.key
        if not signature_matches(key, signed, self.request.headers.get(SIGNATURE_HEADER, "")):
            self.refuse(403, "bad kernel signature")
        return kernel_id

    def kernel_batch(self) -> tuple[str, KernelBatch]:
        body = self.request.body or b""
        if len(body) > MAX_BODY_BYTES:
            self.refuse(413, f"body of {len(body)} bytes exceeds {MAX_BODY_BYTES}")
        kernel_id = self.signed_kernel(body)
        try:
            batch = views.parse_batch(KernelBatch, body)
        except views.Refused as refused:
            self.refuse(refused.status, refused.reason)
        if abs(time.time() - batch.sent_at) > SIGNATURE_MAX_AGE:
            self.refuse(400, "stale batch")
        return kernel_id, batch

    def identity_request(self) -> str:
        sent_at = self.get_argument("t", "")
        kernel_id = self.signed_kernel(f"{self.request.headers.get(KERNEL_ID_HEADER, '')}:{sent_at}".encode())
        try:
            if abs(time.time() - float(sent_at)) > SIGNATURE_MAX_AGE:
                raise ValueError
        except ValueError:
            self.refuse(400, "stale request")
        return kernel_id


class KernelEventsHandler(KernelRequestMixin, APIHandler):
    @allow_unauthenticated
    async def post(self):
        kernel_id, batch = self.kernel_batch()
        assignment = self.kernel_manager.owners.get(kernel_id)
        if assignment is None:
            self.refuse(409, "kernel not yet handed to a trainee")
        result = await self.accepting(views.accept_kernel_batch, records_of(self), _catalog(self),
                                      assignment.account_id, assignment.lesson_id, batch)
        self.finish(result)


class KernelIdentityHandler(KernelRequestMixin, APIHandler):
    @allow_unauthenticated
    async def get(self):
        kernel_id = self.identity_request()
        owners = self.kernel_manager.owners
        assignment: KernelAssignment | None = owners.get(kernel_id) or await owners.wait(kernel_id, KERNEL_IDENTITY_WAIT)
        if assignment is None:
            self.set_status(204)
            self.finish()
            return
        responses = await in_thread(records_of(self).responses, assignment.account_id, assignment.lesson_id)
        self.finish({"lesson_id": assignment.lesson_id,
                     "responses": {r.key: {"kind": r.kind, "value": r.value} for r in responses}})


def me_links(base_url: str, staff: bool, gallery: str | None = None, me: str | None = None,
             logout: str | None = None, staff_page: str | None = None) -> dict:
    """Where the account bar of a lesson page points (records.js draws it)."""
    links = {
        "gallery": gallery or base_url,
        "me": me or url_path_join(base_url, "dangxiao/me"),
        "logout": logout or url_path_join(base_url, "logout"),
    }
    if staff:
        links["class"] = staff_page or url_path_join(base_url, "dangxiao/class")
    return links


class MeAPIHandler(APIHandler):
    @tornado.web.authenticated
    async def get(self):
        user = self.current_user
        recording = self.settings.get("dangxiao_records") is not None
        self.set_header("Cache-Control", "no-store")
        if not recording:
            self.finish({"recording": False, "user": None})
            return
        role = getattr(user, "role", "trainee")
        reply = {"recording": True, "user": {"id": user.username, "name": user.name, "role": role},
                 "links": me_links(self.base_url, role != "trainee")}
        module = self.get_argument("module", None)
        if module:  # a lesson page's breadcrumb shows the trainee's progress in its module
            reply["module_progress"] = await in_thread(views.module_progress, records_of(self), _catalog(self),
                                                       _rule(self), user.username, module)
        self.finish(reply)


class RecordsPage(BaseVoilaHandler):
    def page(self, name: str, **values) -> None:
        self.set_header("Cache-Control", "no-store")
        self.finish(self.render_template(name, base_url=self.base_url, user=self.current_user, **values))


class MyStudyHandler(RecordsPage):
    @tornado.web.authenticated
    async def get(self):
        values = await in_thread(views.my_study, records_of(self), _catalog(self), _rule(self),
                                 self.current_user.username, self.base_url)
        self.page("me.html", **values)


class NotesExportHandler(RecordsPage):
    """我的学习 → 导出为 Word 文件: the trainee's own notes."""

    @tornado.web.authenticated
    async def get(self):
        user, catalog = self.current_user, _catalog(self)
        notes = await in_thread(views.notes_of, records_of(self), catalog, user.username)
        self.set_header("Content-Type", views.DOCX_TYPE)
        self.set_header("Content-Disposition", views.DOCX_DISPOSITION)
        self.set_header("Cache-Control", "no-store")
        self.finish(views.notes_docx(catalog.title, user.name, user.username, notes))


class PasswordHandler(RecordsPage):
    @tornado.web.authenticated
    def get(self):
        self.page("password.html", message="", done=False)

    @tornado.web.authenticated
    async def post(self):
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
        chosen = self.get_argument("class", None) or None
        values = await in_thread(views.class_progress, records_of(self), _catalog(self), _rule(self), chosen)
        values["exams"] = await in_thread(views.exam_overview, records_of(self), self.settings.get("dangxiao_exams"),
                                          chosen)
        self.page("class.html", **values)


class TraineeNotesHandler(StaffPage):
    @tornado.web.authenticated
    async def get(self, account_id: str):
        self.prepare_staff()
        store = records_of(self)
        account = await in_thread(store.account, account_id)
        if account is None:
            raise tornado.web.HTTPError(404)
        self.page("trainee.html", account=account, notes=await in_thread(views.notes_of, store, _catalog(self), account_id))


def records_handlers(base_url: str, common: dict) -> list[tuple]:
    page = {"voila_configuration": common["voila_configuration"]}
    join = url_path_join
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
