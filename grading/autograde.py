"""Parallel, sandboxed, robust autograding on top of nbgrader.

`grade_assignment()` grades every submission of one assignment into the course's nbgrader gradebook
(the same database and the same grade/score rows `nbgrader autograde` writes). Each submission is
graded by nbgrader's own `Autograde` converter and preprocessors (ClearOutput, DeduplicateIds,
OverwriteKernelspec, OverwriteCells, CheckCellMetadata, Execute, IgnorePattern, LimitOutput,
SaveAutoGrades, AssignLatePenalties…), extended through its extension points:

* `SandboxedExecute` (a subclass of nbgrader's `Execute`) runs the kernel in a `Sandbox`
  (`dangxiao.grading.sandbox`), adds a per-notebook time cap on top of the per-cell timeout, caps
  output size while it is produced, and kills the kernel at once when done;
* gradebook-touching preprocessors are wrapped so their database work is serialised by one lock
  (`Gradebook*` subclasses below): worker threads execute kernels concurrently, SQLite sees one
  writer at a time;
* `SandboxedAutograde` (a subclass of `Autograde`) writes into a private staging folder; a
  successful result then replaces `autograded/<student>/<assignment>` with one rename, a failed one
  is kept beside it under `reports/autograde/` and the previous result stays in place (stock
  nbgrader deletes the autograded folder of a failed submission). `submitted/` is only read.

Why threads in one long-lived process: the expensive part is the kernel, a separate process, so the
Python side mostly waits on ZMQ; one process pays nbgrader's import cost once (not per call) and
shares one gradebook connection discipline. Measured by `benchmarks/autograde.py`.

威胁模型 / threat model
-----------------------
Defended (when run as root, which is how CI and the training centres run it):

* reading solutions, hidden tests, other submissions, the gradebook or `nbgrader_config.py`: the
  kernel runs as a uid of its own that is "other" to the course root, whose other-bits are removed
  while grading (`protect_course`); the working copy holds only the trainee's files and released
  data; notebooks (with hidden tests) are never written where the kernel can read them — cells go
  to the kernel over the Jupyter protocol from this process; `/proc/<grader>/cwd|environ|fd` are
  refused by the kernel's ptrace check (different uid);
* writing the gradebook, sources or config: same permissions; results are written by this process;
* endless loops, loops that ignore SIGINT, fork bombs, memory hogs, huge outputs, crashes: per-cell
  timeout with interrupt, a per-notebook cap, then SIGKILL of the process group and of every
  process of the uid; RLIMIT_AS / NPROC / FSIZE / CPU; output truncated while it arrives;
* one trainee interfering with another graded at the same time: different uids, private folders;
  kernels forked from the pre-imported template (`dangxiao.grading.zygote`) are copies of a process
  no trainee code ever ran in, so nothing carries over from one trainee to the next;
* hidden-test source reaching outputs (tracebacks quote failing lines; a hook can print later
  cells): `RedactHiddenTests` replaces such output lines before anything is saved;
* a symlink in a submission (nbgrader would copy its target with the grader's rights): rejected.

Not defended (stock nbgrader defends none of these either; a container or VM is the answer):

* code in the same interpreter as the tests can subvert them: it runs before the test cells and may
  monkeypatch builtins, register IPython hooks (e.g. an input transformer that rewrites later cells,
  or a pre_run_cell hook that prints later cells' source into its own output) or replace modules in
  `sys.modules`. Hidden-test source printed this way ends up in that trainee's own autograded
  output only; the feedback command should not trust outputs. A reviewer sees such code in the
  submission;
* network access (no network namespace is used) and reading world-readable files outside the
  course (the virtualenv, system files, other courses left world-readable);
* hidden tests leaving through the network or encoded beyond recognition in outputs (redaction
  matches whole source lines);
* when NOT run as root, the kernel runs as the grader's user: the working copy is still outside the
  course and limits still apply, but file permissions cannot stop it reading the course, and a
  process that leaves the kernel's process group (setsid) can outlive grading;
* two grading runs at once on different courses in the same git work tree: each restores the `.git`
  mode it found, so the later one may leave it without "other" bits (harmless for root, worth
  knowing). Runs on the same course wait for each other (`course_lock`).
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import math
import os
import re
import shutil
import threading
import time
import traceback
import uuid
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import nbformat
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from jupyter_core.utils import run_sync
from nbconvert.writers import FilesWriter
from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning
from nbgrader.converters import Autograde
from nbgrader.converters.base import BaseConverter, NbGraderException
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import (
    AssignLatePenalties,
    ClearHiddenTests,
    NbGraderPreprocessor,
    Execute,
    OverwriteCells,
    OverwriteKernelspec,
    SaveAutoGrades,
)
from traitlets import Integer
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from .hidden_tests import split_hidden
from .zygote import DEFAULT_PRELOAD, KernelZygote
from .sandbox import (
    KernelRuntime,
    Sandbox,
    SandboxKernelManager,
    SandboxLimits,
    UidPool,
    course_lock,
    make_sandbox_parent,
    protect_course,
    running_as_root,
)

__all__ = [
    "GradingOptions",
    "SubmissionResult",
    "GradingRun",
    "grade_assignment",
    "SandboxedExecute",
    "SandboxedAutograde",
    "NotebookTimeout",
]

STAGING_DIR = ".dangxiao-staging"
STATUS_OK = "已评分"
STATUS_FAILED = "失败"
STATUS_MISSING = "未找到"


class NotebookTimeout(Exception):
    """The whole notebook ran longer than its cap."""


class SubmissionRejected(Exception):
    """A submission that is not graded at all (its files are unsafe to copy)."""


# --- preprocessors -------------------------------------------------------------------------------

class SandboxedExecute(Execute):
    """nbgrader's Execute, with the kernel in a sandbox, a per-notebook cap and an output cap."""

    total_timeout = Integer(
        300,
        help="整本 notebook 的运行时间上限（秒）/ wall-clock cap for the whole notebook, in seconds; "
        "the per-cell limit is `Execute.timeout`",
    ).tag(config=True)

    max_output_bytes = Integer(
        1_000_000,
        help="单个单元格输出上限（字节），超出部分在产生时丢弃 / per-cell output cap in bytes; "
        "output beyond it is dropped as it arrives",
    ).tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", SandboxKernelManager)
        super().__init__(*args, **kwargs)
        # the sandbox is killed afterwards anyway: no graceful shutdown wait
        self.shutdown_kernel = "immediate"

    def preprocess(self, nb, resources=None, km=None):
        state = _state(resources)
        self._sandbox: Sandbox = state["sandbox"]
        self._notes: list[str] = state["notes"]
        self._notebook_name = resources["nbgrader"]["notebook"] + ".ipynb"
        self._run_log: logging.Logger = state["log"]
        self._deadline = time.monotonic() + self.total_timeout
        self._output_bytes: dict[int, int] = {}
        self._truncated: set[int] = set()
        resources.setdefault("metadata", {})["path"] = str(self._sandbox.work)
        return super().preprocess(nb, resources, km)

    def create_kernel_manager(self):
        km = super().create_kernel_manager()
        km.sandbox = self._sandbox
        return km

    async def async_start_new_kernel(self, **kwargs):
        started = time.monotonic()
        await super().async_start_new_kernel(**kwargs)
        self._sandbox.pgid = self.km.kernel_pgid
        self._run_log.info("kernel pid %s started in %.2fs", self._sandbox.pgid, time.monotonic() - started)

    async def async_start_new_kernel_client(self):
        started = time.monotonic()
        try:
            return await super().async_start_new_kernel_client()
        finally:
            self._run_log.info("kernel client ready in %.2fs", time.monotonic() - started)

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        started = time.monotonic()
        try:
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        finally:
            self._run_log.info("cell %d ran in %.2fs", cell_index, time.monotonic() - started)

    # nbclient binds its sync entry points to its own coroutines: rebind them to the overrides
    start_new_kernel = run_sync(async_start_new_kernel)
    start_new_kernel_client = run_sync(async_start_new_kernel_client)
    execute_cell = run_sync(async_execute_cell)

    def _get_timeout(self, cell):
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise NotebookTimeout(f"整本运行超过 {self.total_timeout} 秒上限 / notebook exceeded {self.total_timeout}s")
        per_cell = super()._get_timeout(cell)
        limit = remaining if per_cell is None else min(per_cell, remaining)
        return max(1, math.ceil(limit))

    async def _async_handle_timeout(self, timeout, cell=None):
        index = self.nb.cells.index(cell) + 1 if cell is not None and cell in self.nb.cells else "?"
        self._notes.append(f"{self._notebook_name}: 第 {index} 个单元格超时（{timeout} 秒）已中断 / cell timed out")
        return await super()._async_handle_timeout(timeout, cell)

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        size = len(str(content.get("text", ""))) + sum(len(str(v)) for v in content.get("data", {}).values())
        used = self._output_bytes.get(cell_index, 0) + size
        self._output_bytes[cell_index] = used
        if used > self.max_output_bytes:
            if cell_index not in self._truncated:
                self._truncated.add(cell_index)
                self._notes.append(f"{self._notebook_name}: 第 {cell_index + 1} 个单元格输出过长已截断 / output truncated")
                outs.append(nbformat.v4.new_output(
                    "stream", name="stderr",
                    text=f"\n…… 输出超过 {self.max_output_bytes} 字节，其余已截断 / output truncated ……\n"))
            return None
        return super().output(outs, msg, display_id, cell_index)


# per-converter state, found by the key the resources carry (objects there would be deep-copied)
_STATES: dict[str, dict] = {}


def _state(resources) -> dict:
    return _STATES[resources["dangxiao_key"]]


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class RedactHiddenTests(NbGraderPreprocessor):
    """Remove hidden-test source from the executed notebook's OUTPUTS.

    Hidden tests reach outputs two ways: IPython tracebacks quote the failing line (stock nbgrader
    shows it in feedback), and trainee code that ran earlier can print later cells' source from an
    IPython hook. Every output line containing a hidden-test line (ANSI colours ignored) is
    replaced. Cell sources and output types are untouched, so grades are the same.
    """

    min_length = Integer(8, help="只删去至少这么长的隐藏测试行 / shortest hidden line worth redacting").tag(config=True)

    def preprocess(self, nb, resources):
        clear = ClearHiddenTests(config=self.config)
        hidden: set[str] = set()
        for cell in nb.cells:
            lines = split_hidden(cell.source, clear.begin_test_delimeter, clear.end_test_delimeter)[1]
            hidden.update(line.strip() for line in lines if len(line.strip()) >= self.min_length)
        if hidden:
            for cell in nb.cells:
                for output in cell.get("outputs", []):
                    self._redact_output(output, hidden)
        return nb, resources

    @staticmethod
    def _redact_text(text: str, hidden: set[str]) -> str:
        lines = text.split("\n")
        for index, line in enumerate(lines):
            plain = _ANSI.sub("", line)
            if any(secret in plain for secret in hidden):
                lines[index] = "[隐藏测试内容已删去 / hidden test redacted]"
        return "\n".join(lines)

    def _redact_output(self, output, hidden: set[str]) -> None:
        if "text" in output:
            output.text = self._redact_text(output.text, hidden)
        if "traceback" in output:
            output.traceback = [self._redact_text(line, hidden) for line in output.traceback]
        if "evalue" in output:
            output.evalue = self._redact_text(output.evalue, hidden)
        for mime, value in output.get("data", {}).items():
            if mime.startswith("text/") and isinstance(value, str):
                output.data[mime] = self._redact_text(value, hidden)


class _SerialisedGradebook:
    """Mixin: run a gradebook-touching preprocessor under the run's database lock."""

    def preprocess(self, nb, resources):
        with _state(resources)["db_lock"]:
            return super().preprocess(nb, resources)


class GradebookOverwriteCells(_SerialisedGradebook, OverwriteCells):
    """OverwriteCells, one gradebook user at a time."""


class GradebookOverwriteKernelspec(_SerialisedGradebook, OverwriteKernelspec):
    """OverwriteKernelspec, one gradebook user at a time."""


class GradebookSaveAutoGrades(_SerialisedGradebook, SaveAutoGrades):
    """SaveAutoGrades, one gradebook writer at a time."""


class GradebookAssignLatePenalties(_SerialisedGradebook, AssignLatePenalties):
    """AssignLatePenalties, one gradebook writer at a time."""


_REPLACEMENTS = {
    Execute: SandboxedExecute,
    OverwriteCells: GradebookOverwriteCells,
    OverwriteKernelspec: GradebookOverwriteKernelspec,
    SaveAutoGrades: GradebookSaveAutoGrades,
    AssignLatePenalties: GradebookAssignLatePenalties,
}


def _sandboxed(preprocessors: Iterable) -> list:
    replaced = []
    for pp in preprocessors:
        replaced.append(_REPLACEMENTS.get(pp, pp))
        if pp is Execute:
            replaced.append(RedactHiddenTests)
    return replaced


# --- converter -----------------------------------------------------------------------------------

class SandboxedAutograde(Autograde):
    """nbgrader's Autograde for ONE submission, into a staging folder, kernel in a sandbox.

    `grade()` replaces `start()`: no `os.chdir` (threads share the cwd), no deletion of earlier
    output on failure (the caller decides what to keep), and the failing file is reported.
    """

    def __init__(self, *, sandbox: Sandbox, db_lock: threading.Lock, **kwargs):
        super().__init__(**kwargs)
        self.sandbox = sandbox
        self.db_lock = db_lock
        self.notes: list[str] = []
        self.current_file: str | None = None
        # nbconvert deep-copies resources between preprocessors: they carry only this key
        self.state_key = uuid.uuid4().hex
        _STATES[self.state_key] = {"sandbox": sandbox, "db_lock": db_lock, "notes": self.notes,
                                   "log": self.log}
        self.sanitize_preprocessors = _sandboxed(self.sanitize_preprocessors)
        self.autograde_preprocessors = _sandboxed(self.autograde_preprocessors)

    def init_single_notebook_resources(self, notebook_filename):
        resources = super().init_single_notebook_resources(notebook_filename)
        resources["dangxiao_key"] = self.state_key
        return resources

    def init_assignment(self, assignment_id, student_id):
        # nbgrader copies a submission's files with shutil.copy, which follows symlinks — as the
        # grader's user. A link to a solution would land, dereferenced, in the working copy.
        submitted = Path(self._format_source(assignment_id, student_id))
        for path in submitted.rglob("*"):
            if path.is_symlink():
                self.current_file = str(path)
                raise SubmissionRejected("提交中含符号链接，已拒绝 / submission contains a symbolic link")
        with self.db_lock:
            super().init_assignment(assignment_id, student_id)
        # the working copy = exactly the non-notebook files nbgrader just put in the output folder
        # (the trainee's extra files, then the released data files over them)
        dest = Path(self._format_dest(assignment_id, student_id))
        files = {
            path.relative_to(dest): path
            for path in dest.rglob("*")
            if path.is_file() and not path.is_symlink() and path.suffix != ".ipynb"
        }
        self.sandbox.add_files(files)
        self.sandbox.hand_over()

    def convert_single_notebook(self, notebook_filename):
        """Autograde's two passes (sanitize, then execute and save grades), without its
        `utils.setenv(NBGRADER_EXECUTION=…)`: that helper deletes the variable on exit, which races
        between threads (KeyError); sandboxed kernels get the variable in their own environment."""
        self.log.info("Sanitizing %s", notebook_filename)
        self._sanitizing = True
        self._init_preprocessors()
        BaseConverter.convert_single_notebook(self, notebook_filename)
        notebook_filename = os.path.join(self.writer.build_directory, os.path.basename(notebook_filename))
        self.log.info("Autograding %s", notebook_filename)
        self._sanitizing = False
        self._init_preprocessors()
        try:
            BaseConverter.convert_single_notebook(self, notebook_filename)
        finally:
            self._sanitizing = True

    def grade(self) -> None:
        self.init_notebooks()
        self.writer = FilesWriter(parent=self, config=self.config)
        self.exporter = self.exporter_class(parent=self, config=self.config)
        (folder, notebooks), = self.assignments.items()
        self.notebooks = sorted(notebooks)
        self.init_assignment(self.coursedir.assignment_id, self.coursedir.student_id)
        for notebook in self.notebooks:
            self.current_file = notebook
            self.convert_single_notebook(notebook)
        self.current_file = None
        self.set_permissions(self.coursedir.assignment_id, self.coursedir.student_id)

    def release_state(self) -> None:
        _STATES.pop(self.state_key, None)


# --- one run ---------------------------------------------------------------------------------------

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
    uid_base: int = 61000
    fork_kernels: bool = True              # fork kernels from a pre-imported zygote (see zygote.py)
    preload: tuple[str, ...] = DEFAULT_PRELOAD

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
    sandbox_uid: int | None = None          # the uid its kernel ran as (None: not root)

    @property
    def ok(self) -> bool:
        return self.status == STATUS_OK

    @property
    def problem(self) -> str:
        """问题 column: `file: cause`, then any notes (timeouts, truncation)."""
        parts = []
        if self.problem_file or self.cause:
            parts.append(f"{self.problem_file}: {self.cause}" if self.problem_file else self.cause)
        parts.extend(self.notes)
        return "；".join(parts)


class GradingRun:
    """Grade one assignment; `run()` returns one `SubmissionResult` per submission, sorted by student."""

    def __init__(self, options: GradingOptions, on_result: Callable[[SubmissionResult, int, int], None] | None = None,
                 log_file: Path | None = None) -> None:
        self.options = options
        self.on_result = on_result
        self.config = self._load_config()
        self.db_lock = threading.Lock()
        self.run_id = _dt.datetime.now().strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        self.staging_rel = f"{STAGING_DIR}/{self.run_id}"
        self.reports_dir = options.course / "reports" / "autograde"
        self.log = self._make_logger(log_file)
        self.sandboxed_uid = running_as_root()
        self.runtime = KernelRuntime.for_sandbox(self.sandboxed_uid)
        self._live: set[Sandbox] = set()
        self.zygote: KernelZygote | None = None
        self._live_lock = threading.Lock()

    # setup
    def _load_config(self) -> Config:
        config = Config()
        config_file = self.options.course / "nbgrader_config.py"
        if config_file.is_file():
            config.merge(PyFileConfigLoader(config_file.name, path=str(self.options.course)).load_config())
        config.CourseDirectory.root = str(self.options.course)
        if self.options.cell_timeout is not None:
            config.Execute.timeout = self.options.cell_timeout
        if self.options.notebook_timeout is not None:
            config.SandboxedExecute.total_timeout = self.options.notebook_timeout
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

    # running
    def run(self) -> list[SubmissionResult]:
        # nbgrader's own Gradebook.add_submission triggers this SQLAlchemy 2 warning (stock too)
        warnings.filterwarnings("ignore", category=SAWarning, module=r"nbgrader\.api")
        self.check_gradebook()
        students, missing = self.students()
        results = [SubmissionResult(s, self.options.assignment, STATUS_MISSING,
                                    problem_file=f"submitted/{s}/{self.options.assignment}",
                                    cause="没有这个学员的提交 / no submission folder") for s in missing]
        total = len(students) + len(missing)
        for done, result in enumerate(results, 1):
            self._report(result, done, total)
        if not students:
            return results
        with course_lock(self.options.course):
            return self._grade_all(students, results, total)

    def _grade_all(self, students: list[str], results: list[SubmissionResult], total: int) -> list[SubmissionResult]:
        protect = protect_course(self.options.course) if self.sandboxed_uid else contextlib.nullcontext()
        sandbox_parent = make_sandbox_parent()
        uids = UidPool(self.options.jobs, base=self.options.uid_base) if self.sandboxed_uid else None
        self.zygote = self._start_zygote(sandbox_parent) if self.options.fork_kernels else None
        try:
            with protect, shared_gradebook_engines(), ThreadPoolExecutor(max_workers=self.options.jobs,
                                             thread_name_prefix="dangxiao-grade") as pool:
                futures = [pool.submit(self._grade_one, s, sandbox_parent, uids) for s in students]
                try:
                    for done, future in enumerate(_as_completed(futures), len(results) + 1):
                        result = future.result()
                        with self.db_lock:
                            self._fill_scores([result])
                        results.append(result)
                        self._report(result, done, total)
                except KeyboardInterrupt:
                    for future in futures:
                        future.cancel()
                    self._kill_live_sandboxes()
                    raise
        finally:
            if self.zygote is not None:
                self.zygote.close()
            if uids is not None:
                uids.close()
            shutil.rmtree(sandbox_parent, ignore_errors=True)
            shutil.rmtree(self.options.course / self.staging_rel, ignore_errors=True)
            with contextlib.suppress(OSError):
                (self.options.course / STAGING_DIR).rmdir()
        return sorted(results, key=lambda r: r.student)

    def _start_zygote(self, sandbox_parent: Path) -> KernelZygote:
        home = sandbox_parent / "zygote-home"
        home.mkdir(mode=0o700)
        env = {
            "PATH": f"{os.path.dirname(self.runtime.executable)}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(home), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1", "PYTHONHASHSEED": "0",
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        }
        return KernelZygote(self.runtime, env, sandbox_parent / "zygote.log", preload=tuple(self.options.preload))

    def _report(self, result: SubmissionResult, done: int, total: int) -> None:
        if self.on_result is not None:
            self.on_result(result, done, total)

    def _kill_live_sandboxes(self) -> None:
        with self._live_lock:
            for sandbox in list(self._live):
                sandbox.kill_all(sandbox.pgid)

    def _grade_one(self, student: str, sandbox_parent: Path, uids: UidPool | None) -> SubmissionResult:
        started = time.monotonic()
        lease = uids.lease() if uids is not None else contextlib.nullcontext(None)
        with lease as uid:
            sandbox = Sandbox(sandbox_parent, uid, self.options.limits, label=_safe_label(student),
                              runtime=self.runtime)
            sandbox.zygote = self.zygote
            with self._live_lock:
                self._live.add(sandbox)
            converter = SandboxedAutograde(
                coursedir=self.coursedir(student, staging=True), config=self.config, log=self.log,
                sandbox=sandbox, db_lock=self.db_lock)
            result = SubmissionResult(student, self.options.assignment, STATUS_OK, sandbox_uid=uid)
            try:
                converter.grade()
            except BaseException as error:  # noqa: BLE001 - any failure stays with this submission
                result.status = STATUS_FAILED
                result.problem_file = self._relative(converter.current_file) or f"submitted/{student}/{self.options.assignment}"
                result.cause = describe_error(error)
                self.log.error("%s/%s failed:\n%s\nkernel output:\n%s", student, self.options.assignment,
                               traceback.format_exc(), sandbox.kernel_log_tail())
                if isinstance(error, KeyboardInterrupt):
                    raise
            finally:
                converter.release_state()
                sandbox.close(sandbox.pgid)
                with self._live_lock:
                    self._live.discard(sandbox)
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
        """Success: the staged output replaces autograded/<student>/<assignment> in one rename.
        Failure: the previous output stays; whatever was staged is kept under reports/."""
        course = self.options.course
        staged = course / self.staging_rel / result.student / result.assignment
        final = Path(self.coursedir(result.student).format_path(
            self.coursedir().autograded_directory, result.student, result.assignment))
        if result.ok:
            final.parent.mkdir(parents=True, exist_ok=True)
            retired = course / self.staging_rel / ".retired" / result.student
            if final.exists():
                retired.mkdir(parents=True, exist_ok=True)
                os.rename(final, retired / result.assignment)
            os.rename(staged, final)
            shutil.rmtree(retired, ignore_errors=True)
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


@contextlib.contextmanager
def shared_gradebook_engines() -> Iterable[None]:
    """One SQLAlchemy engine per database while grading, instead of one per `Gradebook(...)`.

    nbgrader's preprocessors open a new Gradebook — a new engine — about nine times per
    submission, and an engine's compiled-SQL cache lives and dies with it, so every query was
    compiled again each time (the largest CPU item of the grading process in a profile). Same SQL,
    same rows; engines are thread-safe, each Gradebook still has its own session. nbgrader has no
    hook for this, so `nbgrader.api.create_engine` is swapped for the run and restored after.
    """
    import nbgrader.api as nbgrader_api

    original = nbgrader_api.create_engine
    engines: dict = {}
    lock = threading.Lock()

    def create_shared_engine(url, **kwargs):
        key = (str(url), tuple(sorted(kwargs.items())))
        with lock:
            if key not in engines:
                engines[key] = original(url, **kwargs)
            return engines[key]

    nbgrader_api.create_engine = create_shared_engine
    try:
        yield
    finally:
        nbgrader_api.create_engine = original
        for engine in engines.values():
            engine.dispose()


def _as_completed(futures):
    from concurrent.futures import as_completed

    return as_completed(futures)


def _safe_label(student: str) -> str:
    return "".join(ch for ch in student if ch.isascii() and (ch.isalnum() or ch in "-_"))[:24]


def describe_error(error: BaseException) -> str:
    """A one-line Chinese cause for the summary (English in brackets for searching logs)."""
    text = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
    if isinstance(error, (NotebookTimeout, SubmissionRejected)):
        return str(error)
    if isinstance(error, CellTimeoutError):
        return "单元格超时且无法中断（代码可能屏蔽了 SIGINT），内核已强制结束 / cell timed out, kernel unresponsive, killed"
    if isinstance(error, DeadKernelError):
        return "内核意外退出（崩溃或超出内存限制）/ kernel died (crash or memory limit)"
    if isinstance(error, nbformat.reader.NotJSONError) or "does not appear to be JSON" in text:
        return "不是合法的 notebook JSON（文件损坏或被截断）/ not valid notebook JSON (corrupt or truncated)"
    if isinstance(error, nbformat.ValidationError):
        return f"notebook 格式不合法 / invalid notebook: {text}"
    if isinstance(error, NbGraderException):
        return f"nbgrader 拒绝了这份提交 / nbgrader refused it: {text}"
    if isinstance(error, KeyboardInterrupt):
        return "评分被中断 / grading interrupted"
    return f"{type(error).__name__}: {text}"


def grade_assignment(options: GradingOptions, on_result=None, log_file: Path | None = None) -> list[SubmissionResult]:
    """Grade every (or the chosen) submission of `options.assignment`; see `GradingRun`."""
    return GradingRun(options, on_result=on_result, log_file=log_file).run()
