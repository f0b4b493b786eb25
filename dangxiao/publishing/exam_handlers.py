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
from dangxiao.publishing.records_handlers import RecordsPage, StaffPage
from dangxiao.records import exams

__all__ = ["ExamCatalog", "CourseExporter", "OutboxExporter", "exam_handlers", "SWEEP_SECONDS",
           "parse_object", "answer_fields", "attempt_field", "run_refusing", "error_json", "now_utc", "export_quietly"]

SWEEP_SECONDS = 30
log = logging.getLogger(__name__)


class CourseExporter:
    """`dangxiao serve`: a finished paper becomes an nbgrader submission in the course, at once."""

    def __init__(self, course: Path):
        self.course = Path(course)

    def __call__(self, store, blueprint, bank, attempt) -> None:
        try:
            exams.export_attempt(store, blueprint, bank, attempt, self.course)
        except OSError as error:
            raise DangxiaoError(f"{error.filename or self.course}: 无法写入提交（{error.strerror}）/ cannot write") from None


class OutboxExporter:
    """JupyterHub: the records service cannot enter a course folder, so a finished paper is left in its
    course's outbox folder for that course's grader (`dangxiao.assessments.handoff`)."""

    def __init__(self, outbox: Path, course_of: dict[str, str]):
        self.outbox, self.course_of = Path(outbox), dict(course_of)

    def __call__(self, store, blueprint, bank, attempt) -> None:
        from dangxiao.assessments.handoff import write_attempt_file

        if not blueprint.counted:
            return
        course = self.course_of.get(attempt.account_id)
        if course is None:
            raise DangxiaoError(f"学员 {attempt.account_id} 不在任何课程的名单中（courses.yaml）：试卷留在记录中 / "
                                "the trainee is in no course: the paper stays in the record")
        folder = self.outbox / course
        if not folder.is_dir():
            raise DangxiaoError(f"{folder}: 课程的试卷目录不存在（运行 setup_centre.py）/ the course's outbox is missing")
        try:
            record = exams.attempt_file(store, attempt)
        except ValueError as error:  # pydantic: e.g. a hub name nbgrader cannot take as a folder name
            raise DangxiaoError(f"学员 {attempt.account_id} 的试卷无法写出（学员 id 须为 ASCII 字母、数字、- 或 _）/ "
                                f"cannot be written: {error.errors()[0]['msg'] if hasattr(error, 'errors') else error}") from None
        try:
            write_attempt_file(folder, record)
        except OSError as error:  # e.g. the folder's owner or mode was changed by hand
            raise DangxiaoError(f"{folder}: 无法写入试卷（{error.strerror}）/ cannot write the paper") from None
        exams.mark_exported(store, attempt.id)


class ExamCatalog:
    """The course's blueprints (`assignments/assessments/*.yaml`) checked against the bank at start. A bad
    blueprint is refused with its one-line error in the log and left out; the rest of the site goes on.

    `course`: the nbgrader course a counted test must have been built into (`dangxiao serve`); None where
    the grading happens elsewhere (the hub's records service). `exporter` hands each finished paper on."""

    def __init__(self, folder: Path, course: Path | None, exporter=None):
        from dangxiao.assessments.blueprint import load_blueprint
        from dangxiao.questions import load_bank

        self.course = course
        self.exporter = exporter if exporter is not None else (CourseExporter(course) if course is not None else None)
        self._reported: set[tuple[int, str]] = set()  # (attempt, error) already in the log: the sweep retries quietly
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
        if not blueprint.counted or self.course is None:
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
        """Hand on the finished attempts of `blueprint` not yet handed on (staff attempts are tries)."""
        if self.exporter is None or not blueprint.counted:
            return
        staff = {a.id for a in store.accounts() if a.is_staff}
        for attempt in exams.attempts_of(store, None, blueprint.id):
            if attempt.open or attempt.exported_at is not None or attempt.account_id in staff:
                continue
            try:
                self.exporter(store, blueprint, self.bank, attempt)
            except Exception as error:  # noqa: BLE001 -- e.g. not released yet: kept in the record, retried
                if (attempt.id, repr(error)) not in self._reported:  # once, not every 30 s for every paper
                    self._reported.add((attempt.id, repr(error)))
                    log.error("试卷未能写入 nbgrader（记录已保存，每 %d 秒重试）/ export failed, kept and retried: %s",
                              SWEEP_SECONDS, error, exc_info=not isinstance(error, DangxiaoError))


def _catalog(handler) -> ExamCatalog:
    return handler.settings["dangxiao_exams"]


# -- what both sites' exam API handlers share (this one's, and the hub records service's) --------------

def parse_object(body: bytes) -> dict:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        raise tornado.web.HTTPError(400, "malformed JSON") from None
    if not isinstance(data, dict):
        raise tornado.web.HTTPError(400, "expected an object")
    return data


def answer_fields(data: dict) -> tuple[int, str, object]:
    attempt_id, item_id = data.get("attempt_id"), data.get("item_id")
    if not isinstance(attempt_id, int) or not isinstance(item_id, str):
        raise tornado.web.HTTPError(400, "attempt_id (integer) and item_id (text) are required")
    return attempt_id, item_id, data.get("answer")


def attempt_field(data: dict) -> int:
    attempt_id = data.get("attempt_id")
    if not isinstance(attempt_id, int):
        raise tornado.web.HTTPError(400, "attempt_id (integer) is required")
    return attempt_id


async def run_refusing(handler, function, *args):
    """`function(*args)` in a thread; an ExamRefused becomes its HTTP status with the reason."""
    try:
        return await in_thread(function, *args)
    except exams.ExamRefused as refused:
        log.info("exam: refused %s %s: %s", handler.request.method, handler.request.path, refused.reason)
        raise tornado.web.HTTPError(refused.status, refused.reason) from None


def error_json(handler, status_code: int, **kwargs) -> None:
    """The page script shows `message`: the refusal's own words, not the HTTP reason phrase."""
    error = kwargs.get("exc_info", (None, None))[1]
    reason = getattr(error, "log_message", None) or handler._reason
    handler.set_header("Content-Type", "application/json")
    handler.finish(json.dumps({"message": reason}, ensure_ascii=False))


async def export_quietly(catalog: ExamCatalog, store, blueprint) -> None:
    """Hand the papers on right after 交卷; whatever goes wrong there, the trainee's paper is already
    finished and kept, so they get their page, and the sweep tries again (its own log says why)."""
    try:
        await in_thread(catalog.export, store, blueprint)
    except Exception:  # noqa: BLE001 -- the record is intact; never a 500 after a successful 交卷
        log.exception("交卷后写出试卷失败，稍后重试 / handing the paper on failed, retried by the sweep")


def now_utc() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


class ExamPage(RecordsPage):
    @tornado.web.authenticated
    def get(self, assessment_id: str):
        blueprint = _catalog(self).get(assessment_id)
        self.page("exam.html", assessment_id=blueprint.id, title=blueprint.title)


class ExamAPI(APIHandler):
    def now(self) -> _dt.datetime:
        return now_utc()

    def body(self) -> dict:
        return parse_object(self.request.body)

    async def run(self, function, *args):
        return await run_refusing(self, function, *args)

    def write_error(self, status_code: int, **kwargs) -> None:
        error_json(self, status_code, **kwargs)

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
        attempt_id, item_id, answer = answer_fields(self.body())
        saved = await self.run(exams.save_answer, records_of(self), attempt_id, self.current_user.username, item_id,
                               answer, self.now())
        self.finish(json.dumps({"saved": True, "item_id": item_id, "answer": saved}, ensure_ascii=False))


class ExamSubmitHandler(ExamAPI):
    @tornado.web.authenticated
    async def post(self, assessment_id: str):
        catalog = _catalog(self)
        blueprint = catalog.get(assessment_id)
        attempt_id = attempt_field(self.body())
        store = records_of(self)
        await self.run(exams.finish, store, blueprint, catalog.bank, attempt_id, self.current_user.username,
                       self.now(), "trainee")
        if not getattr(self.current_user, "is_staff", False):
            await export_quietly(catalog, store, blueprint)
        await self.state(blueprint)


class ExamReleaseHandler(StaffPage):
    """The class page's 公布成绩: what `dangxiao exam release-results <id>` does, for an instructor."""

    @tornado.web.authenticated
    async def post(self, assessment_id: str):
        self.prepare_staff()
        blueprint = _catalog(self).get(assessment_id)
        count = await in_thread(exams.release_results, records_of(self), blueprint)
        log.info("%s released the results of %s (%d papers)", self.current_user.username, blueprint.id, count)
        self.redirect(url_path_join(self.base_url, "dangxiao/class"))


def exam_handlers(base_url: str, common: dict) -> list[tuple]:
    join = url_path_join
    api = r"/dangxiao/api/exam/([A-Za-z0-9_-]{1,64})"
    return [
        (join(base_url, r"/exam/([A-Za-z0-9_-]{1,64})"), ExamPage, {"voila_configuration": common["voila_configuration"]}),
        (join(base_url, api), ExamStateHandler),
        (join(base_url, api + "/start"), ExamStartHandler),
        (join(base_url, api + "/answer"), ExamAnswerHandler),
        (join(base_url, api + "/submit"), ExamSubmitHandler),
        (join(base_url, r"/dangxiao/class/exam/([A-Za-z0-9_-]{1,64})/release-results"), ExamReleaseHandler,
         {"voila_configuration": common["voila_configuration"]}),
    ]
