"""The bank learns: after a cohort, how each question did across all the papers it appeared on, and how
reliable each test's papers were — in `dangxiao report` (题库分析, 试卷信度) and as an instructor's view
of the whole bank (`dangxiao report --bank-view 题库.html`), every question with its figures beside it.

Item figures are per item id over the trainees whose paper held it (`reliability.items_across_papers`);
reliability is over positions (`reliability.paper_reliability`, see its docstring for why). Both come
from the papers as scored at 交卷 by the key, from the site's record.
"""
from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Mapping

import pandas as pd

from dangxiao.grading.reliability import ITEM_COLUMNS, items_across_papers, paper_reliability, position_scores

__all__ = ["BANK_COLUMNS", "RELIABILITY_COLUMNS", "bank_analysis", "write_bank_view"]

BANK_COLUMNS = ["测验", "模块", "题型", "层次", "难度", *ITEM_COLUMNS, "题干"]
RELIABILITY_COLUMNS = ["测验", "人数", "题数", "平均分", "标准差", "信度 α（KR-20）", "CIC", "误差比 ER", "标准误 SE"]
TYPE_NAMES = {"single": "单选", "multiple": "多选", "truefalse": "判断", "fill": "填空", "numeric": "数值",
              "matching": "连线", "ordering": "排序", "essay": "简答"}


def bank_analysis(bank: Mapping, results_by_test: Mapping[str, list]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(题库分析, 试卷信度) for the scored papers of each test (`records.exams.paper_results`)."""
    items, reliability = [], []
    for test_id, results in results_by_test.items():
        if not results:
            continue
        stats = items_across_papers(results)
        for _, row in stats.iterrows():
            question = bank.get(row["题目"])
            items.append({"测验": test_id, "模块": getattr(question, "module", ""),
                          "题型": TYPE_NAMES.get(getattr(question, "type", ""), ""),
                          "层次": getattr(question, "level", ""), "难度": getattr(question, "difficulty", ""),
                          **row.to_dict(), "题干": getattr(question, "stem", "")})
        figures = paper_reliability(position_scores(results))
        reliability.append([test_id, figures.n, figures.k, _round(figures.mean), _round(figures.sd),
                            _round(figures.alpha, 3), _round(figures.cic), _round(figures.error_ratio),
                            _round(figures.standard_error)])
    return pd.DataFrame(items, columns=BANK_COLUMNS), pd.DataFrame(reliability, columns=RELIABILITY_COLUMNS)


def _round(value: float, digits: int = 2):
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else round(value, digits)


def write_bank_view(bank: Mapping, items: pd.DataFrame, reliability: pd.DataFrame, path: Path | str) -> Path:
    """One offline HTML page: every bank question, module by module, with its figures from the tests
    (blank where no paper held it yet); flagged questions are marked for revision."""
    figures = {row["题目"]: row for _, row in items.iterrows()}
    rows = []
    for question in sorted(bank.values(), key=lambda q: (q.module, q.id)):
        row = figures.get(question.id)
        flags = str(row["提示"]) if row is not None and isinstance(row["提示"], str) else ""
        cells = [question.id, question.module, TYPE_NAMES.get(question.type, question.type), question.level,
                 question.difficulty, question.stem]
        cells += ["" if row is None else _shown(row[c]) for c in ("人数", "难度系数", "区分度", "区分效率")]
        cells.append(flags)
        mark = ' class="flagged"' if flags else ""
        rows.append(f"<tr{mark} data-question-id=\"{html.escape(question.id)}\">"
                    + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    reliability_rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_shown(v))}</td>" for v in row) + "</tr>"
        for row in reliability.itertuples(index=False))
    page = f"""<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>题库分析</title>
<style>body{{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:1.5rem}}table{{border-collapse:collapse;width:100%}}
td,th{{border:1px solid #ddd;padding:.3rem .5rem;vertical-align:top}}th{{background:#f3efe6}}tr.flagged{{background:#fff0ee}}</style>
</head><body><h1>题库分析</h1>
<p>每题的数据来自本期所有含该题的试卷（首次交卷按答案评分）：难度系数 = 平均得分 / 满分，区分度 = 该题与试卷其余部分得分的相关（×100）。
标红的题目有提示（过易、过难、区分度低等），建议修改或替换。未被抽到的题目数据为空。</p>
<h2>试卷信度</h2><table><tr>{''.join(f'<th>{c}</th>' for c in RELIABILITY_COLUMNS)}</tr>{reliability_rows}</table>
<h2>题目</h2><table><tr><th>题号</th><th>模块</th><th>题型</th><th>层次</th><th>难度</th><th>题干</th><th>人数</th><th>难度系数</th>
<th>区分度</th><th>区分效率</th><th>提示</th></tr>{''.join(rows)}</table></body></html>"""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


def _shown(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
