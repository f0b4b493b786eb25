"""A grading run killed with SIGKILL half-way: the course as it was, earlier results kept, the
gradebook consistent with autograded/, no process left; the next run finishes the job."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from dangxiao.grading.sample_course import ASSIGNMENT, NOTEBOOK, write_submission

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not os.access("/usr/bin/bwrap", os.X_OK), reason="bubblewrap (/usr/bin/bwrap) not installed")]

EARLIER = {"e1": "reference", "e2": "partial", "e3": "blank", "e4": "reference"}
LATER = {"n1": "loop", "n2": "reference", "n3": "loop", "n4": "partial", "n5": "loop", "n6": "reference"}
SCORES = {"reference": 5.0, "partial": 2.0, "blank": 0.0, "loop": 3.0}


def scores(course: Path) -> dict[str, float]:
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "dangxiao_test") as gb:
        return {s.student.id: s.score for s in gb.find_assignment(ASSIGNMENT).submissions}


def graded(course: Path) -> set[str]:
    return {p.parent.parent.name for p in (course / "autograded").glob(f"*/{ASSIGNMENT}/{NOTEBOOK}.ipynb")}


def test_sigkill_half_way(accounts, course_template, tree_hashes, no_leftovers):
    # as the ordinary account (a course's grader account on the hub); root differs only in the
    # sandbox account, which the hostile batch covers
    account = accounts["user"]
    parent = Path(tempfile.mkdtemp(prefix="dangxiao-crash-", dir=None if account.is_root else account.home))
    try:
        course = parent / "course"
        shutil.copytree(course_template, course)
        with open(course / "nbgrader_config.py", "a", encoding="utf-8") as handle:
            handle.write("c.Execute.timeout = 3\n")
        for student, kind in EARLIER.items():
            write_submission(course, student, kind)
        account.own(parent)
        os.chmod(parent, 0o700)
        grade = [account.python, "-m", "dangxiao", "autograde", ASSIGNMENT, "--course", str(course), "--jobs", "2"]
        first = account.run(grade, cwd=course)
        assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
        earlier_results = {s: tree_hashes(course / "autograded" / s / ASSIGNMENT) for s in EARLIER}
        earlier_scores = scores(course)
        assert earlier_scores == {s: SCORES[k] for s, k in EARLIER.items()}

        for student, kind in LATER.items():
            write_submission(course, student, kind)
        account.own(parent)
        protected = {name: tree_hashes(course / name) for name in ("source", "release", "submitted")}
        config, mode = (course / "nbgrader_config.py").read_bytes(), os.stat(course).st_mode

        run = subprocess.Popen(account.command(grade), cwd=course, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 300
        while len(graded(course) & set(LATER)) < 2 and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert run.poll() is None, "the run ended before it could be killed half-way"
        # the grading process itself (runuser passes the signal on only if it lives: kill the real one)
        import psutil

        target = run.pid
        for child in psutil.Process(run.pid).children(recursive=True):
            if "dangxiao" in " ".join(child.cmdline()) and "autograde" in child.cmdline():
                target = child.pid
        os.kill(target, signal.SIGKILL)
        run.wait(timeout=60)

        # no process left, the course as it was, earlier results kept, gradebook consistent
        assert no_leftovers() == []
        assert {name: tree_hashes(course / name) for name in ("source", "release", "submitted")} == protected
        assert (course / "nbgrader_config.py").read_bytes() == config and os.stat(course).st_mode == mode
        after = scores(course)
        for student in EARLIER:
            assert (course / "autograded" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb").is_file(), student
            assert after[student] == earlier_scores[student]
            assert set(tree_hashes(course / "autograded" / student / ASSIGNMENT)) == set(earlier_results[student])
        kinds = {**EARLIER, **LATER}
        for student in graded(course):
            assert after.get(student) == SCORES[kinds[student]], (student, after)
        killed_half_way = set(LATER) - graded(course)
        assert killed_half_way, "nothing was left to do: not killed half-way"

        # the next run finishes the job, and clears what the killed one staged
        again = account.run(grade, cwd=course)
        assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
        assert graded(course) == set(kinds)
        assert scores(course) == {s: SCORES[k] for s, k in kinds.items()}
        assert not (course / ".dangxiao-staging").exists()
        assert no_leftovers() == []
    finally:
        shutil.rmtree(parent, ignore_errors=True)
