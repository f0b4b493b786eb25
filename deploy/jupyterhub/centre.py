"""A training centre's courses and rosters (`courses.yaml`), validated on load, and what JupyterHub
needs from them: groups, roles, the per-course formgrader services and the page variables.

`jupyterhub_config.py` and `setup_centre.py` both read the roster through this module, so the groups
the hub creates, the accounts the setup script makes and the course folders the formgrader serves
cannot drift apart. It imports only the standard library and PyYAML (no JupyterHub, no dangxiao):
the hub can load it from its own folder.

Naming follows nbgrader's multi-course setup (docs "JupyterHub: multiple courses", demo
`demo_multiple_classes`): nbgrader's `JupyterHubAuthPlugin` reads a user's courses from the groups
`nbgrader-<course_id>` (may fetch and submit) and `formgrade-<course_id>` (may grade), and each course
has a formgrader service named `<course_id>` run as its own grader account.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "CentreConfigError",
    "Course",
    "Centre",
    "load_centre",
    "INSTRUCTORS_GROUP",
    "TRAINEES_GROUP",
    "CULLER_SERVICE",
]

INSTRUCTORS_GROUP = "instructors"
TRAINEES_GROUP = "trainees"
CULLER_SERVICE = "idle-culler"

# nbgrader: course_id must be URL-safe; JupyterHub service names too. Lower-case ASCII keeps the
# group names `nbgrader-<id>` and the service URL `/services/<id>/` unambiguous.
COURSE_ID = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
# POSIX account names as useradd accepts them (LocalProcessSpawner maps hub users to system users).
USER_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")


class CentreConfigError(ValueError):
    """courses.yaml is malformed: the message names the file and the field."""


@dataclass(frozen=True)
class Course:
    """One nbgrader course: ASCII id for nbgrader, Chinese title for people."""

    id: str
    title: str
    port: int
    grader: str
    instructors: tuple[str, ...] = ()
    trainees: tuple[str, ...] = ()
    source: str = "assignments"  # the nbgrader course folder installed for this course (repo-relative)

    @property
    def student_group(self) -> str:
        return f"nbgrader-{self.id}"

    @property
    def grader_group(self) -> str:
        return f"formgrade-{self.id}"

    @property
    def service_name(self) -> str:
        return self.id

    @property
    def formgrader_path(self) -> str:
        """Opened in its own browser tab (the iframe in JupyterLab is blank behind JupyterHub >= 4.1)."""
        return f"/services/{self.id}/formgrader/"


@dataclass(frozen=True)
class Centre:
    name: str
    courses: tuple[Course, ...]
    admins: tuple[str, ...] = ()
    path: Path | None = None

    # --- who is who -------------------------------------------------------------------------
    @property
    def instructors(self) -> list[str]:
        return _unique(u for c in self.courses for u in c.instructors)

    @property
    def trainees(self) -> list[str]:
        return _unique(u for c in self.courses for u in c.trainees)

    @property
    def users(self) -> list[str]:
        """Everyone who may log in (graders are service accounts, they never log in)."""
        return _unique([*self.admins, *self.instructors, *self.trainees])

    @property
    def graders(self) -> list[str]:
        """Service accounts: hub users (for nbgrader's group lookup) who may never log in."""
        return [c.grader for c in self.courses]

    def course(self, course_id: str) -> Course:
        for course in self.courses:
            if course.id == course_id:
                return course
        raise KeyError(course_id)

    # --- JupyterHub ---------------------------------------------------------------------------
    def groups(self) -> dict[str, dict[str, Any]]:
        """`JupyterHub.load_groups` ({name: {"users": [...], "properties": {...}}}): instructors, trainees,
        and nbgrader's two groups per course, whose properties carry the Chinese course title.
        Instructors are in `nbgrader-<id>` too, so their assignment list shows the course."""
        groups = {
            INSTRUCTORS_GROUP: {"users": self.instructors, "properties": {"title": "教员 / instructors"}},
            TRAINEES_GROUP: {"users": self.trainees, "properties": {"title": "学员 / trainees"}},
        }
        for course in self.courses:
            groups[course.student_group] = {
                "users": _unique([*course.instructors, *course.trainees]),
                "properties": {"course_id": course.id, "title": course.title, "role": "学员 / trainees"},
            }
            # The grader account is in formgrade-<id> too: the formgrader service runs as it, and
            # nbgrader's JupyterHubAuthPlugin looks that account's courses up in its hub groups.
            groups[course.grader_group] = {
                "users": [*course.instructors, course.grader],
                "properties": {"course_id": course.id, "title": course.title, "role": "评分 / graders"},
            }
        return groups

    def roles(self) -> list[dict[str, Any]]:
        """`JupyterHub.load_roles` (RBAC, JupyterHub >= 2)."""
        roles: list[dict[str, Any]] = [
            {
                "name": "instructor",
                "description": "教员：只读查看学员与服务器 / instructors: read-only view of users and servers",
                "groups": [INSTRUCTORS_GROUP],
                "scopes": ["admin-ui", "list:users", "read:users", "read:servers", "list:groups", "read:groups"],
            },
            {
                "name": CULLER_SERVICE,
                "description": "关闭空闲的服务器 / stop idle servers",
                "services": [CULLER_SERVICE],
                "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
            },
        ]
        for course in self.courses:
            roles.append({
                "name": course.grader_group,
                "description": f"{course.title}：评分 / grade {course.id}",
                "groups": [course.grader_group],
                "scopes": [f"access:services!service={course.service_name}", "list:services",
                           f"read:services!service={course.service_name}"],
            })
            roles.append({
                "name": course.student_group,
                "description": f"{course.title}：领取与提交作业 / fetch and submit",
                "groups": [course.student_group],
                "scopes": ["list:services", f"read:services!service={course.service_name}"],
            })
            # The formgrader's own token: nbgrader's JupyterHubAuthPlugin reads group membership and
            # the formgrader's "add student" adds people to nbgrader-<id>.
            roles.append({
                "name": f"formgrader-{course.id}",
                "description": f"{course.title}：评分服务 / the formgrader service",
                "services": [course.service_name],
                "scopes": ["list:users", "read:users:groups", "list:groups",
                           f"read:groups!group={course.student_group}", f"groups!group={course.student_group}"],
            })
        return roles

    def template_courses(self) -> list[dict[str, str]]:
        """What the hub's pages show: Chinese titles, the groups that see each course, links."""
        return [
            {
                "id": c.id,
                "title": c.title,
                "student_group": c.student_group,
                "grader_group": c.grader_group,
                "formgrader_path": c.formgrader_path,
            }
            for c in self.courses
        ]


def load_centre(path: str | Path) -> Centre:
    """Read and validate `courses.yaml`; raise `CentreConfigError("file: field: cause")`."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CentreConfigError(f"{path}: 文件不存在 / file not found") from None
    except yaml.YAMLError as error:
        raise CentreConfigError(f"{path}: YAML 格式错误 / bad YAML: {error}") from None
    where = str(path)
    if not isinstance(data, dict):
        raise CentreConfigError(f"{where}: 顶层应为映射 / top level must be a mapping")
    unknown = set(data) - {"centre", "admins", "courses"}
    if unknown:
        raise CentreConfigError(f"{where}: 未知字段 / unknown keys: {sorted(unknown)}")
    name = _text(data.get("centre", "培训中心"), f"{where}: centre")
    admins = _names(data.get("admins", []), f"{where}: admins")
    raw_courses = data.get("courses")
    if not isinstance(raw_courses, list) or not raw_courses:
        raise CentreConfigError(f"{where}: courses: 至少需要一门课程 / at least one course is required")
    courses = tuple(_course(item, f"{where}: courses[{i}]") for i, item in enumerate(raw_courses))
    _check_unique([c.id for c in courses], f"{where}: courses: 课程 id 重复 / duplicate course id")
    _check_unique([c.port for c in courses], f"{where}: courses: 端口重复 / duplicate port")
    _check_unique([c.grader for c in courses], f"{where}: courses: 评分账号重复 / duplicate grader account")
    people = set(admins) | {u for c in courses for u in (*c.instructors, *c.trainees)}
    for course in courses:
        if course.grader in people:
            raise CentreConfigError(f"{where}: {course.id}: grader: 评分账号不能是登录用户 / "
                                    f"the grader account {course.grader!r} must not be a person who logs in")
    return Centre(name=name, courses=courses, admins=tuple(admins), path=path.resolve())


def _course(item: Any, where: str) -> Course:
    if not isinstance(item, dict):
        raise CentreConfigError(f"{where}: 应为映射 / must be a mapping")
    unknown = set(item) - {"id", "title", "port", "grader", "instructors", "trainees", "source"}
    if unknown:
        raise CentreConfigError(f"{where}: 未知字段 / unknown keys: {sorted(unknown)}")
    course_id = item.get("id")
    if not isinstance(course_id, str) or not COURSE_ID.match(course_id):
        raise CentreConfigError(f"{where}: id: {course_id!r} 须为小写 ASCII（字母开头，字母数字下划线）/ "
                                "must be lower-case ASCII: nbgrader's course_id is used in paths and URLs")
    where = f"{where} ({course_id})"
    title = _text(item.get("title"), f"{where}: title")
    port = item.get("port")
    if not isinstance(port, int) or isinstance(port, bool) or not 1024 <= port <= 65535:
        raise CentreConfigError(f"{where}: port: {port!r} 须为 1024–65535 的整数 / must be an int in 1024-65535")
    grader = item.get("grader", f"grader-{course_id}")
    _names([grader], f"{where}: grader")
    instructors = _names(item.get("instructors", []), f"{where}: instructors")
    trainees = _names(item.get("trainees", []), f"{where}: trainees")
    both = set(instructors) & set(trainees)
    if both:
        raise CentreConfigError(f"{where}: 同一人不能既是教员又是学员 / both instructor and trainee: {sorted(both)}")
    source = _text(item.get("source", "assignments"), f"{where}: source")
    return Course(id=course_id, title=title, port=port, grader=grader, instructors=tuple(instructors),
                  trainees=tuple(trainees), source=source)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CentreConfigError(f"{where}: 须为非空文字 / must be a non-empty string")
    return value.strip()


def _names(value: Any, where: str) -> list[str]:
    if not isinstance(value, list):
        raise CentreConfigError(f"{where}: 须为用户名列表 / must be a list of user names")
    for name in value:
        if not isinstance(name, str) or not USER_NAME.match(name):
            raise CentreConfigError(f"{where}: {name!r} 不是合法的系统用户名（小写 ASCII）/ "
                                    "not a valid system user name (lower-case ASCII)")
    _check_unique(value, f"{where}: 用户重复 / duplicate user")
    return list(value)


def _check_unique(values: list, message: str) -> None:
    seen = set()
    for value in values:
        if value in seen:
            raise CentreConfigError(f"{message}: {value!r}")
        seen.add(value)


def _unique(values) -> list:
    return list(dict.fromkeys(values))
