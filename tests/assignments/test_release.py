"""`dangxiao release`: clear errors, no silent overwrite, --force regenerates."""
from __future__ import annotations

import pytest

from dangxiao import cli


def test_release_refuses_unknown_and_repeated_releases(kit, tmp_path, capsys):
    course = kit.copy_course(tmp_path / "course")
    assert cli.main(["release", "a09", "--course", str(course)]) == 1
    assert "a09" in capsys.readouterr().err

    assert cli.main(["release", "a03", "--course", str(course)]) == 0
    out = capsys.readouterr().out
    assert "法治案例备忘录" in out and "满分 14 分" in out
    outbound = course / "exchange" / "jiceng_zhili" / "outbound" / "a03"
    assert sorted(p.name for p in outbound.iterdir()) == ["a03_fazhi_beiwanglu.ipynb"]
    released = kit.released_notebook(course, "a03")
    text = released.read_text(encoding="utf-8")
    assert "评分细则" in text          # the rubric ships as a read-only cell
    assert "参考答案" not in text       # the model answers do not

    marker = released.stat().st_mtime_ns
    assert cli.main(["release", "a03", "--course", str(course)]) == 1
    assert "--force" in capsys.readouterr().err
    assert released.stat().st_mtime_ns == marker  # untouched

    assert cli.main(["release", "a03", "--course", str(course), "--force"]) == 0


def test_release_without_a_course_config_is_a_clear_error(tmp_path, capsys):
    assert cli.main(["release", "a01", "--course", str(tmp_path)]) == 1
    assert "nbgrader_config.py" in capsys.readouterr().err
