"""`dangxiao records-service`: the learning record as a JupyterHub service (see deploy/README.md).

Started by the hub, which sets `$JUPYTERHUB_SERVICE_PREFIX`, `$JUPYTERHUB_API_TOKEN` and the OAuth client
variables; it listens on 127.0.0.1 only (the hub's proxy and the user servers reach it there)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from dangxiao.errors import DangxiaoError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, required=True, help="端口 / port (127.0.0.1)")
    parser.add_argument("--db", default=None, metavar="URL",
                        help="学习记录库 / record store URL (default: $DANGXIAO_DB, else data/records.sqlite)")
    parser.add_argument("--courses", type=Path, default=None,
                        help="课程目录（含 catalog.yaml）/ the lessons folder (default: the project's courses/)")
    parser.add_argument("--staff", default="", metavar="A,B",
                        help="教员的 Hub 账号，逗号分隔 / hub users with the instructor role, comma-separated")
    parser.add_argument("--classes", default="", metavar="JSON",
                        help='Hub 账号所在班级 / each hub user\'s class, a JSON object {"user": "班级"}')
    parser.add_argument("--credit-rule", type=Path, default=None, metavar="YAML",
                        help="学时认定规则 / the 学时 crediting rule shown in 我的学习")


def run(args: argparse.Namespace) -> int:
    import tornado.ioloop

    from dangxiao.credit_rule import CreditRule, load_credit_rule
    from dangxiao.paths import courses_dir
    try:
        from dangxiao.publishing.hub_service import make_app, service_config_from_env
    except ImportError as error:  # jupyterhub comes with the hub's install ('.[test]'), not with dangxiao's
        raise DangxiaoError(f"学习记录服务需要 JupyterHub / the records service needs jupyterhub: {error}") from None
    from dangxiao.records import open_store

    courses = (args.courses or courses_dir()).resolve()
    if not (courses / "catalog.yaml").is_file():
        raise DangxiaoError(f"{courses / 'catalog.yaml'}: 文件不存在 / catalog not found")
    try:
        classes = json.loads(args.classes) if args.classes else {}
    except ValueError as error:
        raise DangxiaoError(f"--classes: 不是 JSON 对象 / not a JSON object: {error}") from None
    if not isinstance(classes, dict):
        raise DangxiaoError("--classes: 应为 JSON 对象 / must be a JSON object")
    rule = load_credit_rule(args.credit_rule) if args.credit_rule else CreditRule()
    store = open_store(args.db)
    staff = {name.strip() for name in args.staff.split(",") if name.strip()}
    config = service_config_from_env(store, courses, rule, staff, {str(k): str(v) for k, v in classes.items()})
    app = make_app(config)
    app.listen(args.port, address="127.0.0.1", xheaders=True)
    print(f"学习记录服务 / records service: http://127.0.0.1:{args.port}{config.prefix} ({store.url})", flush=True)
    tornado.ioloop.IOLoop.current().start()
    return 0
