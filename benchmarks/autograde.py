"""Benchmark: stock `nbgrader autograde` vs `dangxiao autograde` (sandbox on) on the same submissions.

    python benchmarks/autograde.py                 # 60 submissions of the built-in pandas exercise
    python benchmarks/autograde.py -n 20 --jobs 2
    python benchmarks/autograde.py --as-user NAME  # both commands as an ordinary account (run as root)
    python benchmarks/autograde.py --course assignments --assignment a02   # a course of your own

"Stock" is nbgrader as shipped: the course copy it grades has the sandbox lines removed from its
nbgrader_config.py (no sandbox, kernels from scratch, one at a time). dangxiao grades with every
kernel in the bubblewrap sandbox, forked from the sandboxed zygote. With `--as-user`, both copies
live in that account's home and both commands run as it (runuser), the way a course's grader
account would run them. Where the time goes is read from dangxiao's log (kernel start, cells,
the rest: nbgrader's own work per submission and the gradebook).

Each tool grades its own copy of the course, starting from a clean gradebook (the one
generate_assignment wrote, no submissions). Both are run as commands, the way an instructor runs
them, so each pays its own start-up. Prints seconds, the ratio, and whether both gradebooks hold the
same scores (per student, notebook and grade cell). Run by hand, not in the test suite: the
figures depend on the machine and on what else it is doing. Besides wall-clock seconds it prints
the CPU seconds of each command and of every process it waited for (kernels included), which
depend much less on other load; the load average is printed around each run.

With `--course`, submissions are made from the assignment's own notebooks: half from the source
(reference answers; nbgrader restores the locked test cells), half from the released (blank)
version, so scores vary.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent


def _env() -> dict:
    env = os.environ.copy()
    bin_dir = os.path.dirname(sys.executable)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    return env


SANDBOX_LINES = ("sandboxed_autograde_config", "BubblewrapProvisioner")


def make_stock(config_file: Path) -> None:
    """nbgrader as shipped: drop the lines that select the sandbox."""
    lines = config_file.read_text(encoding="utf-8").splitlines(keepends=True)
    config_file.write_text("".join(line for line in lines if not any(key in line for key in SANDBOX_LINES)),
                           encoding="utf-8")


def time_profile(log_file: Path) -> str:
    """Sum of kernel starts, cells and the rest, from dangxiao's log."""
    import re

    text = log_file.read_text(encoding="utf-8") if log_file.is_file() else ""
    starts = [float(v) for v in re.findall(r"kernel started in ([0-9.]+)s", text)]
    ready = [float(v) for v in re.findall(r"kernel client ready in ([0-9.]+)s", text)]
    cells = [float(v) for v in re.findall(r"cell \d+ ran in ([0-9.]+)s", text)]
    stamps = re.findall(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})", text, re.M)
    import datetime as dt

    span = 0.0
    if len(stamps) > 1:
        first, last = (dt.datetime.strptime(v, "%Y-%m-%d %H:%M:%S,%f") for v in (stamps[0], stamps[-1]))
        span = (last - first).total_seconds()
    count = max(len(starts), 1)
    return (f"grading {span:.1f} s (first to last log line; the rest of the wall time is start-up: imports, "
            f"sandbox check, zygote); per kernel: fork+start {sum(starts) / count:.2f} s, ready "
            f"{sum(ready) / count:.2f} s, cells {sum(cells) / count:.2f} s; the remainder per submission is "
            f"nbgrader's two passes (read, sanitize, gradebook, write) under one GIL")


def sample_course(parent: Path, count: int) -> tuple[Path, str]:
    from dangxiao.grading.sample_course import ASSIGNMENT, build_course, write_submission

    course = build_course(parent / "course")
    kinds = ("reference", "partial", "blank")
    for index in range(count):
        write_submission(course, f"trainee{index:03d}", kinds[index % len(kinds)])
    return course, ASSIGNMENT


def own_course(source_course: Path, assignment: str, parent: Path, count: int) -> tuple[Path, str]:
    """Copy a course (generating the assignment in the copy if needed) and add submissions."""
    course = parent / "course"
    ignore = shutil.ignore_patterns("submitted", "autograded", "feedback", "reports", ".dangxiao-staging")
    shutil.copytree(source_course, course, ignore=ignore)
    released = course / "release" / assignment
    source = course / "source" / assignment
    if not (released.is_dir() and (course / "gradebook.db").is_file()):
        # generate it in the copy (the course given is not touched), as `dangxiao release` would
        subprocess.run([os.path.join(os.path.dirname(sys.executable), "nbgrader"), "generate_assignment",
                        assignment, "--force"], cwd=course, env=_env(), check=True, capture_output=True)
    for index in range(count):
        origin = source if index % 2 == 0 else released
        target = course / "submitted" / f"trainee{index:03d}" / assignment
        shutil.copytree(origin, target)
        for notebook in target.glob("*.ipynb"):
            nbformat.write(nbformat.read(notebook, as_version=4), notebook)
        (target / "timestamp.txt").write_text("2026-11-20 09:00:00.000000 UTC", encoding="utf-8")
    return course, assignment


def scores(course: Path, assignment: str) -> dict:
    from nbgrader.api import Gradebook
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    config = Config()
    if (course / "nbgrader_config.py").is_file():
        config.merge(PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config())
    config.CourseDirectory.root = str(course)
    coursedir = CourseDirectory(config=config)
    rows = {}
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        for submission in gb.find_assignment(assignment).submissions:
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    rows[(submission.student.id, notebook.name, grade.cell.name)] = grade.auto_score
    return rows


def timed(cmd: list[str], cwd: Path, user: str | None = None) -> tuple[float, float, subprocess.CompletedProcess]:
    """Wall seconds and CPU seconds (the command and every process it waited for: kernels too)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    if user:
        home = os.path.expanduser(f"~{user}")
        cmd = ["runuser", "-u", user, "--", "env", f"HOME={home}", f"PATH={os.path.dirname(cmd[0])}:/usr/bin:/bin", *cmd]
    done = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--submissions", type=int, default=60)
    parser.add_argument("--jobs", type=int, default=4, help="dangxiao's --jobs (its default, 4)")
    parser.add_argument("--course", type=Path, help="an nbgrader course with the assignment generated")
    parser.add_argument("--assignment", help="assignment id in --course")
    parser.add_argument("--keep", action="store_true", help="keep the work folder and print it")
    parser.add_argument("--as-user", metavar="NAME", help="run both commands as this ordinary account (needs root); "
                        "its Python is --python")
    parser.add_argument("--python", default=sys.executable, help="the interpreter the commands run on")
    args = parser.parse_args(argv)

    if args.as_user:
        import pwd

        home = Path(pwd.getpwnam(args.as_user).pw_dir)
        work = Path(tempfile.mkdtemp(prefix="dangxiao-bench-", dir=home))
    else:
        work = Path(tempfile.mkdtemp(prefix="dangxiao-bench-"))
    os.chmod(work, 0o700)
    try:
        if args.course:
            if not args.assignment:
                parser.error("--course needs --assignment")
            base, assignment = own_course(args.course.resolve(), args.assignment, work / "base", args.submissions)
        else:
            base, assignment = sample_course(work / "base", args.submissions)
        stock_course = work / "stock"
        ours_course = work / "ours"
        shutil.copytree(base, stock_course)
        shutil.copytree(base, ours_course)
        make_stock(stock_course / "nbgrader_config.py")
        if args.as_user:
            subprocess.run(["chown", "-R", f"{args.as_user}:", str(work)], check=True)
        who = f"as {args.as_user}" if args.as_user else ("as root" if os.geteuid() == 0 else "as this user")
        print(f"{args.submissions} 份提交 / submissions of {assignment}; CPU 核数 / cores: {os.cpu_count()}; {who}")

        print(f"load average before / 开始前负载: {os.getloadavg()[0]:.1f}")
        stock_s, stock_cpu, stock = timed([args.python, "-m", "nbgrader", "autograde", assignment, "--force"],
                                          stock_course, args.as_user)
        print(f"stock nbgrader autograde:   {stock_s:7.1f} s wall  {stock_cpu:7.1f} s CPU  (exit {stock.returncode})")
        print(f"load average / 负载: {os.getloadavg()[0]:.1f}")
        ours_s, ours_cpu, ours = timed([args.python, "-m", "dangxiao", "autograde", assignment, "--course",
                                        str(ours_course), "--jobs", str(args.jobs)], work, args.as_user)
        print(f"dangxiao autograde -j {args.jobs} (sandbox): {ours_s:7.1f} s wall  {ours_cpu:7.1f} s CPU  "
              f"(exit {ours.returncode})")
        print(f"load average / 负载: {os.getloadavg()[0]:.1f}")
        logs = sorted((ours_course / "reports" / "autograde").glob("*.log"))
        if logs:
            print(f"where dangxiao's time went / 时间分布: {time_profile(logs[-1])}")
        if ours.returncode not in (0, 1):
            print(ours.stdout[-3000:], ours.stderr[-3000:])
        print(f"ratio stock/dangxiao:       {stock_s / ours_s:7.2f}× wall   {stock_cpu / max(ours_cpu, 1e-9):7.2f}× CPU")

        stock_scores, our_scores = scores(stock_course, assignment), scores(ours_course, assignment)
        same = stock_scores == our_scores
        print(f"same scores / 分数一致:      {'yes 是' if same else 'NO 否'} "
              f"({len(our_scores)} grade rows, total {sum(v or 0 for v in our_scores.values()):g})")
        if not same:
            differing = [k for k in set(stock_scores) | set(our_scores) if stock_scores.get(k) != our_scores.get(k)]
            for key in sorted(differing)[:10]:
                print("  ", key, "stock:", stock_scores.get(key), "dangxiao:", our_scores.get(key))
        return 0 if same else 1
    finally:
        if args.keep:
            print(f"work folder: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
