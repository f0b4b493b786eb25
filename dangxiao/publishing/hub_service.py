"""The learning record on JupyterHub: one hub service keeps it for every user server.

    dangxiao records-service --port 9300 --db sqlite:////srv/dangxiao/hub/records.sqlite --staff t1,t2

Run by the hub (`c.JupyterHub.services`), below `$JUPYTERHUB_SERVICE_PREFIX`. Who is asking is the hub's
word, never the caller's: a user server calls with `Authorization: token <its JUPYTERHUB_API_TOKEN>`, which
the hub resolves to the server's owner; a browser page carries the service's OAuth cookie (hub sign-in,
`HubOAuthCallbackHandler` at `oauth_callback`). A hub user becomes an account of the record store on first
contact (`RecordStore.ensure_account`: role instructor for `--staff`, else trainee; no usable password).

    POST api/events         a page's heartbeats and lesson end (forwarded by the user server)
    POST api/kernel-events  a lesson kernel's quiz attempts, notes, scenario paths: a KernelBatch with
                            its `page` (or {"page": ..., "batch": KernelBatch}); bank answers rejudged
    POST api/lesson-open    {"lesson": page, "id": event id}: a lesson kernel started for the page
    GET  api/lesson-state?lesson=<page>   the caller's saved notes and scenario paths for that lesson
    GET  api/me             the caller's account (id, name, role)
    GET  me, me/notes.docx, class, class/<id>   the pages of `dangxiao serve` (also under dangxiao/…)
    GET  exam/<id>, dangxiao/api/exam/<id>; POST …/start, …/answer, …/submit
                            tests without code, as under `dangxiao serve` (`--assessments`); a finished
                            paper goes to its course's outbox folder for the grader (`--exam-outbox`)

The token of trainee B's server identifies B: no endpoint takes an account id from a trainee, so B reads
and writes B's record only. Checks and page values are `record_views`, shared with `dangxiao serve`.
"""
from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import tornado.web
from jinja2 import Environment, FileSystemLoader, select_autoescape
from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
from jupyterhub.utils import url_path_join
from tornado.log import app_log

from dangxiao.catalog import Catalog, load_catalog
from dangxiao.credit_rule import CreditRule
from dangxiao.errors import DangxiaoError
from dangxiao.events import KernelBatch
from dangxiao.publishing import exam_handlers as exam_api
from dangxiao.publishing import record_views as views
from dangxiao.publishing.identity import in_thread
from dangxiao.records import exams as exam_records
from dangxiao.records.store import LessonOpen, RecordStore

__all__ = ["ServiceConfig", "make_app", "service_config_from_env", "hub_exam_catalog", "start_exam_sweep",
           "TEMPLATE_DIR", "SERVICE_NAME"]

SERVICE_NAME = "dangxiao-records"
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates" / "voila" / "templates" / "dangxiao"
LESSONS_FOLDER = "lessons"  # `~/lessons` in each home links to the shared lesson folder (jupyterhub_config)


@dataclass
class ServiceConfig:
    store: RecordStore
    courses: Path
    rule: CreditRule = field(default_factory=CreditRule)
    staff: frozenset[str] = frozenset()
    classes: dict[str, str] = field(default_factory=dict)  # hub user -> class shown on the class page
    prefix: str = "/"  # $JUPYTERHUB_SERVICE_PREFIX
    hub_prefix: str = "/"  # $JUPYTERHUB_BASE_URL: where /hub/ and /user/ start
    exams: "exam_api.ExamCatalog | None" = None  # tests without code, when the service has blueprints


class ServiceHandler(HubOAuthenticated, tornado.web.RequestHandler):
    """Any caller the hub vouches for: the scope `access:services!service=<name>` is required (HubAuth's
    default access scopes), whether it comes with a server token or the OAuth cookie."""

    @property
    def config(self) -> ServiceConfig:
        return self.settings["dangxiao_service"]

    def exams(self) -> "exam_api.ExamCatalog":
        """The tests this service offers; 404 where it was started without blueprints."""
        if self.config.exams is None:
            raise tornado.web.HTTPError(404, "no tests here")
        return self.config.exams

    def catalog(self) -> Catalog:
        try:
            return load_catalog(self.config.courses)
        except DangxiaoError as error:
            raise tornado.web.HTTPError(500, "catalog unusable: %s", error) from None

    async def account(self):
        """The record-store account of the hub user making this request, made on first contact."""
        user = self.current_user
        if not user or user.get("kind", "user") != "user":
            raise tornado.web.HTTPError(403, "a hub user is required")
        name = user["name"]
        config = self.config
        role = "instructor" if name in config.staff else "trainee"
        known = self.settings["dangxiao_known"]
        wanted = (name, role, config.classes.get(name, ""))
        if known.get(name) != wanted:  # one write per person and process, not per heartbeat
            view = await in_thread(config.store.ensure_account, name, name, role, wanted[2])
            known[name] = wanted
            return view
        return await in_thread(config.store.account, name)

    async def accepting(self, function, *args):
        try:
            return await in_thread(function, *args)
        except views.Refused as refused:
            self.log.warning("records: refused %s %s: %s", self.request.method, self.request.path, refused.reason)
            raise tornado.web.HTTPError(refused.status, refused.reason) from None

    def write_error(self, status_code: int, **kwargs) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish({"status": status_code, "message": self._reason})


class APIHandler(ServiceHandler):
    def get_login_url(self):
        raise tornado.web.HTTPError(403, "hub token required")  # an API call is never redirected to a login

    def prepare(self):
        self.set_header("Cache-Control", "no-store")
        if not self.current_user:
            raise tornado.web.HTTPError(403, "hub token required")


class PageEventsHandler(APIHandler):
    async def post(self):
        account = await self.account()
        self.finish(await self.accepting(views.accept_page_batch, self.config.store, self.catalog(), account.id,
                                         self.request.body or b""))


def _kernel_batch(body: bytes) -> KernelBatch:
    """The KernelBatch of a body, with its page: either the batch itself, or {"page", "batch"}."""
    try:
        wrapper = json.loads(body)
    except ValueError:
        wrapper = None
    if isinstance(wrapper, dict) and set(wrapper) == {"page", "batch"}:
        batch = views.parse_batch(KernelBatch, json.dumps(wrapper["batch"]).encode())
        return batch.model_copy(update={"page": wrapper["page"]})
    return views.parse_batch(KernelBatch, body)


class KernelEventsHandler(APIHandler):
    async def post(self):
        account = await self.account()
        body = self.request.body or b""
        catalog = self.catalog()

        def accept():
            batch = _kernel_batch(body)
            if not batch.page:
                raise views.Refused(404, "the batch names no lesson page")
            lesson = views.lesson_of_page(catalog, batch.page)
            # Trainees run their own code in their own servers: a bank question is judged here.
            return views.accept_kernel_batch(self.config.store, catalog, account.id, lesson.id, batch, rejudge=True)

        self.finish(await self.accepting(accept))


class LessonOpenHandler(APIHandler):
    async def post(self):
        account = await self.account()
        catalog = self.catalog()

        def record():
            try:
                body = json.loads(self.request.body or b"")
                page, event_id = str(body["lesson"]), str(body["id"])
            except (ValueError, KeyError, TypeError):
                raise views.Refused(400, "malformed lesson-open: needs lesson and id") from None
            if not 8 <= len(event_id) <= 64 or not event_id.replace("-", "").replace("_", "").isalnum():
                raise views.Refused(400, "malformed event id")
            lesson = views.lesson_of_page(catalog, page)
            kept = self.config.store.record_events(account.id, lesson.id, [LessonOpen(id=event_id, at=time.time())])
            return {"lesson_id": lesson.id, "kept": kept}

        self.finish(await self.accepting(record))


class LessonStateHandler(APIHandler):
    async def get(self):
        account = await self.account()
        catalog, page = self.catalog(), self.get_argument("lesson", "")

        def state():
            lesson = views.lesson_of_page(catalog, page)
            responses = self.config.store.responses(account.id, lesson.id)
            return {"lesson_id": lesson.id,
                    "responses": {r.key: {"kind": r.kind, "value": r.value} for r in responses}}

        self.finish(await self.accepting(state))


class MeAPIHandler(APIHandler):
    async def get(self):
        account = await self.account()
        self.finish({"id": account.id, "name": account.name, "role": account.role, "class_name": account.class_name})


# -- pages -------------------------------------------------------------------------------------------

class PageHandler(ServiceHandler):
    def render_page(self, name: str, **values) -> None:
        config = self.config
        links = {"gallery": url_path_join(config.hub_prefix, "hub/home"), "me": url_path_join(config.prefix, "me"),
                 "logout": url_path_join(config.hub_prefix, "hub/logout")}
        account = values.pop("viewer")
        if account.is_staff:
            links["class"] = url_path_join(config.prefix, "class")
        template = self.settings["dangxiao_jinja"].get_template(name)
        self.set_header("Cache-Control", "no-store")
        self.finish(template.render(base_url=config.prefix, user=None, hub_links=links, viewer=account,
                                    xsrf_form_html=self.xsrf_form_html, **values))

    def write_error(self, status_code: int, **kwargs) -> None:
        """A page's error in Chinese, as `dangxiao serve` shows it (an API call gets JSON)."""
        self.set_header("Content-Type", "text/html; charset=utf-8")
        template = self.settings["dangxiao_jinja"].get_template("error.html")
        self.finish(template.render(base_url=self.config.prefix, status_code=status_code, status_message=self._reason))

    def hub_lesson_url(self, account_id: str, notebook: str) -> str:
        """A lesson in the trainee's own server, where Voila renders it from `~/lessons`."""
        return url_path_join(self.config.hub_prefix, "user", quote(account_id, safe=""), "voila/render",
                             LESSONS_FOLDER, quote(notebook))


class MyStudyHandler(PageHandler):
    @tornado.web.authenticated
    async def get(self):
        account = await self.account()
        catalog = self.catalog()
        values = await in_thread(views.my_study, self.config.store, catalog, self.config.rule, account.id, "/")
        notebooks = {lesson.id: lesson.notebook for lesson in catalog.lessons}
        values["lesson_urls"] = {lid: self.hub_lesson_url(account.id, nb) for lid, nb in notebooks.items()}
        for entry in values["wrong"]:
            if entry["lesson_id"] in notebooks:
                entry["lesson_url"] = values["lesson_urls"][entry["lesson_id"]]
        self.render_page("me.html", viewer=account, **values)


class NotesExportHandler(PageHandler):
    @tornado.web.authenticated
    async def get(self):
        account = await self.account()
        catalog = self.catalog()
        notes = await in_thread(views.notes_of, self.config.store, catalog, account.id)
        self.set_header("Content-Type", views.DOCX_TYPE)
        self.set_header("Content-Disposition", views.DOCX_DISPOSITION)
        self.set_header("Cache-Control", "no-store")
        self.finish(views.notes_docx(catalog.title, account.name, account.id, notes))


class StaffPage(PageHandler):
    async def staff(self):
        account = await self.account()
        if not account.is_staff:
            raise tornado.web.HTTPError(403, "instructor role required")
        return account


class ClassProgressHandler(StaffPage):
    @tornado.web.authenticated
    async def get(self):
        account = await self.staff()
        chosen = self.get_argument("class", None) or None
        values = await in_thread(views.class_progress, self.config.store, self.catalog(), self.config.rule, chosen)
        values["exams"] = await in_thread(views.exam_overview, self.config.store, self.config.exams, chosen)
        self.render_page("class.html", viewer=account, **values)


class ExamReleaseHandler(StaffPage):
    """The class page's 公布成绩 (the hub checks the form's XSRF token: it is cookie-authenticated)."""

    @tornado.web.authenticated
    async def post(self, assessment_id: str):
        account = await self.staff()
        blueprint = self.exams().get(assessment_id)
        count = await in_thread(exam_records.release_results, self.config.store, blueprint)
        app_log.info("%s released the results of %s (%d papers)", account.id, blueprint.id, count)
        self.redirect(url_path_join(self.config.prefix, "class"))


class TraineeNotesHandler(StaffPage):
    @tornado.web.authenticated
    async def get(self, account_id: str):
        viewer = await self.staff()
        store = self.config.store
        account = await in_thread(store.account, account_id)
        if account is None:
            raise tornado.web.HTTPError(404)
        notes = await in_thread(views.notes_of, store, self.catalog(), account_id)
        self.render_page("trainee.html", viewer=viewer, account=account, notes=notes)


# -- tests without code -------------------------------------------------------------------------------

class ExamPageHandler(PageHandler):
    @tornado.web.authenticated
    async def get(self, assessment_id: str):
        account = await self.account()
        blueprint = self.exams().get(assessment_id)
        self.render_page("exam.html", viewer=account, assessment_id=blueprint.id, title=blueprint.title)


class ExamAPIHandler(APIHandler):
    """The exam API of `dangxiao serve` (`exam_handlers`), for the hub user the token or cookie names."""

    def write_error(self, status_code: int, **kwargs) -> None:
        exam_api.error_json(self, status_code, **kwargs)

    async def state(self, account, blueprint) -> None:
        state = await exam_api.run_refusing(self, exam_records.exam_state, self.config.store, blueprint,
                                            self.exams().bank, account.id, exam_api.now_utc())
        self.finish(json.dumps(state, ensure_ascii=False, default=str))


class ExamStateHandler(ExamAPIHandler):
    async def get(self, assessment_id: str):
        account = await self.account()
        await self.state(account, self.exams().get(assessment_id))


class ExamStartHandler(ExamAPIHandler):
    async def post(self, assessment_id: str):
        account = await self.account()
        catalog = self.exams()
        blueprint = catalog.get(assessment_id)
        await exam_api.run_refusing(self, exam_records.start_attempt, self.config.store, blueprint, catalog.bank,
                                    account.id, exam_api.now_utc())
        await self.state(account, blueprint)


class ExamAnswerHandler(ExamAPIHandler):
    async def post(self, assessment_id: str):
        account = await self.account()
        self.exams().get(assessment_id)
        attempt_id, item_id, answer = exam_api.answer_fields(exam_api.parse_object(self.request.body))
        saved = await exam_api.run_refusing(self, exam_records.save_answer, self.config.store, attempt_id, account.id,
                                            item_id, answer, exam_api.now_utc())
        self.finish(json.dumps({"saved": True, "item_id": item_id, "answer": saved}, ensure_ascii=False))


class ExamSubmitHandler(ExamAPIHandler):
    async def post(self, assessment_id: str):
        account = await self.account()
        catalog = self.exams()
        blueprint = catalog.get(assessment_id)
        attempt_id = exam_api.attempt_field(exam_api.parse_object(self.request.body))
        await exam_api.run_refusing(self, exam_records.finish, self.config.store, blueprint, catalog.bank, attempt_id,
                                    account.id, exam_api.now_utc(), "trainee")
        if not account.is_staff:
            await exam_api.export_quietly(catalog, self.config.store, blueprint)
        await self.state(account, blueprint)


def hub_exam_catalog(assessments: Path, outbox: Path | None, course_of: dict[str, str]) -> "exam_api.ExamCatalog":
    """The tests the service offers. Grading is the courses' (their graders collect from `outbox`), so a
    counted test needs no course here; without an outbox the papers stay in the record only."""
    exporter = exam_api.OutboxExporter(outbox, course_of) if outbox is not None else None
    catalog = exam_api.ExamCatalog(assessments, None, exporter)
    for error in catalog.errors:
        print(f"测验蓝图有误，未上线 / blueprint refused: {error}", flush=True)
    if catalog.blueprints:
        print(f"测验 / tests: {', '.join(sorted(catalog.blueprints))}（试卷写到 papers to {outbox or '（只在记录中 / record only）'}）",
              flush=True)
        from dangxiao.questions import bank_dir

        if any(_readable_by_all(p) for p in sorted(bank_dir().glob("*.yaml"))):
            # On the hub a trainee runs code in her own server, from the same installation: the bank's keys
            # are hers to read. Said at every start, because it is a protection `dangxiao serve` has.
            print(f"⚠ 注意 / WARNING: 题库 {bank_dir()} 对所有账号可读；Hub 上学员能运行代码，可以读到答案，计分测验的"
                  "答案在这里不保密（见 deploy/README.md 2.7）/ the question bank, with its keys, is readable by every "
                  "account: on the hub a trainee can read a counted test's answers", flush=True)
    return catalog


def _readable_by_all(path: Path) -> bool:
    """Can any account read `path` (it and every parent folder open to "other")?"""
    path = path.resolve()
    return bool(path.stat().st_mode & 0o004) and all(parent.stat().st_mode & 0o001 for parent in path.parents)


def start_exam_sweep(config: ServiceConfig) -> None:
    """Every SWEEP_SECONDS: finish the attempts whose time ran out with the page closed, and hand on
    the papers not yet handed on (a course folder that was missing may be there now)."""
    import tornado.ioloop

    catalog = config.exams

    def sweep():
        tornado.ioloop.IOLoop.current().run_in_executor(None, catalog.sweep, config.store)

    tornado.ioloop.PeriodicCallback(sweep, exam_api.SWEEP_SECONDS * 1000).start()


def make_app(config: ServiceConfig) -> tornado.web.Application:
    prefix = config.prefix if config.prefix.endswith("/") else config.prefix + "/"
    config.prefix = prefix
    page = r"(?:dangxiao/)?"  # the templates link {base_url}dangxiao/…, as under `dangxiao serve`
    handlers = [
        (prefix + "oauth_callback", HubOAuthCallbackHandler),
        (prefix + "api/events", PageEventsHandler),
        (prefix + "api/kernel-events", KernelEventsHandler),
        (prefix + "api/lesson-open", LessonOpenHandler),
        (prefix + "api/lesson-state", LessonStateHandler),
        (prefix + "api/me", MeAPIHandler),
        (prefix + page + "me/?", MyStudyHandler),
        (prefix + page + r"me/notes\.docx", NotesExportHandler),
        (prefix + page + "class/?", ClassProgressHandler),
        (prefix + page + r"class/([A-Za-z0-9_.-]{1,64})", TraineeNotesHandler),
        (prefix + r"exam/([A-Za-z0-9_-]{1,64})", ExamPageHandler),
        (prefix + page + r"class/exam/([A-Za-z0-9_-]{1,64})/release-results", ExamReleaseHandler),
        (prefix + r"dangxiao/api/exam/([A-Za-z0-9_-]{1,64})", ExamStateHandler),
        (prefix + r"dangxiao/api/exam/([A-Za-z0-9_-]{1,64})/start", ExamStartHandler),
        (prefix + r"dangxiao/api/exam/([A-Za-z0-9_-]{1,64})/answer", ExamAnswerHandler),
        (prefix + r"dangxiao/api/exam/([A-Za-z0-9_-]{1,64})/submit", ExamSubmitHandler),
        (prefix + r"voila/templates/dangxiao/static/(.*)", tornado.web.StaticFileHandler,
         {"path": str(TEMPLATE_DIR / "static")}),  # the page font
        (prefix.rstrip("/") + "/?", tornado.web.RedirectHandler, {"url": prefix + "me"}),
    ]
    jinja = Environment(loader=FileSystemLoader(str(TEMPLATE_DIR)), autoescape=select_autoescape(["html", "j2"]))
    return tornado.web.Application(
        handlers,
        cookie_secret=secrets.token_bytes(32),  # OAuth state and token cookies; a restart only re-runs OAuth
        dangxiao_service=config,
        dangxiao_jinja=jinja,
        dangxiao_known={},
    )


def service_config_from_env(store: RecordStore, courses: Path, rule: CreditRule, staff: set[str],
                            classes: dict[str, str]) -> ServiceConfig:
    return ServiceConfig(store=store, courses=courses, rule=rule, staff=frozenset(staff), classes=classes,
                         prefix=os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/"),
                         hub_prefix=os.environ.get("JUPYTERHUB_BASE_URL", "/"))
