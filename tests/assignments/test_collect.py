"""Submissions from zip files go through nbgrader's ZipCollectApp into submitted/<trainee>/<assignment>/."""
from __future__ import annotations

import json
import zipfile

import pytest

from dangxiao import cli
from dangxiao.errors import DangxiaoError
from dangxiao.grading.course import collect_zip


def test_zip_per_trainee_is_collected_and_never_overwritten(kit, tmp_path):
    course = kit.copy_course(tmp_path / "course")
    assert cli.main(["release", "a04", "--course", str(course), "--no-exchange"]) == 0
    notebook = kit.released_notebook(course, "a04")
    archive = tmp_path / "zhang_san.zip"
    with zipfile.ZipFile(archive, "w") as handle:  # the trainee zipped the whole assignment folder
        handle.write(notebook, f"a04/{notebook.name}")
        handle.writestr("a04/answers.json", json.dumps({"a04-q1-top": "噪音扰民"}, ensure_ascii=False))

    collect_zip(course, "a04", [archive])

    folder = course / "submitted" / "zhang_san" / "a04"
    assert (folder / notebook.name).read_bytes() == notebook.read_bytes()
    assert json.loads((folder / "answers.json").read_text(encoding="utf-8")) == {"a04-q1-top": "噪音扰民"}
    assert archive.is_file()  # copied, not moved
    with pytest.raises(DangxiaoError, match="zhang_san.zip"):
        collect_zip(course, "a04", [archive])  # same archive again: refused, nothing replaced
    with pytest.raises(DangxiaoError, match="missing.zip"):
        collect_zip(course, "a04", [tmp_path / "missing.zip"])
