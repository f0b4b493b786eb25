"""A finished test paper handed from the site that took it to the course that grades it, as a file.

Under `dangxiao serve` the exam server writes each finished paper straight into the nbgrader course
(`nbgrader_route.write_submission`). On JupyterHub the test is taken in the records service, which runs
as its own account and cannot enter a course folder (each is its grader's, 0700); the course's grader
cannot open the service's record store either. So the service leaves one file per trainee and test in
a per-course outbox that only that course's grader may read,

    <outbox>/<course id>/<assessment>/<trainee>.json      (folders 2750, files 0640, group: the grader's)

and the grader turns them into submissions with `dangxiao exam collect <id> --outbox <outbox>/<course id>`.
A file is replaced (atomically) only by a later attempt of the same trainee. Its shape is `AttemptFile`,
validated on read; a file that does not validate, or whose paper is not the one the blueprint draws
for that trainee and attempt (a changed blueprint or bank, a file renamed), is refused with its path and
cause, and the other files go on. The answers and the time cannot be checked that way: they are
trusted because only the records service's account can write the folder.
"""
from __future__ import annotations

import datetime as _dt
import os
import tempfile
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from dangxiao.errors import DangxiaoError

__all__ = ["AttemptFile", "FORMAT", "write_attempt_file", "read_attempt_file", "attempt_files"]

FORMAT = "dangxiao-exam-attempt/1"
_TRAINEE = r"^[A-Za-z0-9][A-Za-z0-9_\-]*$"


class AttemptFile(BaseModel):
    """One finished attempt: the paper as drawn and shown, the answers as saved, when it was handed in."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["dangxiao-exam-attempt/1"] = FORMAT
    assessment: str
    trainee: str
    attempt: int
    paper: dict[str, Any]
    answers: dict[str, Any]
    submitted_at: _dt.datetime

    @field_validator("assessment", "trainee")
    @classmethod
    def _ascii_id(cls, value: str) -> str:
        import re

        if not re.match(_TRAINEE, value):
            raise ValueError("须为 ASCII 字母、数字、- 或 _ / must be ASCII letters, digits, - or _")
        return value

    @field_validator("submitted_at")
    @classmethod
    def _aware(cls, value: _dt.datetime) -> _dt.datetime:
        if value.tzinfo is None:
            raise ValueError("须带时区 / must carry a time zone")
        return value


def write_attempt_file(outbox: Path | str, record: AttemptFile) -> Path:
    """Write `<outbox>/<assessment>/<trainee>.json` atomically (a temporary file, then `os.replace`), the
    folder 0750 and the file 0640. The group is the outbox's (the course's grader): the setgid bit of the
    course folder passes it on. No chmod of the folder here: the service is not in that group, and a
    chmod by a non-member clears the setgid bit (chmod(2)), after which files would get the service's group."""
    folder = Path(outbox) / record.assessment
    folder.mkdir(mode=0o750, parents=True, exist_ok=True)
    target = folder / f"{record.trainee}.json"
    handle, temporary = tempfile.mkstemp(prefix=f".{record.trainee}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(record.model_dump_json(indent=1))
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o640)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def read_attempt_file(path: Path | str, assessment_id: str) -> AttemptFile:
    """The attempt in `path`, validated; DangxiaoError naming the file and the cause otherwise."""
    path = Path(path)
    try:
        record = AttemptFile.model_validate_json(path.read_bytes())
    except OSError as error:
        raise DangxiaoError(f"{path}: 无法读取 / cannot read ({error.strerror})") from None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "文件 / file"
        raise DangxiaoError(f"{path}: 键 '{where}': {first.get('msg')} / not a finished paper") from None
    if record.assessment != assessment_id:
        raise DangxiaoError(f"{path}: 是测验 {record.assessment} 的试卷，不是 {assessment_id} / another test's paper")
    if path.stem != record.trainee:
        raise DangxiaoError(f"{path}: 文件名与学员 {record.trainee} 不符 / file name and trainee differ")
    return record


def attempt_files(outbox: Path | str, assessment_id: str) -> list[Path]:
    """The attempt files of one test in an outbox (a course's folder), sorted by trainee."""
    folder = Path(outbox) / assessment_id
    return sorted(p for p in folder.glob("*.json") if not p.name.startswith(".")) if folder.is_dir() else []
