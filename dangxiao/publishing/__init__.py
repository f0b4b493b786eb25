"""Publishing lessons as web apps: Voila with dangxiao's gallery, template, kernel limits and, when the
record store has a roster, sign-in and the learning record.

`dangxiao serve` is the entry point; `serve(settings)` runs the server in this process.
"""
from __future__ import annotations

import os
from pathlib import Path

from dangxiao.publishing.settings import ServeSettings, default_max_kernels, voila_config

__all__ = ["ServeSettings", "default_max_kernels", "voila_config", "serve", "open_site_records"]

NOT_RECORDING = ("注意：未导入学员名单，本站不要求登录，也不记录任何学习情况（dangxiao roster import 名单.csv 后启用）"
                 " / NOTE: no roster, so no sign-in and nothing is recorded")


def open_site_records(settings: ServeSettings):
    """The record store the site writes to, or None when it has no accounts (an open site)."""
    from dangxiao.records import open_store

    if settings.demo:
        return _demo_store()
    store = open_store(settings.db)
    return store if store.has_accounts() else None


def _demo_store():
    """A throw-away store in a temporary folder with the sample roster and one instructor, printed."""
    import tempfile
    from pathlib import Path

    from dangxiao.records import open_store
    from dangxiao.records.roster import read_roster

    folder = Path(tempfile.mkdtemp(prefix="dangxiao-demo-"))
    store = open_store(f"sqlite:///{folder / 'records.sqlite'}")
    accounts = store.import_roster(read_roster(Path(__file__).parent.parent / "records" / "demo_roster.csv"))
    password = store.add_staff("jiaoyuan", "示例教员（模拟）", "instructor")
    print("演示账号（模拟数据，服务停止后作废）/ demo accounts:", flush=True)
    for account, trainee_password in accounts:
        print(f"  学员 {account.id}  密码 {trainee_password}  {account.name}", flush=True)
    print(f"  教员 jiaoyuan  密码 {password}", flush=True)
    return store


def _exam_catalog(settings: ServeSettings):
    from dangxiao.paths import assignments_dir
    from dangxiao.publishing.exam_handlers import ExamCatalog

    course = Path(settings.course or assignments_dir())
    catalog = ExamCatalog(course / "assessments", course)
    if catalog.blueprints:
        print(f"测验 / tests: {', '.join(sorted(catalog.blueprints))}（交卷写入 submissions to {course}/submitted）",
              flush=True)
    for error in catalog.errors:
        print(f"测验蓝图有误，未上线 / blueprint refused: {error}", flush=True)
    for blueprint in sorted(catalog.blueprints.values(), key=lambda b: b.id):
        if blueprint.counted and not (course / "release" / blueprint.id / f"{blueprint.id}.ipynb").is_file():
            print(f"注 / note: 测验 {blueprint.id} 还没有发布版：交卷先保存在学习记录中，运行 dangxiao release "
                  f"{blueprint.id} 后自动写入 nbgrader / not released yet: papers are kept and written once it is",
                  flush=True)
    return catalog


def serve(settings: ServeSettings) -> int:
    """Run the gallery until interrupted (blocking)."""
    from dangxiao.catalog import load_catalog
    from dangxiao.credit_rule import CreditRule, load_credit_rule
    from dangxiao.events import EVENTS_URL_ENV
    from dangxiao.publishing.app import DangxiaoVoila
    from dangxiao.publishing.settings import register_template_path

    catalog = load_catalog(settings.courses)
    rule = load_credit_rule(settings.credit_rule) if settings.credit_rule else CreditRule()
    records = open_site_records(settings)
    config = voila_config(settings, catalog, cookie_secret=records.cookie_secret() if records else None)
    if records is not None:
        # Lesson kernels inherit the environment: this is where they send what a trainee does.
        os.environ[EVENTS_URL_ENV] = settings.local_url + "dangxiao/api/"
        print(f"学习记录 / learning record: {records.url}（需登录 / sign-in required）", flush=True)
    else:
        os.environ.pop(EVENTS_URL_ENV, None)
        print(NOT_RECORDING, flush=True)
    register_template_path()
    app = DangxiaoVoila(config=config)
    app.records, app.credit_rule = records, rule
    if records is not None:
        app.exams = _exam_catalog(settings)
    app.initialize([])
    app.start()
    return 0
