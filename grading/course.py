"""The nbgrader course: find it, load its config, and run nbgrader's own apps on it in-process.

Every instructor-facing command (`dangxiao release`, `feedback`, `lab`, `autograde`) goes through
these helpers so they all read the same `nbgrader_config.py` and never depend on the caller's cwd or
on `~/.jupyter` config files. nbgrader does the work (`NbGraderAPI`, its converters and exchange);
this module only prepares the configuration and turns nbgrader's result dicts into clear errors.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Iterable

from traitlets import Dict, Unicode
from traitlets.config import Config, Configurable
from traitlets.config.loader import ConfigFileNotFound, PyFileConfigLoader

from dangxiao.errors import DangxiaoError

__all__ = [
    "CONFIG_FILE",
    "CourseInfo",
    "find_course",
    "load_course_config",
    "course_info",
    "assignment_ids",
    "ensure_tools_on_path",
    "course_api",
    "check_result",
    "collect_zip",
]

CONFIG_FILE = "nbgrader_config.py"


class CourseInfo(Configurable):
    """What people see of the course: Chinese titles (nbgrader ids must stay ASCII)."""

    title = Unicode("", help="课程显示名称 / display title of the course (Chinese allowed)").tag(config=True)
    assignment_titles = Dict(
        key_trait=Unicode(),
        value_trait=Unicode(),
        help="作业 id → 中文标题 / assignment id -> display title",
    ).tag(config=True)

    def assignment_title(self, assignment_id: str) -> str:
        return self.assignment_titles.get(assignment_id, assignment_id)


def find_course(course: str | os.PathLike | None = None) -> Path:
    """The course root: `course`, else `$DANGXIAO_COURSE`, else the checkout's `assignments/`."""
    if course is None:
        course = os.environ.get("DANGXIAO_COURSE")
    if course is None:
        from dangxiao.paths import assignments_dir

        course = assignments_dir()
    root = Path(course).expanduser().resolve()
    if not (root / CONFIG_FILE).is_file():
        raise DangxiaoError(f"{root / CONFIG_FILE}: 找不到课程配置 / not an nbgrader course (no {CONFIG_FILE})")
    return root


def load_course_config(course_dir: Path, extra: Config | None = None) -> Config:
    """The course's `nbgrader_config.py` (only that file), with `extra` merged on top."""
    loader = PyFileConfigLoader(CONFIG_FILE, path=str(course_dir))
    try:
        config = loader.load_config()
    except ConfigFileNotFound as error:
        raise DangxiaoError(f"{course_dir / CONFIG_FILE}: 找不到课程配置 / missing") from error
    except Exception as error:  # a syntax error in the config file is the user's to fix
        raise DangxiaoError(f"{course_dir / CONFIG_FILE}: 配置文件有误 / bad config: {error}") from error
    # The config sets the root from its own location; make sure it is this folder even if it does not.
    config.CourseDirectory.root = str(course_dir)
    if extra is not None:
        config.merge(extra)
    return config


def course_info(config: Config) -> CourseInfo:
    return CourseInfo(config=config)


def assignment_ids(course_dir: Path) -> list[str]:
    """The assignments with a source folder, in order."""
    source = course_dir / "source"
    return sorted(p.name for p in source.iterdir() if p.is_dir() and not p.name.startswith(".")) if source.is_dir() else []


def ensure_tools_on_path() -> None:
    """nbgrader runs `alembic` from PATH when it creates a gradebook: put this Python's bin first."""
    bin_dir = str(Path(sys.executable).parent)
    if shutil.which("alembic") is None or bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def course_api(course_dir: Path, extra: Config | None = None):
    """An `nbgrader.apps.api.NbGraderAPI` on the course, configured from its config file only."""
    ensure_tools_on_path()
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    config = load_course_config(course_dir, extra)
    exchange_root = config.Exchange.get("root") if "Exchange" in config else None
    if exchange_root:
        Path(exchange_root).mkdir(parents=True, exist_ok=True)
    coursedir = CourseDirectory(config=config)
    return NbGraderAPI(coursedir=coursedir, config=config)


def check_result(result: dict | None, what: str) -> str:
    """nbgrader's API returns {'success', 'log', 'error'}; raise a one-line error when it failed."""
    if result is None:
        raise DangxiaoError(f"{what}: nbgrader 交换目录在本平台不可用 / exchange unavailable on this platform")
    log = result.get("log", "") or ""
    if not result.get("success"):
        detail = _last_error_line(log) or _last_error_line(result.get("error", "")) or "未知错误 / unknown error"
        raise DangxiaoError(f"{what}: {detail}")
    return log


def _last_error_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith(("[ERROR]", "[CRITICAL]")) or "Error" in line.split(":")[0]:
            return line
    return lines[-1] if lines else ""


def collect_zip(course_dir: Path, assignment_id: str, zips: Iterable[os.PathLike | str],
                extra: Config | None = None) -> str:
    """Collect trainees' files from zip archives with nbgrader's `ZipCollectApp`.

    The archives are copied (never moved) into `downloaded/<assignment>/archive/`; nbgrader extracts
    them and files each into `submitted/<student>/<assignment>/` using its FileNameCollectorPlugin
    (file names like `<student>_<assignment>_<notebook>.ipynb`, configurable via
    `FileNameCollectorPlugin.named_regexp`).
    """
    ensure_tools_on_path()
    from nbgrader.apps.zipcollectapp import ZipCollectApp

    archive_dir = course_dir / "downloaded" / assignment_id / "archive"
    archive_dir.mkdir(parents=True, exist_ok=True)
    for item in zips:
        path = Path(item)
        if not path.is_file():
            raise DangxiaoError(f"{path}: 找不到文件 / file not found")
        target = archive_dir / path.name
        if target.exists():
            raise DangxiaoError(f"{target}: 已存在同名文件，未覆盖 / already there, not overwritten")
        shutil.copy2(path, target)
    config = load_course_config(course_dir, extra)
    config.CourseDirectory.assignment_id = assignment_id
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log

    app = ZipCollectApp(config=config)
    # initialize() would also read ~/.jupyter and cwd config; the course config alone is wanted
    app.coursedir = CourseDirectory(parent=app)

    return check_result(capture_log(app), f"{course_dir}: zip_collect {assignment_id}")
