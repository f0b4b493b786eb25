"""`dangxiao validate [--sources DIR]`: check the datasets, the question bank and the course catalog.

The checks are a list of small functions (`CHECKS`), each taking the shared `Context` and returning
its problems, one line each naming the file/row and the cause. To add a check, decorate a function
with `@check("中文名 / English name")` in this module (or append a `Check` to `CHECKS`).
With `--sources DIR`, the articles in DIR are normalised and every quotation, figure and numeral is
checked against them, and so are the lessons (quoted wording, copied prose): DIR is passed on to the
lesson checks, which otherwise look in `$DANGXIAO_SEEDS` or `../shared/seeds`. Copied prose (a run of 20+
letters shared with an article, punctuation, quotation marks and spaces ignored, see `dangxiao.copying`)
is looked for in the lessons and scenarios, the assignments, the datasets' own-words columns and, as a
check of its own, the question bank. Every measure must be marked 做法 or 建议.
Exit status: 0 when there is no problem, 1 otherwise.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from dangxiao.errors import DangxiaoError

__all__ = ["Context", "Check", "CHECKS", "check", "run_checks"]


@dataclass
class Context:
    datasets: Path
    sources: Path | None = None
    courses: Path | None = None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # filled by the schema check

    def table(self, name: str) -> pd.DataFrame | None:
        return self.tables.get(name)


@dataclass(frozen=True)
class Check:
    title: str
    run: Callable[[Context], list[str]]
    needs_sources: bool = False


CHECKS: list[Check] = []


def check(title: str, needs_sources: bool = False):
    """Register a check function (runs in the order registered)."""
    def register(function: Callable[[Context], list[str]]):
        CHECKS.append(Check(title, function, needs_sources))
        return function
    return register


def _rows(frame: pd.DataFrame) -> list[dict[str, str]]:
    return [{k: ("" if pd.isna(v) else str(v)) for k, v in row.items()} for row in frame.to_dict("records")]


# ---------------------------------------------------------------- datasets

@check("数据集结构与类型 / dataset files, columns and types")
def check_schemas(ctx: Context) -> list[str]:
    from dangxiao.data import SCHEMAS, load_table

    problems = []
    for name in SCHEMAS:
        try:
            ctx.tables[name] = load_table(name, ctx.datasets)
        except DangxiaoError as error:
            problems.append(str(error))
    return problems


@check("编号唯一 / ids unique")
def check_unique_ids(ctx: Context) -> list[str]:
    from dangxiao.data import HOTLINE_FILE

    keys = {"sources.csv": "id", "places.csv": "place", "indicators.csv": "id", "measures.csv": "id",
            "glossary.csv": "term", "quotations.csv": "id", HOTLINE_FILE: "record_id"}
    problems = []
    for name, column in keys.items():
        frame = ctx.table(name)
        if frame is None:
            continue
        for value in frame.loc[frame[column].duplicated(), column].unique():
            problems.append(f"{ctx.datasets / name}: {column} '{value}' 重复 / duplicate {column}")
        for value in frame.loc[frame[column].str.strip() == "", column]:
            problems.append(f"{ctx.datasets / name}: 有一行 {column} 为空 / empty {column}")
    return problems


@check("来源与地点可查 / source ids and places known")
def check_references(ctx: Context) -> list[str]:
    sources, places = ctx.table("sources.csv"), ctx.table("places.csv")
    if sources is None or places is None:
        return []
    known = set(sources["id"])
    place_of = dict(zip(sources["id"], sources["place"]))
    known_places = set(places["place"])
    problems = []
    for row in _rows(places):
        if row["source"] not in known:
            problems.append(f"{ctx.datasets / 'places.csv'}: {row['place']}: 未知来源 '{row['source']}' / unknown source id")
    for name, key in (("indicators.csv", "id"), ("measures.csv", "id"), ("quotations.csv", "id"),
                      ("exclusions.csv", "text"), ("glossary.csv", "term")):
        frame = ctx.table(name)
        if frame is None:
            continue
        for row in _rows(frame):
            where = f"{ctx.datasets / name}: {row[key]}"
            ids = row["sources"].split(";") if name == "glossary.csv" else [row["source"]]
            for source in ids:
                if source not in known:
                    problems.append(f"{where}: 未知来源 '{source}' / unknown source id")
            if "place" in row:
                if row["place"] not in known_places:
                    problems.append(f"{where}: 未知地点 '{row['place']}' / place not in places.csv")
                elif place_of.get(row["source"]) not in (None, row["place"]):
                    problems.append(f"{where}: 地点 '{row['place']}' 与来源 {row['source']} 的地点不符 / place differs from its source's")
    return problems


@check("内容完整 / required values present")
def check_values(ctx: Context) -> list[str]:
    required = {"sources.csv": ("title", "place", "script"), "indicators.csv": ("indicator", "unit", "text"),
                "measures.csv": ("name", "description"), "glossary.csv": ("definition", "sources"),
                "quotations.csv": ("speaker", "text")}
    key = {"glossary.csv": "term"}
    problems = []
    for name, columns in required.items():
        frame = ctx.table(name)
        if frame is None:
            continue
        for row in _rows(frame):
            for column in columns:
                if not row[column].strip():
                    problems.append(f"{ctx.datasets / name}: {row[key.get(name, 'id')]}: '{column}' 为空 / empty {column}")
    indicators = ctx.table("indicators.csv")
    if indicators is not None:
        for row_id in indicators.loc[indicators["value"].isna(), "id"]:
            problems.append(f"{ctx.datasets / 'indicators.csv'}: {row_id}: value 为空 / empty value")
    sources = ctx.table("sources.csv")
    if sources is not None:
        for row in _rows(sources):
            if row["script"] not in ("simplified", "traditional"):
                problems.append(f"{ctx.datasets / 'sources.csv'}: {row['id']}: script 须为 simplified 或 traditional / unknown script")
    return problems


@check("模拟数据（12345 热线）/ simulated hotline records")
def check_hotline(ctx: Context) -> list[str]:
    from dangxiao.data import HOTLINE_FILE, SIMULATED_LABEL

    frame = ctx.table(HOTLINE_FILE)
    if frame is None:
        return []
    where, problems = ctx.datasets / HOTLINE_FILE, []
    if SIMULATED_LABEL not in HOTLINE_FILE:
        problems.append(f"{where}: 文件名须标明{SIMULATED_LABEL} / file name must say {SIMULATED_LABEL}")
    for row in frame.itertuples():
        rid = row.record_id
        if pd.notna(row.satisfaction) and not 1 <= row.satisfaction <= 5:
            problems.append(f"{where}: {rid}: satisfaction {row.satisfaction} 不在 1–5 / out of range")
        if row.status not in ("已办结", "办理中"):
            problems.append(f"{where}: {rid}: status '{row.status}' 应为 已办结 或 办理中 / unknown status")
        if pd.isna(row.received_at):
            problems.append(f"{where}: {rid}: received_at 为空 / empty received_at")
        if (row.status == "办理中") != pd.isna(row.closed_at):
            problems.append(f"{where}: {rid}: closed_at 与 status 不一致 / closed_at does not match the status")
        elif pd.notna(row.closed_at) and row.closed_at < row.received_at:
            problems.append(f"{where}: {rid}: closed_at 早于 received_at / closed before received")
    return problems


# ---------------------------------------------------------------- question bank

@check("题库 / question bank")
def check_question_bank(ctx: Context) -> list[str]:
    from dangxiao.questions import QuestionBankError, load_question_file

    folder = ctx.datasets / "questions"
    files = sorted(folder.glob("*.yaml"))
    if not files:
        return [f"{folder}: 没有题库文件 / no question files"]
    sources = ctx.table("sources.csv")
    source_ids = set(sources["id"]) if sources is not None else None
    problems, seen = [], {}
    for path in files:
        try:
            questions = load_question_file(path, source_ids)
        except QuestionBankError as error:
            problems.append(str(error))
            continue
        for question in questions:
            if question.id in seen:
                problems.append(f"{path}: 题目 {question.id}: 字段 'id': 与 {seen[question.id]} 重复 / id already used")
            seen[question.id] = path.name
    return problems


APPLIED_SHARE_MINIMUM = 0.40  # issue 14: at least 40 % of the bank at 应用 or 分析


@check("题库标签、层次比例与组卷 / bank tags, level share and paper mixes")
def check_bank_coverage(ctx: Context) -> list[str]:
    """Every item tagged (module, type, level, difficulty; checked on load), the bank's share of 应用/分析
    items, one essay per module, and every mix in `questions/mixes/*.yaml` fillable `reserve` times over."""
    from dangxiao.questions import APPLIED_LEVELS, QuestionBankError, applied_share, bank_fills_mix, load_mix, load_question_file

    folder = ctx.datasets / "questions"
    questions = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            questions += load_question_file(path)
        except QuestionBankError:
            return []  # reported by the question-bank check; shares and mixes of half a bank mean nothing
    if not questions:
        return []
    problems = []
    share = applied_share(questions)
    if share < APPLIED_SHARE_MINIMUM:
        problems.append(f"{folder}: {'/'.join(APPLIED_LEVELS)} 层次的题目只占 {share:.0%}，应不少于 {APPLIED_SHARE_MINIMUM:.0%}"
                        f" / only {share:.0%} of the items are at 应用 or 分析")
    modules = sorted({q.module for q in questions})
    for module in modules:
        if not any(q.module == module and q.type == "essay" for q in questions):
            problems.append(f"{folder}: 模块 {module} 没有简答题（essay）/ module {module} has no essay item")
    if ctx.courses is not None and (ctx.courses / "catalog.yaml").is_file():
        from dangxiao.catalog import load_catalog

        try:
            known = {module.id for module in load_catalog(ctx.courses).modules}
        except DangxiaoError:
            known = None  # reported by the lessons check
        for module in modules if known else ():
            if module not in known:
                problems.append(f"{folder}: 模块 {module} 不在课程目录中 / module {module} is not in catalog.yaml")
    for path in sorted((folder / "mixes").glob("*.yaml")):
        try:
            mix = load_mix(path)
        except QuestionBankError as error:
            problems.append(str(error))
            continue
        problems += [f"{path}: {shortfall}" for shortfall in bank_fills_mix(questions, mix.counts, mix.reserve)]
    return problems


INDICATOR_TAG = "indicator:"
SCALES = {"": 1, "万": 10 ** 4, "亿": 10 ** 8}


@check("题目中的数字与指标一致 / figures in questions match indicators.csv")
def check_question_figures(ctx: Context) -> list[str]:
    """A question tagged `indicator:<id>` (or `indicator:<id>@万`) answers with that indicator's value."""
    from dangxiao.questions import QuestionBankError, load_question_file

    indicators = ctx.table("indicators.csv")
    if indicators is None:
        return []
    value_of = dict(zip(indicators["id"], indicators["value"]))
    problems = []
    for path in sorted((ctx.datasets / "questions").glob("*.yaml")):
        try:
            questions = load_question_file(path)
        except QuestionBankError:
            continue  # reported by the question-bank check
        for question in questions:
            for tag in question.tags:
                if not str(tag).startswith(INDICATOR_TAG):
                    continue
                where = f"{path}: 题目 {question.id}: 字段 'tags'"
                indicator_id, _, scale = str(tag)[len(INDICATOR_TAG):].partition("@")
                if indicator_id not in value_of or scale not in SCALES:
                    problems.append(f"{where}: 未知指标或单位 '{tag}' / unknown indicator or scale")
                    continue
                try:
                    answer = float(question.answer)
                except (TypeError, ValueError):
                    problems.append(f"{where}: 答案 '{question.answer}' 不是数字 / answer is not a number")
                    continue
                if abs(answer * SCALES[scale] - value_of[indicator_id]) > 1e-6 * max(1.0, abs(value_of[indicator_id])):
                    problems.append(f"{where}: 答案 {question.answer}{scale} 与指标 {indicator_id} 的值 "
                                    f"{value_of[indicator_id]:g} 不符 / answer differs from the indicator")
    return problems


# ---------------------------------------------------------------- course catalog

@check("课程：目录、课件、学习目标、引文 / lessons: catalog, notebooks, objectives, quotations")
def check_lessons(ctx: Context) -> list[str]:
    """With --sources DIR the lessons are checked against DIR's articles (quoted wording, copied prose);
    without it, against $DANGXIAO_SEEDS or ../shared/seeds when found there."""
    from dangxiao.lessons import check_courses

    if ctx.courses is None or not (ctx.courses / "catalog.yaml").is_file():
        return []  # no courses folder beside these datasets (e.g. a wheel install): nothing to check
    problems, texts = [], None
    if ctx.sources is not None:
        try:
            texts = _texts(ctx)
        except DangxiaoError as error:  # an article missing from DIR: said once, and no other folder is used
            problems, texts = [str(error)], {}
    return problems + check_courses(ctx.courses, sources=texts)


@check("做法均标明性质（做法 / 建议）/ every measure has a status: reported practice or proposal")
def check_measure_statuses(ctx: Context) -> list[str]:
    from dangxiao.datasets.checks import check_measure_status

    frame = ctx.table("measures.csv")
    return [] if frame is None else check_measure_status(_rows(frame), str(ctx.datasets / "measures.csv"))


# ---------------------------------------------------------------- against the articles (--sources)

def _texts(ctx: Context) -> dict[str, str]:
    """The normalised articles; a missing/unreadable article is reported once (by the first check)."""
    from dangxiao.datasets.build import normalised_sources

    if "_texts" not in ctx.tables:
        sources = ctx.table("sources.csv")
        ctx.tables["_texts"] = {}
        if sources is not None:
            ctx.tables["_texts"] = normalised_sources(ctx.sources, _rows(sources))
    return ctx.tables["_texts"]


@check("引文与原文逐字一致 / quotations verbatim in their sources", needs_sources=True)
def check_quotations_verbatim(ctx: Context) -> list[str]:
    from dangxiao.datasets.checks import check_quotations

    frame, texts = ctx.table("quotations.csv"), _texts(ctx)
    return [] if frame is None or not texts else check_quotations(_rows(frame), texts, str(ctx.datasets / "quotations.csv"))


@check("指标数字与原文一致 / indicator texts present and read back to their values", needs_sources=True)
def check_indicators_against_sources(ctx: Context) -> list[str]:
    from dangxiao.datasets.checks import check_indicator_texts

    frame, texts = ctx.table("indicators.csv"), _texts(ctx)
    return [] if frame is None or not texts else check_indicator_texts(_rows(frame), texts, str(ctx.datasets / "indicators.csv"))


@check("原文中每个数字都有着落 / every numeral is an indicator or a documented exclusion", needs_sources=True)
def check_every_numeral(ctx: Context) -> list[str]:
    from dangxiao.datasets.checks import check_numeral_coverage

    indicators, exclusions, texts = ctx.table("indicators.csv"), ctx.table("exclusions.csv"), _texts(ctx)
    if indicators is None or exclusions is None or not texts:
        return []
    return check_numeral_coverage(_rows(indicators), _rows(exclusions), texts, str(ctx.datasets / "exclusions.csv"))


@check("做法与术语见于来源 / measure names and glossary terms occur in their sources", needs_sources=True)
def check_names(ctx: Context) -> list[str]:
    from dangxiao.datasets.checks import check_names_in_sources

    problems, texts = [], _texts(ctx)
    measures, glossary = ctx.table("measures.csv"), ctx.table("glossary.csv")
    if not texts:
        return []
    if measures is not None:
        problems += check_names_in_sources(_rows(measures), texts, "name", str(ctx.datasets / "measures.csv"))
    if glossary is not None:
        problems += check_names_in_sources(_rows(glossary), texts, "term", str(ctx.datasets / "glossary.csv"),
                                           key="term", sources_column="sources")
    return problems


# ---------------------------------------------------------------- copied prose (--sources)
# The lessons and courses/scenarios are covered by the lessons check above; these cover the rest. Each
# compares letters only (punctuation, quotation marks, spaces ignored; see dangxiao.copying).

@check("抄录原文：情景模拟（控件自带）/ copied prose: the widgets' scenarios", needs_sources=True)
def check_scenario_copies(ctx: Context) -> list[str]:
    from dangxiao.lessons import check_scenario_files
    from dangxiao.widgets.scenarios import SCENARIOS_DIR

    texts = _texts(ctx)
    return check_scenario_files(SCENARIOS_DIR, texts) if texts else []


@check("抄录原文：作业 / copied prose: assignments (text, model answers, rubrics)", needs_sources=True)
def check_assignment_copies(ctx: Context) -> list[str]:
    from dangxiao.assessments.nbgrader_route import is_built_paper
    from dangxiao.lessons import notebook_copy_problems
    from dangxiao.paths import assignments_dir

    texts, folder = _texts(ctx), assignments_dir() / "source"
    if not texts or not folder.is_dir():
        return []
    return [problem for path in sorted(folder.rglob("*.ipynb")) if ".ipynb_checkpoints" not in path.parts
            # a built test paper's text is the bank's, checked there (its key runs options together)
            and not is_built_paper(path) for problem in notebook_copy_problems(path, texts)]



@check("抄录原文：数据集 / copied prose: the datasets' own-words columns", needs_sources=True)
def check_dataset_copies(ctx: Context) -> list[str]:
    from dangxiao.datasets.checks import PROSE_COLUMNS, check_copied_prose

    texts = _texts(ctx)
    tables = {name: _rows(ctx.table(name)) for name in PROSE_COLUMNS if ctx.table(name) is not None}
    return [f"{ctx.datasets}/{problem}" for problem in check_copied_prose(tables, texts)] if texts else []


@check("抄录原文：题库 / copied prose: the question bank", needs_sources=True)
def check_bank_copies(ctx: Context) -> list[str]:
    """Kept apart from the other copy checks: the bank has its own maintainers (see the issue-14 notes)."""
    from dangxiao.lessons import yaml_copy_problems

    texts = _texts(ctx)
    if not texts:
        return []
    return [problem for path in sorted((ctx.datasets / "questions").glob("*.yaml"))
            for problem in yaml_copy_problems(path, texts, skip=("id", "source", "sources", "tags"))]


# ---------------------------------------------------------------- running

def run_checks(ctx: Context, out=print) -> int:
    """Run every check, print a summary; returns the number of problems."""
    total = 0
    for item in CHECKS:
        if item.needs_sources and ctx.sources is None:
            continue
        try:
            problems = item.run(ctx)
        except DangxiaoError as error:  # e.g. a source file missing: report it, go on with the rest
            problems = [str(error)]
        total += len(problems)
        out(f"{'✓' if not problems else '✗'} {item.title}" + (f"：{len(problems)} 个问题" if problems else ""))
        for problem in problems:
            out(f"    {problem}")
    if ctx.sources is None:
        out("（未指定 --sources，跳过与原文的核对 / without --sources the checks against the articles are skipped）")
    out("全部通过 / all checks passed" if total == 0 else f"发现 {total} 个问题 / {total} problem(s) found")
    return total


def configure(parser: argparse.ArgumentParser) -> None:
    """Add this subcommand's arguments."""
    parser.add_argument("--sources", type=Path, metavar="DIR",
                        help="原文目录（如 ../shared/seeds）：核对引文、数字与原文 / the source articles: check quotations and figures against them")
    parser.add_argument("--datasets", type=Path, metavar="DIR",
                        help="数据集目录（默认：包内 datasets）/ datasets folder (default: the package's)")
    parser.add_argument("--courses", type=Path, metavar="DIR",
                        help="课程目录（默认：项目的 courses/）/ courses folder (default: the project's)")


def run(args: argparse.Namespace) -> int:
    from dangxiao.paths import courses_dir, datasets_dir

    datasets = args.datasets or datasets_dir()
    if not Path(datasets).is_dir():
        raise DangxiaoError(f"{datasets}: 数据集目录不存在 / datasets folder not found")
    if args.sources is not None and not args.sources.is_dir():
        raise DangxiaoError(f"{args.sources}: 原文目录不存在 / sources folder not found")
    ctx = Context(datasets=Path(datasets), sources=args.sources, courses=args.courses or courses_dir())
    return 1 if run_checks(ctx) else 0
