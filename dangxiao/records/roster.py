"""Reading a class roster: CSV (utf-8 or utf-8-sig) or .xlsx, headers in Chinese or English.

    学号,姓名,班级,单位,初始密码          id,name,class,unit,password
    2026001,学员甲,一班,某街道办,            (单位 and 初始密码 may be left out)

The whole file is checked before anything is imported: the first bad row (duplicate id, empty name,
unknown column …) is a `RosterError` naming the file, the row and the cause.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from dangxiao.errors import DangxiaoError
from dangxiao.records.passwords import MIN_PASSWORD_LENGTH

__all__ = ["RosterRow", "RosterError", "read_roster", "write_account_sheet", "HEADERS"]

# column -> the headers accepted for it
HEADERS = {
    "id": ("学号", "id"),
    "name": ("姓名", "name"),
    "class_name": ("班级", "class"),
    "unit": ("单位", "unit"),
    "password": ("初始密码", "password"),
}
REQUIRED = ("id", "name", "class_name")
# what the accounts table holds (dangxiao.records.models.Account)
COLUMN_LIMITS = {"name": 100, "class_name": 100, "unit": 200, "password": 200}
ACCOUNT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class RosterError(DangxiaoError):
    def __init__(self, file: Path, row: int | None, reason: str):
        where = f"{file}" + (f": 第 {row} 行 / row {row}" if row else "")
        super().__init__(f"{where}: {reason}；未导入任何账号 / nothing imported")


@dataclass(frozen=True)
class RosterRow:
    id: str
    name: str
    class_name: str
    unit: str = ""
    password: str = ""


def _table(path: Path) -> list[list[str]]:
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(path, read_only=True, data_only=True).worksheets[0]
        except Exception as error:  # noqa: BLE001 -- any openpyxl failure is one line
            raise RosterError(path, None, f"不是有效的 Excel 文件 / not a readable .xlsx ({error})") from None
        return [["" if v is None else str(v).strip() for v in row] for row in sheet.iter_rows(values_only=True)]
    if path.suffix.lower() != ".csv":
        raise RosterError(path, None, "只接受 .csv 或 .xlsx / only .csv or .xlsx")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RosterError(path, None, "不是 UTF-8 编码；请在 Excel 中另存为“CSV UTF-8” / not UTF-8") from None
    return [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text))]


def read_roster(path: Path | str) -> list[RosterRow]:
    path = Path(path)
    if not path.is_file():
        raise RosterError(path, None, "文件不存在 / no such file")
    table = [row for row in _table(path) if any(row)]
    if not table:
        raise RosterError(path, None, "文件是空的 / the file is empty")
    lookup = {header.lower(): column for column, headers in HEADERS.items() for header in headers}
    columns = []
    for header in table[0]:
        if header.lower() not in lookup:
            known = "、".join(h for headers in HEADERS.values() for h in headers)
            raise RosterError(path, 1, f"未知的列“{header}” / unknown column (可用 known: {known})")
        columns.append(lookup[header.lower()])
    for column in REQUIRED:
        if column not in columns:
            raise RosterError(path, 1, f"缺少“{HEADERS[column][0]}”列 / missing column {HEADERS[column][1]}")
    if len(set(columns)) != len(columns):
        raise RosterError(path, 1, "有重复的列 / a column appears twice")
    rows, seen = [], {}
    for number, cells in enumerate(table[1:], start=2):
        if len(cells) > len(columns) and any(cells[len(columns):]):
            raise RosterError(path, number, "比表头多出几列 / more cells than headers")
        values = dict(zip(columns, cells + [""] * (len(columns) - len(cells))))
        row = RosterRow(**{k: values.get(k, "") for k in HEADERS})
        if not row.id:
            raise RosterError(path, number, "学号为空 / empty id")
        if not ACCOUNT_ID.match(row.id):
            raise RosterError(path, number, f"学号“{row.id}”只能用字母、数字、. _ - / id may use letters, digits, . _ -")
        if row.id in seen:
            raise RosterError(path, number, f"学号 {row.id} 与第 {seen[row.id]} 行重复 / duplicate id")
        if not row.name:
            raise RosterError(path, number, "姓名为空 / empty name")
        if not row.class_name:
            raise RosterError(path, number, "班级为空 / empty class")
        for column, limit in COLUMN_LIMITS.items():
            if len(getattr(row, column)) > limit:
                raise RosterError(path, number, f"“{HEADERS[column][0]}”超过 {limit} 字 / {HEADERS[column][1]} longer than {limit}")
        if row.password and len(row.password) < MIN_PASSWORD_LENGTH:
            raise RosterError(path, number, f"初始密码少于 {MIN_PASSWORD_LENGTH} 位 / password too short")
        seen[row.id] = number
        rows.append(row)
    if not rows:
        raise RosterError(path, None, "只有表头，没有学员 / headers only, no trainees")
    return rows


SHEET_HEADERS = ["学号", "姓名", "班级", "单位", "初始密码"]
KEPT = "（已有账号，密码未变）"


def write_account_sheet(accounts, stem: Path) -> list[Path]:
    """The 账号单 to hand out: `stem`.xlsx and `stem`.csv (utf-8-sig, for Excel), readable only by the
    instructor's account (they hold initial passwords in clear)."""
    from openpyxl import Workbook

    rows = [[a.id, a.name, a.class_name, a.unit, password or KEPT] for a, password in accounts]
    stem.parent.mkdir(parents=True, exist_ok=True)
    xlsx, csv_path = stem.with_suffix(".xlsx"), stem.with_suffix(".csv")
    book = Workbook()
    sheet = book.active
    sheet.title = "账号单"
    sheet.append(SHEET_HEADERS)
    for row in rows:
        sheet.append(row)
    for target in (xlsx, csv_path):
        target.touch(mode=0o600, exist_ok=True)
        target.chmod(0o600)
    book.save(xlsx)
    with csv_path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(SHEET_HEADERS)
        writer.writerows(rows)
    return [xlsx, csv_path]
