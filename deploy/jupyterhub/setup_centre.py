"""Prepare one machine for the centre's JupyterHub (run as root, safe to run again).

    sudo .venv/bin/python deploy/jupyterhub/setup_centre.py [--courses courses.yaml] [--create-users]

* the exchange folder (`DANGXIAO_EXCHANGE`): root-owned, 1777 as nbgrader expects (its release
  makes `<course>/inbound` 2733: anyone may drop a submission, nobody but the grader may list it);
* per course: the grader account (no password, no login shell) and the course folder
  `<course root>/<id>` owned by it, mode 0700, holding a copy of the nbgrader course (`source` in
  courses.yaml, e.g. the repo's `assignments/`) with `course_id` set to the course's id;
* the test outbox (`DANGXIAO_HUB_EXAM_OUTBOX`, 0755) with one folder per course, owned by the records
  service's account, group the course's grader, mode 2750: the service leaves each finished test paper
  there and only that course's grader reads it (`dangxiao exam collect <id> --outbox <folder>`);
* with `--create-users`: a system account for every instructor and trainee (home 0700, password
  locked — set one with `passwd` or use a central authenticator).

Nothing existing is overwritten: a course folder that is already there is left alone (it holds the
gradebook and the submissions); an existing account is reused as is.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CONFIG_MARK = "# --- added by deploy/jupyterhub/setup_centre.py"


def _centre_module():
    spec = importlib.util.spec_from_file_location("dangxiao_hub_centre", HERE / "centre.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def ensure_account(name: str, home_base: Path | None, shell: str = "/bin/bash") -> pwd.struct_passwd:
    """The system account `name` with a private (0700) home; created if missing."""
    try:
        account = pwd.getpwnam(name)
    except KeyError:
        command = ["useradd", "--create-home", "--shell", shell, "--user-group"]
        if home_base is not None:
            home_base.mkdir(parents=True, exist_ok=True)
            command += ["--base-dir", str(home_base)]
        subprocess.run([*command, name], check=True, capture_output=True, text=True)
        account = pwd.getpwnam(name)
        print(f"已建账号 / account created: {name} ({account.pw_dir})")
    os.chmod(account.pw_dir, 0o700)  # one trainee must never read another's work
    return account


def ensure_exchange(exchange: Path) -> None:
    exchange.mkdir(parents=True, exist_ok=True)
    os.chmod(exchange, 0o1777)  # like /tmp: everyone may create, nobody may remove others' folders


def install_course(course, course_root: Path, grader: pwd.struct_passwd) -> Path:
    """`<course_root>/<id>`: the nbgrader course (config + source), owned by the grader, 0700."""
    target = course_root / course.id
    course_root.mkdir(parents=True, exist_ok=True)
    os.chmod(course_root, 0o755)
    if target.exists():
        print(f"课程目录已存在，保持不动 / course folder kept as is: {target}")
        return target
    source = (REPO / course.source).resolve()
    if not (source / "nbgrader_config.py").is_file():
        raise SystemExit(f"{source / 'nbgrader_config.py'}: 不是 nbgrader 课程 / not an nbgrader course")
    target.mkdir()
    shutil.copy2(source / "nbgrader_config.py", target / "nbgrader_config.py")
    shutil.copytree(source / "source", target / "source")
    with open(target / "nbgrader_config.py", "a", encoding="utf-8") as handle:
        handle.write(f"\n{CONFIG_MARK}\nc.CourseDirectory.course_id = {course.id!r}\n")
    for folder, _dirs, files in os.walk(target):
        os.chown(folder, grader.pw_uid, grader.pw_gid)
        for name in files:
            os.chown(os.path.join(folder, name), grader.pw_uid, grader.pw_gid)
    os.chmod(target, 0o700)
    print(f"已安装课程 / course installed: {course.title}（{course.id}）→ {target}")
    return target


def ensure_exam_outbox(outbox: Path, course, records: pwd.struct_passwd, grader: pwd.struct_passwd) -> Path:
    """`<outbox>/<course id>`: written by the records service, read by the course's grader, nobody else.
    The folder's group is the grader's own group, so that group must hold nobody else (an account made
    here has one of its own, `useradd --user-group`; a reused one might have e.g. `users`)."""
    import grp

    group = grp.getgrgid(grader.pw_gid)
    others = sorted(set(group.gr_mem) | {p.pw_name for p in pwd.getpwall() if p.pw_gid == group.gr_gid} - {grader.pw_name})
    if others:
        raise SystemExit(f"{course.grader}: 主组 {group.gr_name} 还有其他账号（{', '.join(others[:5])}），"
                         f"他们能读到本课程学员的试卷；请给评分账号一个自己的组 / the grader's group has other members")
    outbox.mkdir(parents=True, exist_ok=True)
    os.chmod(outbox, 0o755)
    folder = outbox / course.id
    folder.mkdir(exist_ok=True)
    os.chown(folder, records.pw_uid, grader.pw_gid)
    os.chmod(folder, 0o2750)  # setgid: the papers and their folders keep the grader's group
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--courses", type=Path,
                        default=Path(os.environ.get("DANGXIAO_HUB_COURSES", HERE / "courses.yaml")))
    parser.add_argument("--course-root", type=Path,
                        default=Path(os.environ.get("DANGXIAO_HUB_COURSE_ROOT", "/srv/dangxiao/courses")))
    parser.add_argument("--exchange", type=Path,
                        default=Path(os.environ.get("DANGXIAO_EXCHANGE", "/srv/dangxiao/exchange")))
    parser.add_argument("--exam-outbox", type=Path,
                        default=Path(os.environ.get("DANGXIAO_HUB_EXAM_OUTBOX", "/srv/dangxiao/exam-outbox")),
                        help="学习记录服务为各课程留下试卷的目录 / where the records service leaves finished papers")
    parser.add_argument("--home-base", type=Path, default=None,
                        help="新账号的家目录所在目录（默认系统设置，通常 /home）/ where new homes go")
    parser.add_argument("--records-account", default=os.environ.get("DANGXIAO_RECORDS_ACCOUNT", "dangxiao-records"),
                        help="运行学习记录服务的账号，记录库在其家目录 / the account the records service runs as "
                        "(its private home holds the record store)")
    parser.add_argument("--create-users", action="store_true",
                        help="为名单里的教员和学员建系统账号 / create accounts for the roster")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        raise SystemExit("需要 root 运行 / run as root")
    centre = _centre_module().load_centre(args.courses)
    ensure_exchange(args.exchange)
    records = ensure_account(args.records_account, args.home_base, shell="/usr/sbin/nologin")  # the records service
    for course in centre.courses:
        grader = ensure_account(course.grader, args.home_base, shell="/usr/sbin/nologin")
        install_course(course, args.course_root, grader)
        ensure_exam_outbox(args.exam_outbox, course, records, grader)
    if args.create_users:
        for name in centre.users:
            ensure_account(name, args.home_base)
    return 0


if __name__ == "__main__":
    sys.exit(main())
