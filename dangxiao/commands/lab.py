"""`dangxiao lab`: open JupyterLab on the nbgrader course (formgrader included).

JupyterLab runs in the course folder, so nbgrader's formgrader reads the course's
`nbgrader_config.py`. It is started offline-safe: no news feed (otherwise JupyterLab asks to opt in
and "yes" fetches from the internet) and no update check.

JupyterLab 4.6 asks about news whenever the `fetchNews` setting is "none" (its default), whatever the
server's `news_url`; so the default is overridden to "false" by `grading/lab_settings/overrides.json`,
made the application settings folder (`LabApp.app_settings_dir`, empty in a pip-installed lab).
The same file makes simplified Chinese the default language (`@jupyterlab/translation-extension:plugin`
`locale: zh_CN`, from the `jupyterlab-language-pack-zh-CN` dependency); the hub's user servers use it
too (`deploy/jupyterhub/jupyter/jupyter_server_config.py`).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

# Off-line settings: the settings default turns the news prompt off in the page; on the server,
# `news_url=None` makes /lab/api/news fetch nothing and the update check never calls out.
OFFLINE_ARGS = (
    "--LabApp.news_url=None",
    "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--course", metavar="DIR", help="课程目录（默认 assignments/）/ nbgrader course folder")
    parser.add_argument("--port", type=int, default=8888, help="端口 / port (默认 8888)")
    parser.add_argument("--ip", default="127.0.0.1", help="监听地址 / address to listen on (默认 127.0.0.1)")
    parser.add_argument("--no-browser", action="store_true", help="不自动打开浏览器 / do not open a browser")


def lab_command(course: Path, port: int = 8888, ip: str = "127.0.0.1", open_browser: bool = True) -> list[str]:
    """The JupyterLab command line for the course."""
    command = [
        sys.executable, "-m", "jupyterlab",
        f"--ServerApp.root_dir={course}",
        f"--ServerApp.ip={ip}",
        f"--ServerApp.port={port}",
        *OFFLINE_ARGS,
        f"--LabApp.app_settings_dir={lab_settings_dir()}",
    ]
    if not open_browser:
        command.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # training-centre servers and containers often run as root
    return command


def lab_settings_dir() -> Path:
    """The shipped settings folder (`overrides.json`), from the installed `dangxiao.grading`."""
    import dangxiao.grading

    return Path(dangxiao.grading.__file__).resolve().parent / "lab_settings"


def lab_environment() -> dict[str, str]:
    """The environment for JupyterLab: this Python's bin first (nbgrader needs `alembic` on PATH)."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def run(args: argparse.Namespace) -> int:
    from dangxiao.grading.course import course_info, find_course, load_course_config

    course = find_course(args.course)
    info = course_info(load_course_config(course))
    print(f"打开 JupyterLab / opening JupyterLab: {info.title or course.name}（{course}）")
    print("  评分界面 / formgrader: 菜单 Nbgrader → Formgrader；Ctrl+C 停止 / stop")
    command = lab_command(course, args.port, args.ip, open_browser=not args.no_browser)
    try:
        return subprocess.call(command, cwd=course, env=lab_environment())
    except KeyboardInterrupt:
        return 130
