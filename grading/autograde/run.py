"""One `dangxiao autograde` run: every submission of an assignment, in parallel, each kernel in the
sandbox, into the course's nbgrader gradebook and `autograded/`.

Each submission is graded by nbgrader's own Autograde converter and preprocessors
(`SandboxedAutograde`), on worker threads of one long-lived process: the expensive part is the
kernel, a separate process, so the Python side mostly waits on ZMQ; one process pays nbgrader's
import cost once and shares one gradebook discipline (`serialised`). Kernels are forked from the
sandboxed zygote (`dangxiao.grading.sandbox`).

Crash safety: nothing in the course is chmod-ed or mounted, so there is nothing to restore; a
result is published in one atomic step (`publish`); a run killed at any moment leaves at most
its staging folder, which the next run clears after putting back any result it had retired
(`recover`); the sandboxes die with the process (`--die-with-parent`, pid namespaces).

威胁模型 / threat model: see `dangxiao.grading.sandbox`.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import os
import shutil
import threading
import time
import traceback
import uuid
import warnings
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory
from sqlalchemy.exc import SAWarning
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from .. import compat
from ..sandbox.host import SandboxHost
from ..sandbox.limits import SandboxLimits
from ..sandbox.lock import course_lock
from ..sandbox.provisioner import DEFAULT_PRELOAD
from .converter import SandboxedAutograde
from .errors import describe_error
from .execute import UNCONFINED_NOTE
from .publish import STAGING_DIR, publish, recover

__all__ = ["GradingOptions", "SubmissionResult", "GradingRun", "grade_assignment",
           "STATUS_OK", "STATUS_FAILED", "STATUS_MISSING"]

STATUS_OK = "已评分"
STATUS_FAILED = "失败"
STATUS_MISSING = "未找到"


@dataclass
class GradingOptions:
    """What `dangxiao autograde` was asked to do (validated on creation)."""

    course: Path
    assignment: str
    jobs: int = 2
    students: list[str] | None = None
    cell_timeout: int | None = None        # None: the course config / nbgrader default (30 s)
    notebook_timeout: int | None = None    # None: SandboxedExecute.total_timeout (300 s)
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    uid_base: int = 61000                  # as root: first uid tried for the sandbox account
    fork_kernels: bool = True              # fork kernels from the sandboxed zygote
    preload: tuple[str, ...] | None = None  # None: the course config's, else numpy and pandas
    no_sandbox: bool = False               # --no-sandbox: trainee code unconfined, said everywhere

    def __post_init__(self) -> None:
        self.course = Path(self.course).resolve()
        if not self.course.is_dir():
            raise ValueError(f"{self.course}: 课程目录不存在 / course folder not found")
        if self.jobs < 1:
            raise ValueError(f"--jobs 必须 ≥ 1 / must be ≥ 1: {self.jobs}")
        for name in ("cell_timeout", "notebook_timeout"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} 必须为正数 / must be positive: {value}")


@dataclass
class SubmissionResult:
    """One row of the summary."""

    student: str
    assignment: str
    status: str
    score: float | None = None
    max_score: float | None = None
    problem_file: str = ""
    cause: str = ""
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    kept_failed_output: str = ""
    sandboxed: bool = True

    @property
    def ok(self) -> bool:
        return self.status == STATUS_OK

    @property
    def problem(self) -> str:
        """问题 column: `file: cause`, then any notes (timeouts, truncation, no sandbox)."""
        parts = []
        if not self.sandboxed:
            parts.append(UNCONFINED_NOTE)
        if self.problem_file or self.cause:
            parts.append(f"{self.problem_file}: {self.cause}" if self.problem_file else self.cause)
        parts.extend(note for note in self.notes if UNCONFINED_NOTE not in note)
        return "；".join(parts)


class GradingRun:
    """Grade one assignment; `run()` returns one `SubmissionResult` per submission, sorted by student."""

    def __init__(self, options: GradingOptions, on_result: Callable[[SubmissionResult, int, int], None] | None = None,
                 log_file: Path | None = None) -> None:
        self.options = options
        self.on_result = on_result
        self.preload: tuple[str, ...] = DEFAULT_PRELOAD
        self.config = self._load_config()
        self.db_lock = threading.Lock()
        self.run_id = _dt.datetime.now().strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        self.staging_rel = f"{STAGING_DIR}/{self.run_id}"
        self.reports_dir = options.course / "reports" / "autograde"
        self.log = self._make_logger(log_file)

    # setup
    def _load_config(self) -> Config:
        options = self.options
        config = Config()
        config_file = options.course / "nbgrader_config.py"
        if config_file.is_file():
            config.merge(PyFileConfigLoader(config_file.name, path=str(options.course)).load_config())
        config.CourseDirectory.root = str(options.course)
        if options.cell_timeout is not None:
            config.Execute.timeout = options.cell_timeout
        if options.notebook_timeout is not None:
            config.SandboxedExecute.total_timeout = options.notebook_timeout
        config.SandboxedExecute.sandbox = not options.no_sandbox
        provisioner = config.BubblewrapProvisioner
        limits = options.limits
        provisioner.memory_mb, provisioner.max_processes = limits.memory_mb, limits.max_processes
        provisioner.max_file_mb, provisioner.cpu_seconds = limits.max_file_mb, limits.cpu_seconds
        provisioner.tmpfs_mb = limits.tmpfs_mb
        provisioner.fork_kernels = options.fork_kernels
        if options.preload is not None:
            provisioner.preload = list(options.preload)
        self.preload = tuple(provisioner.preload) if "preload" in provisioner else DEFAULT_PRELOAD
        provisioner.uid_base = options.uid_base
        return config

    def _make_logger(self, log_file: Path | None) -> logging.Logger:
        logger = logging.getLogger(f"dangxiao.autograde.{self.run_id}")
        logger.propagate = False
        logger.setLevel(logging.INFO)
        if log_file is not None:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.FileHandler(log_file, encoding="utf-8")
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
            logger.addHandler(handler)
        else:
            logger.addHandler(logging.NullHandler())
        return logger

    def coursedir(self, student: str | None = None, staging: bool = False) -> CourseDirectory:
        kwargs = {"assignment_id": self.options.assignment}
        if student is not None:
            kwargs["student_id"] = student
        if staging:
            kwargs["autograded_directory"] = self.staging_rel
        return CourseDirectory(config=self.config, **kwargs)

    def final_path(self, student: str, assignment: str) -> Path:
        coursedir = self.coursedir(student)
        return Path(coursedir.format_path(coursedir.autograded_directory, student, assignment))

    def students(self) -> tuple[list[str], list[str]]:
        """(students with a submission folder, requested students without one)."""
        submitted = Path(self.coursedir().format_path(self.coursedir().submitted_directory, ".", "."))
        found = sorted(
            entry.name for entry in submitted.iterdir()
            if (entry / self.options.assignment).is_dir()
        ) if submitted.is_dir() else []
        if not self.options.students:
            return found, []
        wanted = list(dict.fromkeys(self.options.students))
        return [s for s in wanted if s in found], [s for s in wanted if s not in found]

    def check_gradebook(self) -> None:
        coursedir = self.coursedir()
        db_file = Path(coursedir.root) / "gradebook.db"
        if coursedir.db_url.startswith("sqlite:///") and not db_file.exists():
            raise FileNotFoundError(f"{db_file}: 成绩册不存在，请先生成作业 / no gradebook: release the assignment first")
        with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
            try:
                gb.find_assignment(self.options.assignment)
            except MissingEntry:
                raise LookupError(
                    f"{db_file.name}: 成绩册中没有作业 {self.options.assignment}，请先生成（dangxiao release）"
                    f" / assignment not in the gradebook") from None

    def sandbox_host(self) -> SandboxHost | None:
        """The sandboxes' host side, started now so a machine that cannot sandbox is refused before
        anything is graded (`SandboxUnavailable`), and the zygote imports while we prepare."""
        if self.options.no_sandbox:
            self.log.warning(UNCONFINED_NOTE)
            return None
        host = SandboxHost.shared(self.preload, self.options.fork_kernels, self.options.uid_base)
        host.zygote()
        return host

    # running
    def run(self) -> list[SubmissionResult]:
        # nbgrader's own Gradebook.add_submission triggers this SQLAlchemy 2 warning (stock too)
        warnings.filterwarnings("ignore", category=SAWarning, module=r"nbgrader\.api")
        self.check_gradebook()
        students, missing = self.students()
        # refused here, before anything is graded, if no sandbox can start; the zygote then imports
        # its libraries while the first submissions are prepared
        host = self.sandbox_host() if students else None
        results = [SubmissionResult(s, self.options.assignment, STATUS_MISSING,
                                    problem_file=f"submitted/{s}/{self.options.assignment}",
                                    cause="没有这个学员的提交 / no submission folder",
                                    sandboxed=not self.options.no_sandbox) for s in missing]
        total = len(students) + len(missing)
        for done, result in enumerate(results, 1):
            self._report(result, done, total)
        if not students:
            return results
        try:
            with course_lock(self.options.course):
                for path in recover(self.options.course, self.final_path):
                    self.log.warning("restored %s (a killed run had retired it)", path)
                return self._grade_all(students, results, total)
        finally:
            if host is not None:
                SandboxHost.close_all()

    def _grade_all(self, students: list[str], results: list[SubmissionResult], total: int) -> list[SubmissionResult]:
        try:
            with compat.shared_gradebook_engines(), ThreadPoolExecutor(
                    max_workers=self.options.jobs, thread_name_prefix="dangxiao-grade") as pool:
                futures = [pool.submit(self._grade_one, s) for s in students]
                try:
                    for done, future in enumerate(as_completed(futures), len(results) + 1):
                        result = future.result()
                        with self.db_lock:
                            self._fill_scores([result])
                        results.append(result)
                        self._report(result, done, total)
                except KeyboardInterrupt:
                    for future in futures:
                        future.cancel()
                    SandboxHost.close_all()  # the zygote's kernels die with it
                    raise
        finally:
            shutil.rmtree(self.options.course / self.staging_rel, ignore_errors=True)
            with contextlib.suppress(OSError):
                (self.options.course / STAGING_DIR).rmdir()
        return sorted(results, key=lambda r: r.student)

    def _report(self, result: SubmissionResult, done: int, total: int) -> None:
        if self.on_result is not None:
            self.on_result(result, done, total)

    def _grade_one(self, student: str) -> SubmissionResult:
        started = time.monotonic()
        converter = SandboxedAutograde(
            coursedir=self.coursedir(student, staging=True), config=self.config, log=self.log,
            db_lock=self.db_lock)
        result = SubmissionResult(student, self.options.assignment, STATUS_OK, sandboxed=not self.options.no_sandbox)
        try:
            converter.grade()
        except BaseException as error:  # noqa: BLE001 - any failure stays with this submission
            result.status = STATUS_FAILED
            result.problem_file = self._relative(converter.current_file) or f"submitted/{student}/{self.options.assignment}"
            result.cause = describe_error(error)
            self.log.error("%s/%s failed:\n%s", student, self.options.assignment, traceback.format_exc())
            if isinstance(error, KeyboardInterrupt):
                raise
        finally:
            converter.release_state()
        result.notes = list(dict.fromkeys(converter.notes))
        self._publish(result)
        result.seconds = time.monotonic() - started
        return result

    def _relative(self, path: str | None) -> str:
        if not path:
            return ""
        absolute = os.path.abspath(path)  # not resolve(): a symlink must be named, not its target
        if absolute.startswith(str(self.options.course) + os.sep):
            return os.path.relpath(absolute, self.options.course)
        return path

    def _publish(self, result: SubmissionResult) -> None:
        """Success: the staged output replaces autograded/<student>/<assignment> atomically.
        Failure: the previous output stays; whatever was staged is kept under reports/."""
        course = self.options.course
        staged = course / self.staging_rel / result.student / result.assignment
        if result.ok:
            publish(staged, self.final_path(result.student, result.assignment),
                    course / self.staging_rel / ".retired" / result.student / result.assignment)
        elif staged.exists():
            kept = self.reports_dir / f"{result.assignment}-{self.run_id}-failed" / result.student
            kept.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(staged), str(kept))
            result.kept_failed_output = str(kept.relative_to(course))

    def _fill_scores(self, results: list[SubmissionResult]) -> None:
        coursedir = self.coursedir()
        with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
            for result in results:
                with contextlib.suppress(MissingEntry):
                    submission = gb.find_submission(result.assignment, result.student)
                    result.max_score = submission.max_score
                    if result.ok:
                        result.score = submission.score


def grade_assignment(options: GradingOptions, on_result=None, log_file: Path | None = None) -> list[SubmissionResult]:
    """Grade every (or the chosen) submission of `options.assignment`; see `GradingRun`."""
    return GradingRun(options, on_result=on_result, log_file=log_file).run()
