"""`dangxiao roster`: the accounts that sign in to the site — import a class, add staff, reset a password."""
from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from dangxiao.errors import DangxiaoError


def add_db_argument(parser: argparse.ArgumentParser, default=None) -> None:
    parser.add_argument(
        "--db", default=default, metavar="URL",
        help="学习记录库（SQLAlchemy URL，如 postgresql://…）/ record store URL "
        "(default: $DANGXIAO_DB, else data/records.sqlite)",
    )


def configure(parser: argparse.ArgumentParser) -> None:
    add_db_argument(parser)
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    imp = sub.add_parser("import", help="导入学员名单（CSV 或 xlsx）/ import a class roster")
    imp.add_argument("file", type=Path, help="名单：学号,姓名,班级[,单位][,初始密码] / roster file")
    imp.add_argument("--sheet", type=Path, default=None, metavar="PATH",
                     help="账号单写到这里（.xlsx 与 .csv）/ where to write the account sheet "
                     "(default data/账号单-<时间>)")
    staff = sub.add_parser("add-staff", help="添加教员或管理员 / add an instructor or administrator")
    staff.add_argument("id", help="登录名 / login name")
    staff.add_argument("--name", required=True, help="姓名 / name")
    staff.add_argument("--role", choices=("instructor", "admin"), default="instructor")
    staff.add_argument("--password", default=None, help="密码（默认随机生成）/ password (default: generated)")
    staff.add_argument("--promote", action="store_true",
                       help="该登录名已是学员时，确认把他设为教员或管理员 / make an existing trainee staff")
    reset = sub.add_parser("reset-password", help="重置某人的密码 / reset someone's password")
    reset.add_argument("id")
    sub.add_parser("list", help="列出账号 / list accounts")
    # `--db` also after the action (`dangxiao roster list --db URL`); SUPPRESS keeps one given before it
    for action in sub.choices.values():
        add_db_argument(action, default=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    from dangxiao.records import open_store
    from dangxiao.records.passwords import MIN_PASSWORD_LENGTH, new_password
    from dangxiao.records.roster import read_roster, write_account_sheet

    if args.action == "import":
        rows = read_roster(args.file)  # the whole file is checked before the store is touched
        store = open_store(args.db)
        try:
            accounts = store.import_roster(rows)
        except DangxiaoError as error:  # e.g. a staff member's id in the roster: nothing was imported
            raise DangxiaoError(f"{args.file}: {error}") from None
        from dangxiao.paths import data_dir

        stem = args.sheet or data_dir() / f"账号单-{datetime.now():%Y%m%d-%H%M%S}"
        sheets = write_account_sheet(accounts, stem.with_suffix(""))
        created = sum(1 for _, password in accounts if password)
        print(f"导入 {len(accounts)} 人：新建 {created}，更新 {len(accounts) - created} / "
              f"imported {len(accounts)}: {created} new, {len(accounts) - created} updated ({store.url})")
        print(f"账号单（含初始密码，请妥善保管）/ account sheet: {', '.join(map(str, sheets))}")
        return 0
    store = open_store(args.db)
    if args.action == "add-staff":
        if args.password is not None and len(args.password) < MIN_PASSWORD_LENGTH:
            raise DangxiaoError(f"--password: 至少 {MIN_PASSWORD_LENGTH} 位 / at least {MIN_PASSWORD_LENGTH} characters")
        password = store.add_staff(args.id, args.name, args.role, args.password, promote=args.promote)
        print(f"{args.role} {args.id}（{args.name}）" + ("" if args.password else f" 密码 password: {password}"))
        return 0
    if args.action == "reset-password":
        if store.account(args.id) is None:
            raise DangxiaoError(f"{args.id}: 没有这个账号 / no such account")
        password = new_password()
        store.set_password(args.id, password)
        print(f"{args.id} 新密码 / new password: {password}")
        return 0
    for account in store.accounts():
        print(f"{account.id}\t{account.name}\t{account.class_name}\t{account.unit}\t{account.role}")
    return 0
