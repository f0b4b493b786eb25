"""Tests in the published site (a signed-in trainee, no code): `/exam/<id>` and its API.

    GET  /exam/<id>                          the page (static/exam.js draws it from the API)
    GET  /dangxiao/api/exam/<id>             state: the paper's public view and saved answers, the time left
    POST /dangxiao/api/exam/<id>/start       draw the paper (or return the open one), start the clock
    POST /dangxiao/api/exam/<id>/answer      {"attempt_id", "item_id", "answer"}: saved as given
    POST /dangxiao/api/exam/<id>/submit      {"attempt_id"}: 交卷

The key, the explanations and other trainees' papers stay on the server (`dangxiao.records.exams`):
before submission the browser gets only `Paper.public_view()`. A finished attempt is written as an
nbgrader submission in the course (`submitted/<trainee>/<id>/`) for `dangxiao autograde` / `nbgrader
autograde`; a sweep every SWEEP_SECONDS finishes attempts whose time ran out with the page closed.
"""
from __future__ import annotations

import datetime as _dt
import json
import logging
from pathlib import Path

import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from dangxiao.errors import DangxiaoError
from dangxiao.publishing.identity import in_thread, records_of
from dangxiao.publishing.records_handlers import RecordsPage
from dangxiao.records import exams

__all__ = ["ExamCatalog", "exam_handlers", "SWEEP_SECONDS"]

SWEEP_SECONDS = 30
log = logging.getLogger(__name__)


class ExamCatalog:
    """The course's blueprints (`assignments/assessments/*.yaml`) checked against the bank at start. A bad
    blueprint is refused with its one-line error in the log and left out; the rest of the site goes on."""

    def __init__(self, folder: Path, course: Path):
        from dangxiao.assessments.blueprint import load_blueprint
        from dangxiao.questions import load_bank

        self.course = course
        self.bank = load_bank()
        self.blueprints = {}
        self.errors: list[str] = []
        for path in sorted(Path(folder).glob("*.yaml")) if Path(folder).is_dir() else []:
            try:
                blueprint = load_blueprint(path, bank=self.bank)
            except DangxiaoError as error:
                self.errors.append(str(error))
                continue
            problem = self._not_servable(blueprint)
            if problem:
                self.errors.append(problem)
                continue
            self.blueprints[blueprint.id] = blueprint

    def _not_servable(self, blueprint) -> str:
        """Why a counted test cannot be taken here: its nbgrader assignment must be the paper notebook
        `dangxiao exam build` writes (an assignment of the same id done in JupyterLab is another route)."""
        if not blueprint.counted:
            return ""
        from dangxiao.assessments.nbgrader_route import is_built_paper

        folder = self.course / "source" / blueprint.id
        source = folder / f"{blueprint.id}.ipynb"
        if is_built_paper(source):
            return ""
        if any(folder.glob("*.ipynb")):
            return (f"{folder}: 作业 {blueprint.id} 是 JupyterLab 笔记本，测验页面未上线 / assignment "
                    f"{blueprint.id} is a JupyterLab notebook: the test page is off")
        return f"{source}: 没有试卷笔记本，先运行 dangxiao exam build {blueprint.id} / no paper notebook: build it"

    def get(self, assessment_id: str):
        blueprint = self.blueprints.get(assessment_id)
        if blueprint is None:
            raise tornado.web.HTTPError(404, "no such test")
        return blueprint

    def sweep(self, store) -> None:
        """Finish attempts whose time is up and write them for nbgrader."""
        now = _dt.datetime.now(_dt.timezone.utc)
        try:
            exams.finish_expired(store, self.blueprints, self.bank, now)
            for blueprint in self.blueprints.values():
                self.export(store, blueprint)
        except Exception:  # noqa: BLE001 -- a sweep must never stop the server; the record is intact
            log.exception("exam sweep failed")

    def export(self, store, blueprint) -> None:
        """Write the finished attempts of `blueprint` not yet written for nbgrader (staff attempts are tries)."""
        staff = {a.id for a in store.accounts() if a.is_staff}
        for attempt in exams.attempts_of(store, None, blueprint.id):
            if attempt.open or attempt.exported_at is not None or attempt.account_id in staff:
                continue
            try:
                exams.export_attempt(store, blueprint, self.bank, attempt, self.course)
            except DangxiaoError as error:  # e.g. not released yet: kept in the record, retried next sweep
                log.error("试卷未能写入 nbgrader（记录已保存，稍后重试）/ export failed, kept: %s", error)


def _catalog(handler) -> ExamCatalog:
    return handler.settings["dangxiao_exams"]


class ExamPage(RecordsPage):
    @tornado.web.authenticated
    def get(self, assessment_id: str):
        blueprint = _catalog(self).get(assessment_id)
        self.page("exam.html", assessment_id=blueprint.id, title=blueprint.title)


class ExamAPI(APIHandler):
    def now(self) -> _dt.datetime:
        return _dt.datetime.now(_dt.timezone.utc)

    def body(self) -> dict:
        try:
            data = json.loads(self.request.body or b"{}")
        except ValueError:
            raise tornado.web.HTTPError(400, "malformed JSON") from None
        if not isinstance(data, dict):
            raise tornado.web.HTTPError(400, "expected an object")
        return data

    async def run(self, function, *args):
        try:
            return await in_thread(function, *args)
        except exams.ExamRefused as refused:
            self.log.info("exam: refused %s %s: %s", self.request.method, self.request.path, refused.reason)
            raise tornado.web.HTTPError(refused.status, refused.reason) from None

    def write_error(self, status_code: int, **kwargs) -> None:
        error = kwargs.get("exc_info", (None, None))[1]
        reason = getattr(error, "log_message", None) or self._reason
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"message": reason}, ensure_ascii=False))

    async def state(self, blueprint) -> None:
        catalog, store = _catalog(self), records_of(self)
        state = await self.run(exams.exam_state, store, blueprint, catalog.bank, self.current_user.username, self.now())
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(state, ensure_ascii=False, default=str))


class ExamStateHandler(ExamAPI):
    @tornado.web.authenticated
    async def get(self, assessment_id: str):
        await self.state(_catalog(self).get(assessment_id))


class ExamStartHandler(ExamAPI):
    @tornado.web.authenticated
    async def post(self, assessment_id: str):
        catalog = _catalog(self)
        blueprint = catalog.get(assessment_id)
        await self.run(exams.start_attempt, records_of(self), blueprint, catalog.bank, self.current_user.username, self.now())
        await self.state(blueprint)


class ExamAnswerHandler(ExamAPI):
    @tornado.web.authenticated
    async def post(self, assessment_id: str):
        _catalog(self).get(assessment_id)
        data = self.body()
        attempt_id, item_id = data.get("attempt_id"), data.get("item_id")
        if not isinstance(attempt_id, int) or not isinstance(item_id, str):
            raise tornado.web.HTTPError(400, "attempt_id (integer) and item_id (text) are required")
        saved = await self.run(exams.save_answer, records_of(self), attempt_id, self.current_user.username, item_id,
                               data.get("answer"), self.now())
        self.finish(json.dumps({"saved": True, "item_id": item_id, "answer": saved}, ensure_ascii=False))


class ExamSubmitHandler(ExamAPI):
    @tornado.web.authenticated
    async def post(self, assessment_id: str):
        catalog = _catalog(self)
        blueprint = catalog.get(assessment_id)
        attempt_id = self.body().get("attempt_id")
        if not isinstance(attempt_id, int):
            raise tornado.web.HTTPError(400, "attempt_id (integer) is required")
        store = records_of(self)
        await self.run(exams.finish, store, blueprint, catalog.bank, attempt_id, self.current_user.username,
                       self.now(), "trainee")
        if not getattr(self.current_user, "is_staff", False):
            await in_thread(catalog.export, store, blueprint)
        await self.state(blueprint)


def exam_handlers(base_url: str, common: dict) -> list[tuple]:
    join = url_path_join
    api = r"/dangxiao/api/exam/([A-Za-z0-9_-]{1,64})"
    return [
        (join(base_url, r"/exam/([A-Za-z0-9_-]{1,64})"), ExamPage, {"voila_configuration": common["voila_configuration"]}),
        (join(base_url, api), ExamStateHandler),
        (join(base_url, api + "/start"), ExamStartHandler),
        (join(base_url, api + "/answer"), ExamAnswerHandler),
        (join(base_url, api + "/submit"), ExamSubmitHandler),
    ]
