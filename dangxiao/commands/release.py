"""`dangxiao release ASSIGNMENT`: generate the trainees' version and release it to the exchange.

nbgrader does the work (`generate_assignment`: solutions and hidden tests removed, cells locked,
the gradebook updated; then `release_assignment` copies it into the exchange). A test paper
(`dangxiao exam build`) is taken on the site, not fetched: it is generated but never put in the
exchange, where a trainee would find a blank paper to open in JupyterLab. Afterwards the
released files are scanned once more for solution or hidden-test markers, so a cell with wrong
metadata cannot leak an answer key unnoticed.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from traitlets.config import Config

from dangxiao.errors import DangxiaoError

LEAK_MARKERS = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "BEGIN SOLUTION", "END SOLUTION")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignment", metavar="ASSIGNMENT", help="作业 id，如 a01 / assignment id, e.g. a01")
    parser.add_argument("--course", metavar="DIR", help="课程目录（默认 assignments/）/ nbgrader course folder")
    parser.add_argument("--force", action="store_true",
                        help="重新生成并覆盖已发布的版本 / regenerate and overwrite an earlier release")
    parser.add_argument("--no-exchange", action="store_true",
                        help="只生成 release/ 不发布到交换目录 / only generate, do not copy to the exchange")


def run(args: argparse.Namespace) -> int:
    from dangxiao.grading.course import (
        assignment_ids, check_result, course_api, course_info, find_course, load_course_config,
    )

    course = find_course(args.course)
    assignment = args.assignment
    if assignment not in assignment_ids(course):
        known = "、".join(assignment_ids(course)) or "无 / none"
        raise DangxiaoError(f"{course / 'source' / assignment}: 没有这个作业 / no such assignment (有 / known: {known})")
    released = course / "release" / assignment
    if released.exists() and not args.force:
        raise DangxiaoError(f"{released}: 已经生成过；要重新生成请加 --force / already generated, use --force")

    extra = Config()
    extra.ExchangeReleaseAssignment.force = bool(args.force)
    api = course_api(course, extra)
    info = course_info(load_course_config(course))
    title = info.assignment_title(assignment)

    check_result(api.generate_assignment(assignment, force=True, create=True),
                 f"{course / 'source' / assignment}: 生成作业失败 / generate_assignment failed")
    leaks = find_leaks(released)
    if leaks:
        raise DangxiaoError(f"{leaks[0]}: 发布版本中仍有答案或隐藏测试标记，请检查单元的 nbgrader 元数据 / "
                            "solution or hidden-test marker left in the release")
    notebooks = sorted(p.name for p in released.glob("*.ipynb"))
    print(f"已生成 / generated: {title}（{assignment}）→ {released}")
    print(f"  笔记本 / notebooks: {'、'.join(notebooks)}；{_points(api, assignment)}")

    from dangxiao.assessments.nbgrader_route import is_built_paper

    if is_built_paper(course / "source" / assignment / f"{assignment}.ipynb"):
        print(f"  这是测验试卷：学员在课程网站 /exam/{assignment} 作答，不发到交换目录 / "
              "a test paper, taken on the site: not released to the exchange")
        outbound = Path(api.exchange_root) / api.course_id / "outbound" / assignment
        if outbound.exists():  # released before it became a test (e.g. the JupyterLab a01)
            print(f"  注意 / note: 交换目录里还有以前发布的 {assignment}（{outbound}），学员仍能在 JupyterLab 领取；"
                  f"撤回：nbgrader list --remove {assignment} / an earlier release is still in the exchange")
    elif not args.no_exchange:
        check_result(api.release_assignment(assignment),
                     f"{course}: 发布到交换目录失败 / release_assignment failed (已发布过请加 --force)")
        print(f"已发布到交换目录 / released to the exchange: {api.exchange_root}/{api.course_id}/outbound/{assignment}")
    return 0


def find_leaks(folder: Path) -> list[Path]:
    """Files under `folder` that still contain a solution or hidden-test marker."""
    leaks = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if any(marker in text for marker in LEAK_MARKERS):
            leaks.append(path)
    return leaks


def _points(api, assignment: str) -> str:
    with api.gradebook as gradebook:
        record = gradebook.find_assignment(assignment)
        total = record.max_score
        auto = sum(nb.max_code_score for nb in record.notebooks)
        manual = total - auto
    return f"满分 {total:g} 分（自动评分 {auto:g}，人工评分 {manual:g}）/ {total:g} points"
