"""`dangxiao autograde ASSIGNMENT`: grade every submission in parallel, each kernel in a sandbox.

Reads `submitted/<student>/<assignment>/`, writes nbgrader's gradebook and `autograded/`, prints a
Chinese summary and writes it as CSV under `reports/autograde/` (with the run's log). See
`dangxiao.grading.autograde` for what is reused from nbgrader, `dangxiao.grading.sandbox` for the
sandbox and its threat model. Where no sandbox can start, it
refuses (one line naming what is missing) unless `--no-sandbox` is given.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import os
import signal
import sys
from pathlib import Path

from dangxiao.errors import DangxiaoError


def configure(parser: argparse.ArgumentParser) -> None:
    """Add this subcommand's arguments."""
    parser.add_argument("assignment", metavar="ASSIGNMENT", help="作业编号 / assignment id, e.g. a02")
    parser.add_argument("--course", type=Path, default=None,
                        help="课程目录（nbgrader 课程根目录）/ nbgrader course root (default: assignments/)")
    # 4 even on 2 cores: grading waits on kernels (separate processes) far more than it computes —
    # 60 submissions took 41 s with 2 jobs and 20 s with 4 on 2 busy cores (benchmarks/autograde.py)
    parser.add_argument("--jobs", "-j", type=int, default=4,
                        help="同时评分的份数 / submissions graded at once (default 4)")
    parser.add_argument("--student", action="append", nargs="+", default=None, metavar="ID",
                        help="只评这些学员 / grade only these students (repeatable)")
    parser.add_argument("--timeout", type=int, default=None, metavar="S",
                        help="每个单元格的时间上限（秒）/ per-cell time limit in seconds (default: course config, 30)")
    parser.add_argument("--notebook-timeout", type=int, default=None, metavar="S",
                        help="每本 notebook 的总时间上限（秒）/ whole-notebook cap in seconds (default 300)")
    parser.add_argument("--sandbox-uid-base", type=int, default=61000, metavar="UID",
                        help="以 root 运行时沙箱账户 uid 的起始值（取第一个未被使用的）"
                        " / first uid tried for the sandbox account when run as root (default 61000)")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="不隔离学员代码（仅限可信代码；汇总、日志和 CSV 都会注明）/ run trainee code"
                        " UNCONFINED (trusted code only; the summary, log and CSV say so)")
    parser.add_argument("--cold-kernels", action="store_true",
                        help="每个内核都重新启动 Python，不从预加载模板派生 / start every kernel from scratch"
                        " instead of forking it from a pre-imported template (slower)")
    parser.add_argument("--memory-mb", type=int, default=2048,
                        help="每个内核的内存上限（MB，地址空间）/ memory limit per kernel in MB (default 2048)")


def run(args: argparse.Namespace) -> int:
    from dangxiao.grading.autograde import GradingOptions, grade_assignment
    from dangxiao.grading.autograde_report import Progress, summary_table, write_csv
    from dangxiao.grading.autograde import UNCONFINED_NOTE
    from dangxiao.grading.sandbox import SandboxLimits, SandboxUnavailable

    _venv_bin_on_path()
    from dangxiao.grading.course import find_course

    course = find_course(args.course)  # --course, else $DANGXIAO_COURSE, else assignments/ (as release/feedback)
    students = [s for group in args.student for s in group] if args.student else None
    try:
        options = GradingOptions(
            course=course, assignment=args.assignment, jobs=args.jobs, students=students,
            cell_timeout=args.timeout, notebook_timeout=args.notebook_timeout,
            limits=SandboxLimits(memory_mb=args.memory_mb), uid_base=args.sandbox_uid_base,
            fork_kernels=not args.cold_kernels, no_sandbox=args.no_sandbox)
    except ValueError as error:
        raise DangxiaoError(str(error)) from None
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    reports = course / "reports" / "autograde"
    log_file = reports / f"{args.assignment}-{stamp}.log"
    if args.no_sandbox:
        print(f"!!! {UNCONFINED_NOTE} !!!", file=sys.stderr)
    previous = _terminate_as_interrupt()
    try:
        results = grade_assignment(options, on_result=Progress(), log_file=log_file)
    except SandboxUnavailable:
        raise
    except (FileNotFoundError, LookupError, RuntimeError) as error:
        raise DangxiaoError(str(error).strip("'\"")) from None
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    if not results:
        raise DangxiaoError(f"{course / 'submitted'}: 作业 {args.assignment} 没有任何提交 / no submissions")
    print()
    if args.no_sandbox:
        print(f"!!! {UNCONFINED_NOTE} !!!")
    print(summary_table(results))
    csv_path = write_csv(results, reports / f"{args.assignment}-{stamp}.csv")
    print(f"\n汇总表 / summary: {csv_path}\n日志 / log: {log_file}")
    return 0 if all(result.ok for result in results) else 1


def _terminate_as_interrupt():
    """SIGTERM ends the run like Ctrl-C: kernels killed, staging removed (SIGKILL is survived
    too: the next run recovers)."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    return signal.signal(signal.SIGTERM, interrupt)


def _venv_bin_on_path() -> None:
    # nbgrader runs `alembic` from PATH when it creates or upgrades a gradebook
    bin_dir = os.path.dirname(sys.executable)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
