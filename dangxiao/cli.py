"""The `dangxiao` command: one entry point, a subcommand per job.

Each subcommand lives in its own module under `dangxiao.commands` exposing `configure(parser)` and
`run(args) -> int`; modules are imported only when their subcommand runs, so `dangxiao --help` is fast.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from dangxiao import __version__
from dangxiao.errors import DangxiaoError

# name -> (module under dangxiao.commands, help text in Chinese / English)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("serve", "发布课程：在本机启动 Voila 课程目录 / serve the lesson gallery with Voila"),
    "records-service": ("records_service", "JupyterHub 上的学习记录服务 / the learning record as a JupyterHub service"),
    "roster": ("roster", "学员名单与账号：导入、教员、重置密码 / accounts: import a roster, add staff"),
    "lab": ("lab", "打开 JupyterLab 编辑课程与作业 / open JupyterLab on the course"),
    "release": ("release", "生成并发布作业 / generate and release an assignment"),
    "autograde": ("autograde", "并行、隔离地自动评分 / grade submissions in parallel, sandboxed"),
    "feedback": ("feedback", "生成学员反馈（不含隐藏测试）/ write feedback without hidden tests"),
    "report": ("report", "成绩报表、题目分析、学时 / cohort report, item analysis, study hours"),
    "validate": ("validate", "检查数据、题库与课程 / check datasets, question bank and lessons"),
    "datasets": ("datasets", "由原文构建数据集 / build the datasets from the source articles"),
    "exam": ("exam", "测验：检查蓝图、打印试卷、生成评分笔记本、收卷、公布成绩 / tests drawn per trainee"),
    "seminar": ("seminar", "打印某模块的课堂研讨指南 / print a module's seminar guide"),
}

DESCRIPTION = """\
党校基层治理课程工具 dangxiao
dangxiao: party-school lessons on grassroots governance.

常用 / common:
  dangxiao serve              启动课程目录 / start the lesson gallery (http://127.0.0.1:8866/)
  dangxiao validate           上课前检查 / check everything before class
  dangxiao autograde a01      为作业 a01 评分 / grade assignment a01
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dangxiao",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"dangxiao {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="命令 COMMAND", title="子命令 / subcommands")
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        sub_parser.set_defaults(_module=module_name)
        _command_module(module_name).configure(sub_parser)
    return parser


def _command_module(module_name: str):
    return importlib.import_module(f"dangxiao.commands.{module_name}")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(_command_module(args._module).run(args) or 0)
    except DangxiaoError as error:
        print(f"错误 / error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("已中断 / interrupted", file=sys.stderr)
        return 130
