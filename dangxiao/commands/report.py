"""`dangxiao report`: cohort summary, item analysis, transcripts and 学时 from nbgrader's gradebook."""
from __future__ import annotations

import argparse
from pathlib import Path

from dangxiao.errors import DangxiaoError

EPILOG = """\
输出 / output:
  不加选项时在终端打印总表与题目分析；--xlsx 写 Excel（总表、题目分析、成绩单、学时四张表），
  --csv 写四个 UTF-8（带 BOM）CSV 文件，--charts 写得分分布与题目难度-区分度图（PNG）。
  Without options, prints the summary and the item analysis; --xlsx/--csv/--charts write files.

题目分析的提示 / item flags (Moodle's quiz statistics):
  过易 难度系数 > 0.90；过难 < 0.20；负区分度 区分度 < 0；区分度低 < 20；区分效率低 < 15；
  区分度无法计算：该题或其余题得分无差异（如全员满分）或提交人数 < 2。

学时 / study hours:
  默认 ≥30 分钟的课 1 学时，15–30 分钟 0.5，≤15 分钟 0.25，每通过一次测验 0.5（及格线 60%）；
  --credit-rule 规则.yaml 可改（格式见 dangxiao.credit_rule）。完成了哪些课：默认取本站的学习记录
  （--records，有效学习时长达到课程时长的 80% 且做过课后自测的课算完成），并写出“学习记录”表；
  --completions 给出别处导出的 lesson_id,student_id 表；都没有时推定已交作业的学员学完全部课程（表中注明）。

简答题要点提示 / key-point hints (--hints):
  读取 source/<作业>/rubric.yaml（或 --rubric），对每份提交的人工评分单元格列出已覆盖 ✓ / 未覆盖 ✗
  的要点及依据词，仅供阅卷参考，不计分。测验试卷（dangxiao exam build）不需要 rubric.yaml：
  要点取自题库中每道简答题的 key_points（formgrader 中每道简答题上方也有同样的提示）。
"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Add this subcommand's arguments."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    parser.add_argument("assignment", nargs="?", help="作业名（不填则全部）/ assignment name (default: all)")
    parser.add_argument("--course", type=Path, help="nbgrader 课程目录（含 gradebook.db），默认 assignments/ / course folder")
    parser.add_argument("--db", help="成绩库文件或数据库 URL，默认 <课程目录>/gradebook.db / gradebook file or URL")
    parser.add_argument("--xlsx", type=Path, metavar="FILE", help="写出 Excel 工作簿 / write an Excel workbook")
    parser.add_argument("--csv", type=Path, metavar="DIR", help="写出 CSV（utf-8-sig）到此目录 / write CSV files here")
    parser.add_argument("--charts", type=Path, metavar="DIR", help="写出 PNG 图表到此目录 / write PNG charts here")
    parser.add_argument("--courses", type=Path, metavar="DIR", help="课程目录（含 catalog.yaml），默认 courses/ / lesson catalog folder")
    parser.add_argument("--completions", type=Path, metavar="CSV", help="完成课程记录 lesson_id,student_id / lesson completions")
    parser.add_argument("--credit-rule", type=Path, metavar="YAML", help="学时认定规则 / crediting rule")
    parser.add_argument("--records", metavar="URL", default=None,
                        help="学习记录库（默认 $DANGXIAO_DB 或 data/records.sqlite）/ the learning record store")
    parser.add_argument("--no-records", action="store_true", help="不读学习记录 / ignore the learning record")
    parser.add_argument("--transcripts", type=Path, metavar="DIR",
                        help="每位学员一份结业成绩单（Word）写到此目录 / one 结业 transcript (.docx) per trainee")
    parser.add_argument("--bank-view", type=Path, metavar="HTML",
                        help="题库分析页：每道题旁列出本期各卷中的难度与区分度 / the bank with each question's figures")
    parser.add_argument("--final", default="final", metavar="ID", help="结业测试的 id（默认 final）/ the closing test")
    parser.add_argument("--pass-mark", type=float, metavar="0-1", help="及格线（得分率，覆盖规则文件）/ pass mark, e.g. 0.6")
    parser.add_argument("--hints", action="store_true", help="打印简答题要点提示（需指定作业）/ print key-point hints for written answers")
    parser.add_argument("--rubric", type=Path, metavar="YAML", help="评分要点文件，默认 source/<作业>/rubric.yaml / rubric file")


def _course(args) -> Path:
    if args.course is not None:
        return args.course
    from dangxiao.paths import assignments_dir

    return assignments_dir()


def _rule(args):
    from dataclasses import replace

    from dangxiao.grading.credit import CreditRule, load_credit_rule

    rule = load_credit_rule(args.credit_rule) if args.credit_rule else CreditRule()
    if args.pass_mark is not None:
        if not 0 < args.pass_mark <= 1:
            raise DangxiaoError(f"--pass-mark {args.pass_mark}: 须在 0 到 1 之间，如 0.6 / must be a fraction in (0, 1]")
        rule = replace(rule, pass_mark=args.pass_mark)
    return rule


def _learning_record(args, catalog, rule, course: Path):
    """The study table, first lesson attempts and test results of the site's record store, or Nones when
    there is none (no --records and no default store yet, or a store without trainees)."""
    if args.no_records:
        return None, None, None, {}
    import pandas as pd

    from dangxiao.records import default_db_url, open_store
    from dangxiao.records.exams import exam_results, paper_results
    from dangxiao.records.study import study_table

    url = args.records or default_db_url()
    if args.records is None and url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).is_file():
        return None, None, None, {}
    store = open_store(url)
    if not store.accounts(role="trainee"):
        return None, None, None, {}
    attempts = pd.DataFrame(
        [(a.account_id, a.lesson_id, a.question_id, a.correct) for a in store.attempts(first_only=True)
         if not a.lesson_id.startswith("exam:")],  # test items are analysed with the gradebook's
        columns=["学号", "lesson_id", "question_id", "correct"])
    print(f"学习记录 / learning record: {store.url}")
    blueprints = _blueprints(course)
    papers = {b.id: paper_results(store, b) for b in blueprints.values() if b.counted}
    return study_table(store, catalog, rule), attempts, exam_results(store, blueprints), papers


def _blueprints(course: Path) -> dict:
    """The course's test blueprints that load (a broken one is named and left out)."""
    from dangxiao.assessments.blueprint import load_blueprint

    blueprints = {}
    for path in sorted((course / "assessments").glob("*.yaml")):
        try:
            blueprint = load_blueprint(path)
        except DangxiaoError as error:
            print(f"注 / note: {error}")
            continue
        blueprints[blueprint.id] = blueprint
    return blueprints


def _print_table(title: str, frame) -> None:
    import pandas as pd

    print(f"\n== {title} ==")
    with pd.option_context("display.max_rows", 60, "display.max_columns", 30, "display.width", 200,
                           "display.unicode.east_asian_width", True, "display.float_format", "{:.2f}".format):
        print(frame.to_string(index=False) if len(frame) <= 60 else frame)


def _print_hints(course: Path, args) -> None:
    from dangxiao.grading.rubric_hints import course_hints, load_rubric

    from dangxiao.assessments.nbgrader_route import is_built_paper
    from dangxiao.grading.essay_hints import course_paper_hints, hint_lines

    if not args.assignment:
        raise DangxiaoError("--hints: 请指定作业名，如 dangxiao report a03 --hints / name the assignment")
    if args.rubric is None and is_built_paper(course / "source" / args.assignment / f"{args.assignment}.ipynb"):
        rows = course_paper_hints(course, args.assignment)  # the bank's key points, carried by each submission
    else:
        rubric = load_rubric(args.rubric or course / "source" / args.assignment / "rubric.yaml")
        rows = course_hints(course, args.assignment, rubric)
    print(f"\n== 简答题要点提示（仅供阅卷参考，不计分）/ key-point hints, not grades: {args.assignment} ==")
    if not rows:
        print(f"（{course}/autograded 与 submitted 中没有 {args.assignment} 的提交 / no submissions found）")
    for row in rows:
        if "error" in row:
            print(f"{row['student']} · {row['notebook']}: ⚠ {row['error']}")
            continue
        print(f"{row['student']} · {row['notebook']} · {row['cell']}")
        for line in hint_lines(row["hints"], bullet="    "):
            print(line)


def run(args: argparse.Namespace) -> int:
    from dangxiao.grading.credit import load_completions
    from dangxiao.grading.report import CHART_FILES, CSV_FILES, build_report, load_gradebook, write_charts, write_csv, write_excel

    course = _course(args)
    rule = _rule(args)
    data = load_gradebook(args.db or course)

    from dangxiao.catalog import load_catalog

    catalog = load_catalog(args.courses)
    completions = None
    if args.completions:
        completions = load_completions(args.completions, {lesson.id for lesson in catalog.lessons})
    study, attempts, exams, papers = _learning_record(args, catalog, rule, course)

    report = build_report(data, args.assignment, catalog=catalog, rule=rule, completions=completions,
                          study=study, lesson_attempts=attempts, exams=exams, final_id=args.final)
    from dangxiao.grading.bank_report import bank_analysis, write_bank_view
    from dangxiao.questions import load_bank

    bank = load_bank()
    if papers:
        report.bank_items, report.reliability = bank_analysis(bank, papers)
        _print_table("试卷信度 / reliability", report.reliability)
    _print_table("总表 / cohort summary", report.summary)
    _print_table("题目分析 / item analysis", report.items)
    for note in report.notes:
        print(f"注 / note: {note}")
    planned = [args.xlsx] if args.xlsx else []
    planned += [args.csv / name for name in CSV_FILES] if args.csv else []
    planned += [args.charts / name for name in CHART_FILES] if args.charts else []
    existing = {path for path in planned if path.exists()}
    written = []
    try:
        if args.xlsx:
            written.append(write_excel(report, args.xlsx))
        if args.csv:
            written.extend(write_csv(report, args.csv))
        if args.charts:
            written.extend(write_charts(report, args.charts))
    except OSError as error:
        raise DangxiaoError(f"{error.filename}: 无法写入 / cannot write ({error.strerror})") from None
    if args.transcripts:
        from dangxiao.grading.transcripts import write_transcripts

        if report.graduation.empty:
            print("注 / note: 没有学习记录，未写结业成绩单 / no learning record: no transcripts")
        else:
            written.extend(write_transcripts(report.graduation, report.exams, report.study, args.transcripts,
                                             catalog.title))
    if args.bank_view:
        written.append(write_bank_view(bank, report.bank_items, report.reliability, args.bank_view))
    for path in written:
        replaced = "（覆盖了旧文件 / replaced the old file）" if path in existing else ""
        print(f"已写出 / written: {path}{replaced}")
    if args.hints:
        _print_hints(course, args)
    return 0
