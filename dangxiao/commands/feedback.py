"""`dangxiao feedback ASSIGNMENT`: HTML feedback per trainee, without hidden tests.

Runs nbgrader's `GenerateFeedback` with `ClearHiddenTestsFromFeedback` inserted after `GetGrades`
and an offline template (no CDN MathJax; see `dangxiao.grading.feedback`), then checks every written file: if any line of a hidden test
from the gradebook shows up in a feedback page's text, that page is removed and reported.
`--release` copies the feedback into the exchange for trainees to fetch (`nbgrader fetch_feedback`).
"""
from __future__ import annotations

import argparse

from dangxiao.errors import DangxiaoError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignment", metavar="ASSIGNMENT", help="作业 id，如 a01 / assignment id")
    parser.add_argument("--course", metavar="DIR", help="课程目录（默认 assignments/）/ nbgrader course folder")
    parser.add_argument("--student", metavar="ID", help="只为这名学员生成 / only this trainee")
    parser.add_argument("--release", action="store_true",
                        help="生成后发布到交换目录 / also release feedback to the exchange")


def run(args: argparse.Namespace) -> int:
    from dangxiao.grading.course import check_result, course_api, course_info, find_course, load_course_config
    from dangxiao.grading.feedback import feedback_config, hidden_test_lines, leaked_feedback

    course = find_course(args.course)
    assignment = args.assignment
    autograded = sorted(course.glob(f"autograded/*/{assignment}"))
    if args.student:
        autograded = [p for p in autograded if p.parent.name == args.student]
    if not autograded:
        raise DangxiaoError(f"{course / 'autograded'}: 作业 {assignment} 还没有评分结果，请先运行 "
                            f"dangxiao autograde {assignment} / nothing autograded yet")
    config = load_course_config(course)
    api = course_api(course, feedback_config(config))
    title = course_info(config).assignment_title(assignment)

    check_result(api.generate_feedback(assignment, args.student, force=True),
                 f"{course / 'feedback'}: 生成反馈失败 / generate_feedback failed")

    pages = sorted(course.glob(f"feedback/{args.student or '*'}/{assignment}/*.html"))
    leaks = leaked_feedback(pages, hidden_test_lines(api, assignment))
    for page in leaks:
        page.unlink()  # our own output, never a submission: a page that would leak is not kept
    print(f"{title}（{assignment}）反馈 / feedback: {len(pages) - len(leaks)} 个页面 / pages")
    for page in pages:
        if page not in leaks:
            print(f"  {page.relative_to(course)}")
    if leaks:
        raise DangxiaoError(f"{leaks[0]}: 反馈中出现隐藏测试内容，已删除该页面 / hidden test text found, page removed")

    if args.release:
        release_each(api, course, assignment, sorted({page.parts[-3] for page in pages if page not in leaks}))
    return 0


def release_each(api, course, assignment: str, students: list[str]) -> None:
    """Release each trainee's feedback to the exchange; one failure does not stop the others.

    nbgrader files feedback under a hash of the submission's `timestamp.txt` and
    `submission_secret.txt` (written by `nbgrader submit` / `collect`); a submission copied in by
    hand has neither, and its feedback cannot be released that way.
    """
    from dangxiao.grading.course import check_result

    failed = []
    for student in students:
        folder = course / "feedback" / student / assignment
        missing = [name for name in ("timestamp.txt", "submission_secret.txt") if not (folder / name).is_file()]
        if missing:
            failed.append(f"{folder / missing[0]}: 缺少（不是经交换目录提交、收取的作业），请直接把 HTML 交给学员 / "
                          "missing: not submitted through the exchange, hand the HTML over directly")
            continue
        try:
            check_result(api.release_feedback(assignment, student), f"{course}: 发布 {student} 的反馈失败")
        except DangxiaoError as error:
            failed.append(str(error))
    released = len(students) - len(failed)
    print(f"已发布到交换目录 / released to the exchange: {released} 名学员 / trainees → "
          f"{api.exchange_root}/{api.course_id}/feedback")
    for problem in failed:
        print(f"  ✗ {problem}")
    if failed:
        raise DangxiaoError(f"{len(failed)} 名学员的反馈未发布 / feedback not released for {len(failed)}: {failed[0]}")
