"""One hostile batch, graded through every autograde path, as root and as an ordinary account.

Paths: `dangxiao autograde`, plain `nbgrader autograde` in the course folder (the course's
nbgrader_config.py selects the sandbox), and the formgrader's Autograde API
(`NbGraderAPI.autograde`, one student per call as the button does). Each run is a separate process,
started as its account (`runuser` for the ordinary one, whose course sits in its 0700 home).

For every path and account: nothing of the course read (solutions, hidden tests, gradebook,
config, other submissions — by absolute path, `..`, /proc), nothing changed, no TCP connection to
the listener on 127.0.0.1, no process left, every well-behaved submission graded with the same
score, and the problems named where that path reports (dangxiao's summary and CSV, nbgrader's log,
the API's result).
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from dangxiao.grading.sample_course import ASSIGNMENT, HIDDEN_MARKER, NOTEBOOK, write_submission

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not os.access("/usr/bin/bwrap", os.X_OK), reason="bubblewrap (/usr/bin/bwrap) not installed")]

# student -> kind; scores every path must give (None: fails as a whole)
BATCH = {
    "honest": "reference", "partial": "partial", "tampered": "tampered", "snoop": "snoop",
    "network": "network", "forkbomb": "forkbomb", "detached": "detached", "bigoutput": "bigoutput",
    "loop": "loop", "deaf": "sigint", "hog": "memory", "cut": "truncated", "link": "reference",
}
# the fork bomb uses up its own process limit: later cells may fail to start a thread, so any score
ANY = "any"
EXPECTED = {"honest": 5.0, "partial": 2.0, "tampered": 0.0, "snoop": 5.0, "network": 5.0, "forkbomb": ANY,
            "detached": 5.0, "bigoutput": 5.0, "loop": 3.0, "hog": 3.0, "deaf": None, "cut": None, "link": None}
CELL_TIMEOUT = 10  # seconds; the batch also runs on a loaded 2-core machine (load 20 seen)
PATHS = ("dangxiao", "nbgrader", "formgrader")
DRIVER = Path(__file__).with_name("formgrader_driver.py")


def make_hostile_course(template: Path, parent: Path, account, port: int) -> Path:
    course = parent / "course"
    shutil.copytree(template, course)
    with open(course / "nbgrader_config.py", "a", encoding="utf-8") as handle:
        handle.write(f"c.Execute.timeout = {CELL_TIMEOUT}\nc.SandboxedExecute.total_timeout = 120\n")
    for student, kind in BATCH.items():
        write_submission(course, student, kind, port=port, grader=account.name)
    # a "data file" that is a link to the solutions: nbgrader would copy its target
    (course / "submitted" / "link" / ASSIGNMENT / "data.csv").symlink_to(course / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    account.own(parent)
    os.chmod(parent, 0o700)
    return course


def protected_state(course: Path, hashes) -> dict:
    return {
        "source": hashes(course / "source"), "release": hashes(course / "release"),
        "submitted": hashes(course / "submitted"),
        "config": (course / "nbgrader_config.py").read_bytes(),
        "mode": os.stat(course).st_mode,
        # grading adds autograded/ and (dangxiao) reports/, nothing else: no staging left behind
        "listing": sorted(p.name for p in course.iterdir() if p.name not in ("autograded", "reports")),
    }


def gradebook_totals(course: Path) -> dict:
    totals = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "dangxiao_test") as gb:
        for submission in gb.find_assignment(ASSIGNMENT).submissions:
            totals[submission.student.id] = submission.score
    return totals


def outputs_text(course: Path, student: str) -> str:
    path = course / "autograded" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    nb = nbformat.read(path, as_version=4)
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", "") if isinstance(output.get("text", ""), str) else "")
            parts.extend(output.get("traceback", []))
    return "\n".join(parts)


def run_path(path: str, account, course: Path):
    python = account.python
    if path == "dangxiao":
        argv = [python, "-m", "dangxiao", "autograde", ASSIGNMENT, "--course", str(course), "--jobs", "2"]
    elif path == "nbgrader":
        argv = [python, "-m", "nbgrader", "autograde", ASSIGNMENT, "--force"]
    else:
        argv = [python, str(DRIVER), str(course), ASSIGNMENT]
    return account.run(argv, cwd=course)


@pytest.mark.parametrize("who", ["root", "user"])
@pytest.mark.parametrize("path", PATHS)
def test_hostile_batch(path, who, accounts, course_template, listener, tree_hashes, no_leftovers):
    if who not in accounts:
        pytest.skip("not running as root: the ordinary-account runs cover this")
    account = accounts[who]
    parent = Path(tempfile.mkdtemp(prefix="dangxiao-hostile-", dir=None if account.is_root else account.home))
    try:
        course = make_hostile_course(course_template, parent, account, listener.port)
        before = protected_state(course, tree_hashes)

        done = run_path(path, account, course)
        report = done.stdout + done.stderr

        # no process left, no connection made, nothing changed
        assert no_leftovers() == [], report[-3000:]
        assert listener.connections() == 0
        assert protected_state(course, tree_hashes) == before
        assert not (course / "gradebook.db").read_bytes().endswith(b"x")

        # every submission graded as it deserves (and the failing ones not graded)
        totals = gradebook_totals(course)
        for student, expected in EXPECTED.items():
            graded = (course / "autograded" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb").is_file()
            if expected is None:
                assert not graded, (student, report[-2000:])
            else:
                assert graded, (student, [line for line in report.splitlines() if student in line or "Error" in line][-40:])
                assert expected == ANY or totals.get(student) == expected, (student, totals, report[-3000:])

        # nothing read: every attempt denied, the hunt found nothing of the course, no hidden test in outputs
        snoop = outputs_text(course, "snoop")
        found = json.loads(snoop.split("SNOOP-REPORT ", 1)[1].splitlines()[0])
        attempts = {k: v for k, v in found.items() if k not in ("uid", "cwd", "hunt")}
        assert attempts and all(v.startswith("denied") for v in attempts.values()), attempts
        assert found["cwd"] == "/sandbox/work" and found["uid"] != 0
        assert not [hit for hit in found["hunt"] if not hit.startswith("proc ")], found["hunt"]
        assert len([hit for hit in found["hunt"] if hit.startswith("proc ")]) <= 3, found["hunt"]  # its own sandbox only
        assert HIDDEN_MARKER not in snoop and "calls.iloc[:2]" not in snoop
        for student in EXPECTED:
            if EXPECTED[student] is not None:
                assert HIDDEN_MARKER not in outputs_text(course, student)
        assert "NETWORK-RESULT refused" in outputs_text(course, "network")
        fork = outputs_text(course, "forkbomb").split("FORK-LIMIT ", 1)[1].split()
        assert int(fork[0]) < 64 and fork[1] == "BlockingIOError"
        big = course / "autograded" / "bigoutput" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
        assert big.stat().st_size < 5_000_000

        # the problems are named where this path reports them
        if path == "dangxiao":
            assert done.returncode == 1, report[-2000:]
            (csv_file,) = (course / "reports" / "autograde").glob(f"{ASSIGNMENT}-*.csv")
            with open(csv_file, encoding="utf-8-sig", newline="") as handle:
                rows = {row["学员"]: row["问题"] for row in csv.DictReader(handle)}
            assert "SIGINT" in rows["deaf"] and "JSON" in rows["cut"] and "超时" in rows["loop"]
            assert "符号链接" in rows["link"] and "data.csv" in rows["link"]
            assert "截断" in rows["bigoutput"] and "内存" in rows["hog"] and "改动" in rows["tampered"]
            assert "进程" in rows["detached"] and "进程" in rows["forkbomb"]
            for student in rows:
                assert rows[student] in done.stdout.replace("\n", "") or rows[student][:40] in done.stdout
        elif path == "nbgrader":
            assert done.returncode == 1  # nbgrader exits 1 when a submission failed
            assert "SIGINT" in report and "'cut'" in report and "超时" in report and "截断" in report
            assert "改动" in report and "进程" in report and "内存" in report and "符号链接" in report
        else:
            results = json.loads(done.stdout.strip().splitlines()[-1])
            assert not results["deaf"]["success"] and not results["cut"]["success"] and not results["link"]["success"]
            assert "符号链接" in results["link"]["log"] + results["link"].get("error", "")
            assert "SIGINT" in results["deaf"]["log"] + results["deaf"].get("error", "")
            assert all(results[s]["success"] for s, v in EXPECTED.items() if v is not None)
            assert "改动" in results["tampered"]["log"] and "进程" in results["detached"]["log"]
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def test_accounts_are_what_they_claim(accounts):
    """The ordinary account really is one: no root, a private home."""
    user = accounts["user"]
    done = user.run([user.python, "-c", "import os; print(os.geteuid(), oct(os.stat(os.path.expanduser('~')).st_mode & 0o777))"],
                    cwd=Path("/"))
    uid, mode = done.stdout.split()
    assert int(uid) != 0 and mode == "0o700"
    assert sys.executable  # the suite's own interpreter may be private (e.g. a pyenv under /root)
