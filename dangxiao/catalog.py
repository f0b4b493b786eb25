"""The course catalog (`courses/catalog.yaml`): modules and lessons in teaching order.

    title: 基层治理现代化专题课程
    modules:
      - id: m1
        title: 模块一　三个坚持
        lessons:
          - id: m1-l1
            title: 坚持党的全面领导
            notebook: m1_01_leadership.ipynb   # relative to courses/, ASCII file name
            minutes: 40                          # duration, used for 学时 credit

The gallery, the 学时 report and `dangxiao validate` all read it through `load_catalog()`.
"""
from __future__ import annotations

import re
from functools import lru_cache
from dataclasses import dataclass
from pathlib import Path

import yaml

from dangxiao.errors import DangxiaoError

__all__ = ["Lesson", "Module", "Catalog", "load_catalog"]

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
NOTEBOOK_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]*\.ipynb$")


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    notebook: str
    minutes: int
    module_id: str


@dataclass(frozen=True)
class Module:
    id: str
    title: str
    lessons: tuple[Lesson, ...]


@dataclass(frozen=True)
class Catalog:
    title: str
    modules: tuple[Module, ...]
    root: Path

    @property
    def lessons(self) -> list[Lesson]:
        return [lesson for module in self.modules for lesson in module.lessons]

    def lesson(self, lesson_id: str) -> Lesson:
        for lesson in self.lessons:
            if lesson.id == lesson_id:
                return lesson
        raise DangxiaoError(f"{self.root / 'catalog.yaml'}: 没有课程 '{lesson_id}' / no such lesson")

    def missing_notebooks(self) -> list[str]:
        return [lesson.notebook for lesson in self.lessons if not (self.root / lesson.notebook).is_file()]

    def unlisted_notebooks(self) -> list[str]:
        listed = {lesson.notebook for lesson in self.lessons}
        found = {str(p.relative_to(self.root)) for p in self.root.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts}
        return sorted(found - listed)


def _fail(path: Path, where: str, reason: str) -> DangxiaoError:
    return DangxiaoError(f"{path}: {where}: {reason}")


def load_catalog(courses: Path | str | None = None) -> Catalog:
    """Load and validate the catalog of a courses folder (default: the project's `courses/`).

    The site reads it on every page and event, so an edited catalog shows without a restart; parsing
    the YAML took ~16 ms a call (benchmarks/records.py), so a catalog is parsed again only when the
    file's modification time or size changed."""
    if courses is None:
        from dangxiao.paths import courses_dir
        courses = courses_dir()
    root = Path(courses)
    path = root / "catalog.yaml"
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise DangxiaoError(f"{path}: 文件不存在 / catalog not found") from None
    return _parsed_catalog(root, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=16)
def _parsed_catalog(root: Path, mtime_ns: int, size: int) -> Catalog:
    path = root / "catalog.yaml"
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DangxiaoError(f"{path}: 文件不存在 / catalog not found") from None
    except yaml.YAMLError:
        raise DangxiaoError(f"{path}: YAML 格式错误 / malformed YAML") from None
    if not isinstance(document, dict) or not isinstance(document.get("modules"), list):
        raise _fail(path, "modules", "须有 modules 列表 / needs a 'modules' list")
    modules, seen = [], set()
    for raw_module in document["modules"]:
        module_id = raw_module.get("id") if isinstance(raw_module, dict) else None
        if not isinstance(module_id, str) or not ID_PATTERN.match(module_id):
            raise _fail(path, f"module {module_id!r}", "id 须为小写 ASCII / id must be lowercase ASCII")
        lessons = []
        for raw in raw_module.get("lessons") or []:
            lesson_id = raw.get("id") if isinstance(raw, dict) else None
            if not isinstance(lesson_id, str) or not ID_PATTERN.match(lesson_id):
                raise _fail(path, f"lesson {lesson_id!r}", "id 须为小写 ASCII / id must be lowercase ASCII")
            if lesson_id in seen:
                raise _fail(path, f"lesson {lesson_id}", "编号重复 / duplicate id")
            seen.add(lesson_id)
            notebook, minutes, title = raw.get("notebook"), raw.get("minutes"), raw.get("title")
            if not isinstance(title, str) or not title.strip():
                raise _fail(path, f"lesson {lesson_id}", "缺少 title / missing title")
            if not isinstance(notebook, str) or not NOTEBOOK_PATTERN.match(notebook) or ".." in notebook:
                raise _fail(path, f"lesson {lesson_id}", "notebook 须为 courses/ 内的 ASCII .ipynb 路径 / notebook must be an ASCII .ipynb path inside courses/")
            if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes <= 0:
                raise _fail(path, f"lesson {lesson_id}", "minutes 须为正整数 / minutes must be a positive integer")
            lessons.append(Lesson(lesson_id, title.strip(), notebook, minutes, module_id))
        modules.append(Module(module_id, str(raw_module.get("title") or module_id), tuple(lessons)))
    return Catalog(str(document.get("title") or "课程"), tuple(modules), root)
