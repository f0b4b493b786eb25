"""Roster import: CSV (utf-8, utf-8-sig) and .xlsx, Chinese or English headers, optional columns;
re-importing updates and never drops; every bad row is one line naming file, row and cause, and nothing
of that file is imported. The account sheet: .xlsx and utf-8-sig CSV, owner-only, passwords that work."""
from __future__ import annotations

import csv
import stat
from pathlib import Path

import openpyxl
import pytest

from dangxiao.cli import main
from dangxiao.records.roster import KEPT, RosterError, read_roster, write_account_sheet

ZH = ["学号", "姓名", "班级", "单位", "初始密码"]
EN = ["id", "name", "class", "unit", "password"]


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list]) -> Path:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def import_file(path: Path, url: str, sheet: Path, capsys) -> tuple[int, str, str]:
    code = main(["roster", "--db", url, "import", str(path), "--sheet", str(sheet)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
@pytest.mark.parametrize("headers", [ZH, EN], ids=["zh", "en"])
def test_csv_roster_reads_in_either_encoding_and_language(tmp_path, encoding, headers):
    path = write_csv(tmp_path / "名单.csv", [
        headers,
        ["2026001", "学员甲（模拟）", "一班", "某街道（模拟）", "initial-pass-1"],
        ["2026002", "学员乙（模拟）", "二班", "", ""],
    ], encoding)
    rows = read_roster(path)
    assert [(r.id, r.name, r.class_name, r.unit, r.password) for r in rows] == [
        ("2026001", "学员甲（模拟）", "一班", "某街道（模拟）", "initial-pass-1"),
        ("2026002", "学员乙（模拟）", "二班", "", ""),
    ]


def test_optional_columns_may_be_left_out_and_headers_may_be_reordered_or_mixed(tmp_path):
    path = write_csv(tmp_path / "r.csv", [["班级", "Name", "学号"], ["三班", "学员丙（模拟）", "A-3"]])
    assert [(r.id, r.name, r.class_name, r.unit, r.password) for r in read_roster(path)] == [
        ("A-3", "学员丙（模拟）", "三班", "", "")]


def test_xlsx_roster_with_numbers_and_blank_lines(tmp_path):
    path = write_xlsx(tmp_path / "名单.xlsx", [
        ["学号", "姓名", "班级", "单位"],
        [2026001, "学员甲（模拟）", "一班", None],  # Excel keeps an id typed as a number as a number
        [None, None, None, None],
        ["2026002", " 学员乙（模拟） ", "一班", "某社区（模拟）"],
    ])
    assert [(r.id, r.name, r.unit) for r in read_roster(path)] == [
        ("2026001", "学员甲（模拟）", ""), ("2026002", "学员乙（模拟）", "某社区（模拟）")]


def test_import_creates_accounts_whose_sheet_passwords_sign_in(database_url, tmp_path, capsys):
    from dangxiao.records import open_store

    roster = write_csv(tmp_path / "名单.csv", [
        ZH, ["2026001", "学员甲（模拟）", "一班", "", "chosen-pass-1"], ["2026002", "学员乙（模拟）", "一班", "", ""]])
    code, out, err = import_file(roster, database_url, tmp_path / "sheets" / "账号单", capsys)
    assert code == 0, err
    assert "新建 2" in out
    store = open_store(database_url)
    assert [(a.id, a.role) for a in store.accounts()] == [("2026001", "trainee"), ("2026002", "trainee")]

    xlsx, sheet_csv = tmp_path / "sheets" / "账号单.xlsx", tmp_path / "sheets" / "账号单.csv"
    for path in (xlsx, sheet_csv):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert sheet_csv.read_bytes().startswith(b"\xef\xbb\xbf")  # utf-8-sig: Excel shows the Chinese
    from_csv = list(csv.reader(sheet_csv.read_text(encoding="utf-8-sig").splitlines()))
    from_xlsx = [[str(c) if c is not None else "" for c in row]
                 for row in openpyxl.load_workbook(xlsx).active.iter_rows(values_only=True)]
    assert from_csv == from_xlsx
    assert from_csv[0] == ["学号", "姓名", "班级", "单位", "初始密码"]
    passwords = {row[0]: row[4] for row in from_csv[1:]}
    assert passwords["2026001"] == "chosen-pass-1"
    generated = passwords["2026002"]
    assert len(generated) >= 8 and generated != "chosen-pass-1"
    for account_id, password in passwords.items():
        assert store.authenticate(account_id, password).id == account_id
    assert store.authenticate("2026002", generated + "x") is None
    store.engine.dispose()


def test_reimport_updates_names_and_classes_keeps_passwords_and_records(record_store, tmp_path, kit, capsys):
    store = record_store
    first = write_csv(tmp_path / "一.csv", [
        ZH, ["2026001", "学员甲（模拟）", "一班", "甲街道", "first-pass-1"], ["2026002", "学员乙（模拟）", "一班", "", "first-pass-2"]])
    assert import_file(first, store.url, tmp_path / "s1", capsys)[0] == 0
    store.record_events("2026002", "l1", [kit.beat(kit.base, 30), kit.note(kit.base + 1, "think-1", "已有笔记")])
    token = store.create_session("2026001")

    # 2026002 is missing from the new file, 2026001 moved class, 2026003 is new, a new password is ignored
    second = write_csv(tmp_path / "二.csv", [
        ZH, ["2026001", "学员甲（改名，模拟）", "二班", "乙街道", "other-pass-9"], ["2026003", "学员丙（模拟）", "二班", "", ""]])
    code, out, err = import_file(second, store.url, tmp_path / "s2", capsys)
    assert code == 0, err
    assert "新建 1" in out and "更新 1" in out
    accounts = {a.id: a for a in store.accounts()}
    assert set(accounts) == {"2026001", "2026002", "2026003"}
    assert (accounts["2026001"].name, accounts["2026001"].class_name, accounts["2026001"].unit) == (
        "学员甲（改名，模拟）", "二班", "乙街道")
    assert store.authenticate("2026001", "first-pass-1") is not None
    assert store.authenticate("2026001", "other-pass-9") is None
    assert store.session_account(token).id == "2026001"  # re-importing signs nobody out
    assert kit.progress_of(store, "2026002", "l1").active_seconds == 30
    assert [r.value for r in store.responses("2026002")] == ["已有笔记"]
    sheet = list(csv.reader((tmp_path / "s2.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert {row[0]: row[4] for row in sheet[1:]}["2026001"] == KEPT  # an old password is never printed again


GOOD = ["2026001", "学员甲（模拟）", "一班", "", ""]
# (kind, rows after the header, extension, the row the error names, words the error must contain)
BAD_FILES = [
    ("duplicate id", [GOOD, ["2026001", "学员乙（模拟）", "一班", "", ""]], ".csv", 3, ["重复", "duplicate id", "第 2 行"]),
    ("empty name", [GOOD, ["2026002", "", "一班", "", ""]], ".csv", 3, ["姓名为空", "empty name"]),
    ("empty id", [GOOD, ["", "学员乙（模拟）", "一班", "", ""]], ".csv", 3, ["学号为空", "empty id"]),
    ("bad id", [GOOD, ["2026 002", "学员乙（模拟）", "一班", "", ""]], ".csv", 3, ["2026 002", "id may use"]),
    ("empty class", [GOOD, ["2026002", "学员乙（模拟）", "", "", ""]], ".csv", 3, ["班级为空", "empty class"]),
    ("short password", [GOOD, ["2026002", "学员乙（模拟）", "一班", "", "short"]], ".csv", 3, ["password too short"]),
    ("extra cells", [GOOD, ["2026002", "学员乙（模拟）", "一班", "", "", "多余"]], ".csv", 3, ["more cells than headers"]),
    ("duplicate id in xlsx", [GOOD, ["2026001", "学员乙（模拟）", "一班", "", ""]], ".xlsx", 3, ["duplicate id"]),
    ("empty name in xlsx", [GOOD, ["2026002", None, "一班", "", ""]], ".xlsx", 3, ["empty name"]),
]


@pytest.mark.parametrize("kind, rows, suffix, row, words", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_a_bad_row_is_one_line_naming_file_row_and_cause_and_nothing_is_imported(
        record_store, tmp_path, kit, capsys, kind, rows, suffix, row, words):
    kit.add_trainees(record_store, "2025009")
    before = kit.contents(record_store)
    path = tmp_path / f"名单{suffix}"
    (write_xlsx if suffix == ".xlsx" else write_csv)(path, [ZH] + rows)
    code, out, err = import_file(path, record_store.url, tmp_path / "账号单", capsys)
    assert code == 1
    message = err.strip()
    assert "\n" not in message and "Traceback" not in message
    assert str(path) in message and f"第 {row} 行" in message and f"row {row}" in message
    assert "nothing imported" in message
    for word in words:
        assert word in message
    assert kit.contents(record_store) == before
    assert not list(tmp_path.glob("账号单*"))


# (kind, the file's bytes or rows, extension, words the error must contain)
BAD_HEADERS = [
    ("unknown column", [["学号", "姓名", "班级", "手机"], GOOD[:3] + ["13800000000"]], ".csv", ["第 1 行", "手机", "unknown column"]),
    ("missing class column", [["学号", "姓名"], GOOD[:2]], ".csv", ["第 1 行", "班级", "missing column class"]),
    ("column twice", [["学号", "姓名", "班级", "id"], GOOD[:3] + ["x"]], ".csv", ["第 1 行", "a column appears twice"]),
    ("headers only", [ZH], ".csv", ["headers only"]),
    ("empty file", b"", ".csv", ["the file is empty"]),
    ("not utf-8", "学号,姓名,班级\n2026001,学员甲,一班\n".encode("gbk"), ".csv", ["not UTF-8"]),
    ("not a spreadsheet", b"PK\x03\x04 not really a zip", ".xlsx", ["not a readable .xlsx"]),
    ("wrong extension", b"id,name,class\n", ".txt", ["only .csv or .xlsx"]),
]


@pytest.mark.parametrize("kind, content, suffix, words", BAD_HEADERS, ids=[b[0] for b in BAD_HEADERS])
def test_a_bad_file_is_one_line_naming_it_and_nothing_is_imported(record_store, tmp_path, kit, capsys,
                                                                  kind, content, suffix, words):
    kit.add_trainees(record_store, "2025009")
    before = kit.contents(record_store)
    path = tmp_path / f"名单{suffix}"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        write_csv(path, content)
    code, out, err = import_file(path, record_store.url, tmp_path / "账号单", capsys)
    assert code == 1
    message = err.strip()
    assert "\n" not in message and str(path) in message and "nothing imported" in message
    for word in words:
        assert word in message, message
    assert kit.contents(record_store) == before


def test_a_missing_file_is_one_line(tmp_path, capsys, record_store):
    code, _, err = import_file(tmp_path / "无.csv", record_store.url, tmp_path / "s", capsys)
    assert code == 1 and "no such file" in err and "\n" not in err.strip()


@pytest.mark.parametrize("column, length", [(1, 101), (2, 101), (3, 201)], ids=["name", "class", "unit"])
def test_a_value_longer_than_its_column_is_a_bad_row(record_store, tmp_path, kit, capsys, column, length):
    before = kit.contents(record_store)
    long_row = ["2026002", "学员乙（模拟）", "一班", "", ""]
    long_row[column] = "长" * length
    path = write_csv(tmp_path / "名单.csv", [ZH, GOOD, long_row])
    code, _, err = import_file(path, record_store.url, tmp_path / "账号单", capsys)
    assert code == 1 and "第 3 行" in err and "\n" not in err.strip()
    assert kit.contents(record_store) == before


def test_the_error_names_the_file_in_the_exception_too(tmp_path):
    path = write_csv(tmp_path / "r.csv", [ZH, GOOD, GOOD])
    with pytest.raises(RosterError, match=r"r\.csv: 第 3 行 / row 3: .*duplicate id"):
        read_roster(path)


def test_account_sheet_is_made_owner_only_even_over_an_existing_file(tmp_path):
    from dangxiao.records import AccountView

    stem = tmp_path / "账号单"
    for existing in (stem.with_suffix(".xlsx"), stem.with_suffix(".csv")):
        existing.write_text("old")
        existing.chmod(0o644)
    write_account_sheet([(AccountView("a1", "甲（模拟）", "一班", "", "trainee"), "secret-pass")], stem)
    for path in (stem.with_suffix(".xlsx"), stem.with_suffix(".csv")):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "secret-pass" in stem.with_suffix(".csv").read_text(encoding="utf-8-sig")
