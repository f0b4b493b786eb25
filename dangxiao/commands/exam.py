"""`dangxiao exam …`: the instructor's side of the tests drawn per trainee.

  dangxiao exam check final                         # the blueprint against the bank
  dangxiao exam paper final --trainee zhang_san     # that trainee's paper (Markdown on stdout)
  dangxiao exam paper final --trainee zhang_san --attempt 2 --key -o 试卷.docx   # with key, as Word
  dangxiao exam build final                         # write assignments/source/final/final.ipynb
  dangxiao exam collect final                       # papers finished on the site → submitted/ (if any is missing)
  dangxiao exam collect final --outbox /srv/dangxiao/exam-outbox/jiceng_zhili   # … taken on the hub
  dangxiao exam release-results final               # trainees see their scores; wrong items join their 错题本

Blueprints are read from `assignments/assessments/` (`--blueprints DIR`), the bank from
`datasets/questions/` (`--bank DIR`).
"""
from __future__ import annotations

import argparse
from datetime import datetime, timezone
from pathlib import Path

from dangxiao.errors import DangxiaoError


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="exam_command", metavar="ACTION", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("assessment", metavar="ASSESSMENT", help="测验 id（蓝图文件名）或蓝图路径 / blueprint id or path")
        p.add_argument("--blueprints", metavar="DIR", help="蓝图目录（默认 assignments/assessments/）/ blueprint folder")
        p.add_argument("--bank", metavar="DIR", help="题库目录（默认 datasets/questions/）/ question bank folder")

    check = sub.add_parser("check", help="按题库检查蓝图 / check a blueprint against the bank")
    common(check)
    paper = sub.add_parser("paper", help="打印某学员的试卷 / print a trainee's paper")
    common(paper)
    paper.add_argument("--trainee", required=True, metavar="ID", help="学员 id / trainee id")
    paper.add_argument("--attempt", type=int, default=1, metavar="N", help="第几次作答（默认 1）/ attempt number")
    paper.add_argument("--key", action="store_true", help="附答案与解析（仅供教员）/ include the key and explanations")
    paper.add_argument("-o", "--output", metavar="FILE", help="写入 .md 或 .docx 文件（默认打印）/ write .md or .docx")
    paper.add_argument("--force", action="store_true", help="覆盖已有的输出文件 / overwrite FILE")
    build = sub.add_parser("build", help="生成 nbgrader 源笔记本 / write the nbgrader source notebook")
    common(build)
    build.add_argument("--course", metavar="DIR", help="课程目录（默认 assignments/）/ nbgrader course folder")
    for name, text in (("collect", "把站点上已交的试卷写成 nbgrader 提交 / write finished papers as nbgrader submissions"),
                       ("release-results", "向学员公布成绩与解析 / let trainees see their results")):
        action = sub.add_parser(name, help=text, description=text)
        common(action)
        action.add_argument("--course", metavar="DIR", help="课程目录（默认 assignments/）/ nbgrader course folder")
        action.add_argument("--db", metavar="URL", help="学习记录库（默认 $DANGXIAO_DB 或 data/records.sqlite）/ record store")
        if name == "collect":
            action.add_argument("--outbox", metavar="DIR", type=Path,
                                help="JupyterHub 学习记录服务为本课程留下试卷的目录（不读记录库）/ the course's folder of "
                                "papers left by the hub's records service (the record store is not read)")


def _load(args):
    from dangxiao.assessments import assessment_bank, load_blueprint
    from dangxiao.questions import load_bank

    bank = load_bank(args.bank)
    folder = args.blueprints
    if folder is None and getattr(args, "course", None) and (Path(args.course) / "assessments").is_dir():
        folder = Path(args.course) / "assessments"  # a course installed with its blueprints (e.g. on the hub)
    blueprint = load_blueprint(args.assessment, folder)
    return blueprint, assessment_bank(blueprint, bank)


def run(args: argparse.Namespace) -> int:
    from dangxiao.assessments import check_blueprint

    blueprint, bank = _load(args)
    check_blueprint(blueprint, bank)
    if args.exam_command == "check":
        return _check(blueprint, bank)
    if args.exam_command == "paper":
        return _paper(args, blueprint, bank)
    if args.exam_command in ("collect", "release-results"):
        return _site(args, blueprint, bank)
    return _build(args, blueprint, bank)


def _site(args, blueprint, bank) -> int:
    """What instructors do with the papers taken on the site (the record store)."""
    from dangxiao.grading.course import find_course
    from dangxiao.records import exams, open_store

    if getattr(args, "outbox", None) is not None:
        return _collect_outbox(find_course(args.course), args.outbox, blueprint, bank)

    store = open_store(args.db)
    now = datetime.now(timezone.utc)
    exams.finish_expired(store, {blueprint.id: blueprint}, bank, now)
    if args.exam_command == "release-results":
        count = exams.release_results(store, blueprint)
        print(f"{blueprint.id}: 已公布 {count} 份试卷的成绩 / results released for {count} papers")
        return 0
    written = exams.export_pending(store, blueprint, bank, find_course(args.course))
    print(f"{blueprint.id}: 写出 {len(written)} 份提交 / {len(written)} submissions written")
    for folder in written:
        print(f"  {folder}")
    return 0


def _collect_outbox(course: Path, outbox: Path, blueprint, bank) -> int:
    """Papers the hub's records service left in `outbox` → `submitted/<trainee>/<id>/`. One already
    collected (same timestamp) is skipped; a later attempt replaces it (the old one archived, never
    deleted); a file that is not a valid paper of this test is named with its cause and the rest go on."""
    import datetime as dt

    from dangxiao.assessments import draw_paper
    from dangxiao.assessments.handoff import attempt_files, read_attempt_file
    from dangxiao.assessments.nbgrader_route import TIMESTAMP_FORMAT, write_submission
    from dangxiao.assessments.paper import Paper

    import os

    if not outbox.is_dir() or not os.access(outbox, os.R_OK | os.X_OK):
        raise DangxiaoError(f"{outbox}: 目录不存在或无权读取 / no such folder, or not readable")
    papers = outbox / blueprint.id
    if not papers.is_dir():
        courses = sorted(p.parent.name for p in outbox.glob(f"*/{blueprint.id}"))
        if courses:  # the outbox's root was given, not one course's folder
            raise DangxiaoError(f"{outbox}: 这是各课程试卷目录的上一级，请指定课程的目录，如 {outbox / courses[0]} / "
                                "give one course's folder")
        print(f"{blueprint.id}: {papers} 还没有试卷（还没有人交卷）/ no papers yet")
        return 0
    if not os.access(papers, os.R_OK | os.X_OK):
        raise DangxiaoError(f"{papers}: 无权读取（本命令须以课程的评分账号运行）/ not readable: run as the course's grader")
    written, skipped, failed = [], 0, []
    for path in attempt_files(outbox, blueprint.id):
        try:
            record = read_attempt_file(path, blueprint.id)
            try:
                paper = Paper.from_dict(record.paper)
            except (KeyError, TypeError, ValueError) as error:
                raise DangxiaoError(f"{path}: 试卷格式有误 / malformed paper ({type(error).__name__})") from None
            drawn = draw_paper(blueprint, bank, record.trainee, record.attempt)
            if paper.trainee_id != record.trainee or paper.to_dict() != drawn.to_dict():
                raise DangxiaoError(f"{path}: 不是蓝图 {blueprint.file} 为该学员第 {record.attempt} 次作答抽出的试卷"
                                    "（蓝图或题库改过？本命令须与学习记录服务用同一份蓝图和题库，见 --blueprints、--bank）/ "
                                    "not the paper this blueprint draws for this trainee and attempt")
            folder = course / "submitted" / record.trainee / blueprint.id
            stamp = record.submitted_at.astimezone(dt.timezone.utc).strftime(TIMESTAMP_FORMAT)
            if (folder / "timestamp.txt").is_file() and (folder / "timestamp.txt").read_text(encoding="utf-8").strip() == stamp:
                skipped += 1
                continue
            written.append(write_submission(course, record.trainee, paper, record.answers, record.submitted_at,
                                            bank=bank, replace=folder.exists()))
        except DangxiaoError as error:
            failed.append(str(error) if str(error).startswith(str(path)) else f"{path}: {error}")
        except OSError as error:  # the course folder, not the file: e.g. no room left, or not the grader
            failed.append(f"{path}: 未能写入课程 {course}（{error.strerror}: {error.filename}）/ cannot write the submission")
    print(f"{blueprint.id}: 写出 {len(written)} 份提交，已收取过 {skipped} 份 / {len(written)} written, {skipped} already there")
    for folder in written:
        print(f"  {folder}")
    for problem in failed:
        print(f"  ⚠ {problem}")
    return 1 if failed else 0


def _check(blueprint, bank) -> int:
    from dangxiao.assessments.blueprint import draw_pools

    pools = draw_pools(blueprint, bank)
    items = len(blueprint.fixed) + sum(d.count for d in blueprint.draws)
    points = sum(blueprint.points[bank[q].type] for q in blueprint.fixed) + sum(
        blueprint.points[d.type] * d.count for d in blueprint.draws)
    print(f"{blueprint.file}: 通过 / ok — {blueprint.title}（{blueprint.id}，{'考试' if blueprint.counted else '练习'}）"
          f" {items} 题，满分 {points:g} 分")
    for draw, pool in zip(blueprint.draws, pools):
        print(f"  {draw.describe()}: 抽 {draw.count} / 可选 {len(pool)} (×{len(pool) / draw.count:.1f})")
    return 0


def _paper(args, blueprint, bank) -> int:
    from dangxiao.assessments import draw_paper
    from dangxiao.assessments.printout import paper_blocks, paper_markdown

    paper = draw_paper(blueprint, bank, args.trainee, args.attempt)
    if not args.output:
        print(paper_markdown(paper, bank, key=args.key), end="")
        return 0
    target = Path(args.output)
    if target.exists() and not args.force:
        raise DangxiaoError(f"{target}: 已存在，未覆盖；要覆盖请加 --force / exists, use --force")
    if target.suffix.lower() == ".docx":
        _write_docx(target, paper_blocks(paper, bank, key=args.key))
    elif target.suffix.lower() in (".md", ".markdown", ".txt"):
        target.write_text(paper_markdown(paper, bank, key=args.key), encoding="utf-8")
    else:
        raise DangxiaoError(f"{target}: 只能写 .md 或 .docx / write .md or .docx")
    print(f"已写入 / written: {target}")
    return 0


def _write_docx(target: Path, blocks) -> None:
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    document = Document()
    style = document.styles["Normal"]
    style.font.size = Pt(11)
    # East Asian text needs its own font slot in Word, or it falls back to a Latin font's glyph box
    style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")
    for kind, text in blocks:
        if kind == "title":
            document.add_heading(text, level=1)
        elif kind == "heading":
            document.add_heading(text, level=2)
        elif kind == "option":
            document.add_paragraph(text).paragraph_format.left_indent = Pt(18)
        elif kind == "key":
            run = document.add_paragraph().add_run(text)
            run.font.color.rgb = RGBColor(0xB0, 0x1C, 0x1C)
        else:
            document.add_paragraph(text)
    target.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(target))


def _build(args, blueprint, bank) -> int:
    from dangxiao.assessments.nbgrader_route import write_source_notebook
    from dangxiao.grading.course import find_course

    course = find_course(args.course)
    path = write_source_notebook(blueprint, bank, course)
    print(f"已生成 / written: {path}（下一步 / next: dangxiao release {blueprint.id}）")
    return 0
