"""结业: the class list and one transcript per trainee, for the training centre's files.

A trainee's transcript gathers what the rest of the report already computed: the 学时 credited from the
learning record (lessons completed by the crediting rule, passed tests), every counted test taken in the
site with its score, and the result of the closing test (`final` by default). 结业 is 合格 when the
closing test is passed; a trainee who has not taken it is 未参加, one whose essays wait for the formgrader
is 待评分. Written as Word files (python-docx), one per trainee, named `<学号>-<姓名>.docx`.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["GRADUATION_COLUMNS", "graduation_table", "write_transcripts"]

GRADUATION_COLUMNS = ["学号", "姓名", "班级", "完成课程数", "合计学时", "结业测试得分", "结业测试得分率（%）", "结业"]


def graduation_table(credit: pd.DataFrame, exams: pd.DataFrame, study: pd.DataFrame, final_id: str = "final") -> pd.DataFrame:
    """One row per trainee of the 学时 table: hours, the closing test and 结业."""
    classes = study.drop_duplicates("学号").set_index("学号")["班级"] if len(study) else pd.Series(dtype=str)
    final = exams[exams["测验"] == final_id].set_index("学号") if len(exams) else pd.DataFrame()
    rows = []
    for _, row in credit.iterrows():
        trainee = row["学号"]
        taken = trainee in final.index if len(final) else False
        passed = final.loc[trainee, "合格"] if taken else None
        verdict = "未参加" if not taken else ("待评分" if passed is None or pd.isna(passed) else ("合格" if passed else "不合格"))
        rows.append([trainee, row["姓名"], classes.get(trainee, ""), int(row["完成课程数"]), float(row["合计学时"]),
                     final.loc[trainee, "得分"] if taken else None, final.loc[trainee, "得分率（%）"] if taken else None,
                     verdict])
    return pd.DataFrame(rows, columns=GRADUATION_COLUMNS)


def write_transcripts(graduation: pd.DataFrame, exams: pd.DataFrame, study: pd.DataFrame, folder: Path | str,
                      title: str) -> list[Path]:
    from docx import Document
    from docx.oxml.ns import qn

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for _, person in graduation.iterrows():
        document = Document()
        document.styles["Normal"].element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")
        document.add_heading(f"{title} · 结业成绩单", level=1)
        document.add_paragraph(f"学员：{person['姓名']}（学号 {person['学号']}）　班级：{person['班级'] or '—'}")
        document.add_paragraph(f"结业：{person['结业']}　合计学时：{person['合计学时']:g}　完成课程：{person['完成课程数']} 课")
        lessons = study[(study["学号"] == person["学号"]) & study["已完成"]] if len(study) else study
        document.add_heading("已完成的课程", level=2)
        table = document.add_table(rows=1, cols=3)
        table.rows[0].cells[0].text, table.rows[0].cells[1].text, table.rows[0].cells[2].text = "课程", "学习时长（分钟）", "学时"
        for _, lesson in lessons.iterrows():
            cells = table.add_row().cells
            cells[0].text, cells[1].text, cells[2].text = str(lesson["课程"]), f"{lesson['学习时长（分钟）']:g}", f"{lesson['学时']:g}"
        document.add_heading("测验", level=2)
        taken = exams[exams["学号"] == person["学号"]] if len(exams) else exams
        if not len(taken):
            document.add_paragraph("未参加测验。")
        for _, exam in taken.iterrows():
            verdict = "待评分" if exam["合格"] is None or pd.isna(exam["合格"]) else ("合格" if exam["合格"] else "不合格")
            document.add_paragraph(f"{exam['测验名称']}：{exam['得分']:g} / {exam['满分']:g} 分（{exam['得分率（%）']:g}%），{verdict}")
        target = folder / f"{person['学号']}-{person['姓名']}.docx"
        document.save(str(target))
        written.append(target)
    return written
