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
    parser.add_argument("--assessments", type=Path, default=None, metavar="DIR",
                        help="测验蓝图目录：学员在 exam/<id> 作答 / blueprint folder: tests taken at exam/<id>")
    parser.add_argument("--exam-outbox", type=Path, default=None, metavar="DIR",
                        help="交卷后按课程写出试卷：DIR/<课程>/<测验>/<学员>.json / where finished papers are left, per course")
    parser.add_argument("--exam-courses", default="", metavar="JSON",
                        help='学员所属课程 / each trainee\'s course, a JSON object {"user": "course_id"}')


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
    classes = _json_object("--classes", args.classes)
    exam_courses = _json_object("--exam-courses", args.exam_courses)
    rule = load_credit_rule(args.credit_rule) if args.credit_rule else CreditRule()
    store = open_store(args.db)
    staff = {name.strip() for name in args.staff.split(",") if name.strip()}
    config = service_config_from_env(store, courses, rule, staff, {str(k): str(v) for k, v in classes.items()})
    if args.assessments is not None:
        from dangxiao.publishing.hub_service import hub_exam_catalog, start_exam_sweep

        config.exams = hub_exam_catalog(args.assessments, args.exam_outbox,
                                        {str(k): str(v) for k, v in exam_courses.items()})
        start_exam_sweep(config)
    app = make_app(config)
    app.listen(args.port, address="127.0.0.1", xheaders=True)
    print(f"学习记录服务 / records service: http://127.0.0.1:{args.port}{config.prefix} ({store.url})", flush=True)
    tornado.ioloop.IOLoop.current().start()
    return 0


def _json_object(option: str, text: str) -> dict:
    try:
        value = json.loads(text) if text else {}
    except ValueError as error:
        raise DangxiaoError(f"{option}: 不是 JSON 对象 / not a JSON object: {error}") from None
    if not isinstance(value, dict):
        raise DangxiaoError(f"{option}: 应为 JSON 对象 / must be a JSON object")
    return value
