"""`dangxiao roster` as an instructor runs it: a separate process, `--db URL`, on both backends."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dangxiao.records import open_store

ROOT = Path(__file__).resolve().parents[2]


def dangxiao(tmp_path, *args):
    env = {**os.environ, "DANGXIAO_DATA": str(tmp_path / "data")}
    env.pop("DANGXIAO_DB", None)
    return subprocess.run([sys.executable, "-m", "dangxiao", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=300)


def test_import_add_staff_reset_and_list(database_url, tmp_path):
    roster = tmp_path / "名单.csv"
    roster.write_text("学号,姓名,班级,单位\n2026001,学员甲（模拟）,一班,某街道（模拟）\n2026002,学员乙（模拟）,二班,\n",
                      encoding="utf-8-sig")
    result = dangxiao(tmp_path, "roster", "--db", database_url, "import", str(roster))
    assert result.returncode == 0, result.stderr
    assert "新建 2" in result.stdout
    (sheet,) = (tmp_path / "data").glob("账号单-*.csv")  # the default place: the data folder
    passwords = {row[0]: row[4] for row in list(csv.reader(sheet.read_text(encoding="utf-8-sig").splitlines()))[1:]}
    assert passwords["2026001"] not in result.stdout  # the sheet holds the passwords, not the terminal

    result = dangxiao(tmp_path, "roster", "--db", database_url, "add-staff", "jiaoyuan", "--name", "教员（模拟）",
                      "--password", "staff-pass-123")
    assert result.returncode == 0, result.stderr
    assert "staff-pass-123" not in result.stdout  # a password given on the command line is not echoed
    result = dangxiao(tmp_path, "roster", "--db", database_url, "add-staff", "admin1", "--name", "管理员（模拟）",
                      "--role", "admin")
    admin_password = result.stdout.rsplit("password:", 1)[-1].strip()
    assert result.returncode == 0 and len(admin_password) >= 8

    result = dangxiao(tmp_path, "roster", "--db", database_url, "reset-password", "2026002")
    assert result.returncode == 0, result.stderr
    new_password = result.stdout.rsplit(":", 1)[-1].strip()

    store = open_store(database_url)
    try:
        assert store.authenticate("2026001", passwords["2026001"]) is not None
        assert store.authenticate("2026002", passwords["2026002"]) is None
        assert store.authenticate("2026002", new_password) is not None
        assert store.authenticate("jiaoyuan", "staff-pass-123").role == "instructor"
        assert store.authenticate("admin1", admin_password).role == "admin"
    finally:
        store.engine.dispose()

    result = dangxiao(tmp_path, "roster", "--db", database_url, "list")
    assert result.returncode == 0, result.stderr
    lines = [line.split("\t") for line in result.stdout.strip().splitlines()]
    assert {(cells[0], cells[4]) for cells in lines} == {
        ("2026001", "trainee"), ("2026002", "trainee"), ("jiaoyuan", "instructor"), ("admin1", "admin")}
    assert ["2026001", "学员甲（模拟）", "一班", "某街道（模拟）", "trainee"] in lines

    # a roster holding a staff login is refused whole, naming the file and the id
    mixed = tmp_path / "第二批.csv"
    mixed.write_text("学号,姓名,班级\n2026003,学员丙（模拟）,一班\njiaoyuan,某人（模拟）,一班\n", encoding="utf-8")
    result = dangxiao(tmp_path, "roster", "--db", database_url, "import", str(mixed))
    assert result.returncode == 1 and "第二批.csv" in result.stderr and "jiaoyuan" in result.stderr, result.stderr
    assert "2026003" not in dangxiao(tmp_path, "roster", "--db", database_url, "list").stdout


def test_errors_are_one_line_without_a_traceback(database_url, tmp_path):
    bad = tmp_path / "名单.csv"
    bad.write_text("学号,姓名,班级\n2026001,学员甲（模拟）,一班\n2026001,学员乙（模拟）,一班\n", encoding="utf-8")
    for args, words in [
        (["import", str(bad)], [str(bad), "row 3", "duplicate id"]),
        (["reset-password", "2026404"], ["2026404", "no such account"]),
        (["add-staff", "x1", "--name", "某人", "--password", "short"], ["--password", "at least 8"]),
    ]:
        result = dangxiao(tmp_path, "roster", "--db", database_url, *args)
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        message = result.stderr.strip()
        assert "\n" not in message and "Traceback" not in message, message
        for word in words:
            assert word in message
    store = open_store(database_url)
    assert store.accounts() == []
    store.engine.dispose()


def test_an_unreachable_database_is_one_line(tmp_path):
    url = f"postgresql+psycopg://postgres@/nothing?host={tmp_path / 'no-socket-here'}"
    result = dangxiao(tmp_path, "roster", "--db", url, "list")
    assert result.returncode == 1
    message = result.stderr.strip()
    assert "cannot open the record store" in message and "Traceback" not in message
    assert message.count("\n") == 0, message


def test_db_may_follow_the_action(tmp_path):
    url = f"sqlite:///{tmp_path / 'records.sqlite'}"
    result = dangxiao(tmp_path, "roster", "add-staff", "jiaoyuan", "--name", "教员（模拟）", "--db", url)
    assert result.returncode == 0, result.stderr
    result = dangxiao(tmp_path, "roster", "list", "--db", url)
    assert result.returncode == 0 and "jiaoyuan" in result.stdout
