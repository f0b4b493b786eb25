"""The sandbox itself: what a kernel sees, its process limit measured on a busy account, the
refusal where no sandbox can start, `--no-sandbox` said everywhere, no configuration around it."""
from __future__ import annotations

import asyncio
import csv
import json
import os
import textwrap
from pathlib import Path

import pytest
from jupyter_client.manager import AsyncKernelManager
from nbgrader.preprocessors import Execute
from nbconvert.preprocessors import ExecutePreprocessor
from traitlets import TraitError
from traitlets.config import Config

from dangxiao.cli import main
from dangxiao.grading.autograde import UNCONFINED_NOTE, SandboxedExecute, sandboxed
from dangxiao.grading.autograde.redact import RedactHiddenTests
from dangxiao.grading.sample_course import ASSIGNMENT, FORK_BOMB, write_submission
from dangxiao.grading.sandbox import host as sandbox_host
from dangxiao.grading.sandbox.host import SandboxHost
from dangxiao.grading.sandbox.layout import hidden_paths, python_binds
from dangxiao.grading.sandbox.manager import SandboxKernelManager

needs_bwrap = pytest.mark.skipif(not os.access("/usr/bin/bwrap", os.X_OK), reason="bubblewrap (/usr/bin/bwrap) not installed")

PROBE = textwrap.dedent('''
    import json, os, resource, socket, sys
    facts = {"uid": os.getuid(), "cwd": os.getcwd(), "work": sorted(os.listdir(".")), "root": sorted(os.listdir("/")),
             "pids": sorted(p for p in os.listdir("/proc") if p.isdigit()),
             "nproc": resource.getrlimit(resource.RLIMIT_NPROC), "as": resource.getrlimit(resource.RLIMIT_AS),
             "env": sorted(os.environ), "pandas": "pandas" in sys.modules,
             "bank": sorted(os.listdir(BANK)) if os.path.isdir(BANK) else None}
    fds = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            fds[fd] = os.readlink("/proc/self/fd/" + fd)
        except OSError:
            pass
    facts["fds"] = fds
    try:
        socket.create_connection(("127.0.0.1", PORT), timeout=2)
        facts["tcp"] = "connected"
    except OSError as error:
        facts["tcp"] = type(error).__name__
    print("FACTS " + json.dumps(facts))
''')


def _kernel_helper():
    """kernel_helper.py beside this file (tests import in importlib mode: no package to import from)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("kernel_helper", Path(__file__).with_name("kernel_helper.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@needs_bwrap
@pytest.mark.parametrize("fork", [True, False], ids=["forked", "cold"])
def test_what_a_kernel_sees(fork, tmp_path, listener, no_leftovers):
    folder = tmp_path / "autograded-copy"
    folder.mkdir()
    (folder / "data.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (folder / "hotline.ipynb").write_text("{} hidden tests live here", encoding="utf-8")
    (folder / "link.csv").symlink_to("/etc/hostname")
    config = Config()
    config.BubblewrapProvisioner.fork_kernels = fork
    os.environ["DANGXIAO_TEST_SECRET"] = "grader-only"
    try:
        probe = PROBE.replace("PORT", str(listener.port)).replace("BANK", repr(hidden_paths()[0]))
        out = asyncio.run(_kernel_helper().run_code(probe, folder, config, iopub_timeout=60))
    finally:
        del os.environ["DANGXIAO_TEST_SECRET"]
        SandboxHost.close_all()
    facts = json.loads(out.split("FACTS ", 1)[1])
    assert facts["uid"] != 0 and facts["cwd"] == "/sandbox/work"
    assert facts["work"] == ["data.csv"]  # never the notebook, never a symlink
    # the system, the sandbox's own folders, and the top folders of the interpreter's read-only binds
    binds = {path.split("/")[1] for path in python_binds()}
    assert set(facts["root"]) <= {"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "sandbox", "sbin",
                                  "tmp", "usr"} | binds, (facts["root"], binds)
    assert len(facts["pids"]) <= 2  # its own pid namespace: the kernel (and bubblewrap's init)
    assert facts["nproc"] == [64, 64] and facts["as"][1] == 2048 * 1024 * 1024
    assert "DANGXIAO_TEST_SECRET" not in facts["env"] and "HOME" in facts["env"]
    assert facts["tcp"] in ("ConnectionRefusedError", "OSError") and listener.connections() == 0
    assert facts["pandas"] is fork  # the zygote imported it ahead
    assert facts["bank"] == []  # the question bank (every test paper's key) is an empty folder inside
    # no descriptor of the grader's reaches the kernel: only its own log, /dev/null, sockets and the like
    for fd, target in facts["fds"].items():
        assert not target.startswith("/") or target.startswith(("/sandbox/", "/dev/", "/proc/")), (fd, target)
    assert no_leftovers() == []


@needs_bwrap
def test_process_limit_counts_the_sandbox_not_the_busy_account(accounts, no_leftovers):
    """RLIMIT_NPROC counts every task of a uid, threads included; set inside the kernel's own user
    namespace it counts only the sandbox's. Measured: the account first runs 300 threads."""
    account = accounts["user"]
    script = textwrap.dedent('''
        import asyncio, sys, threading, time
        sys.path.insert(0, sys.argv[1])
        from kernel_helper import run_in_kernel
        stop = threading.Event()
        threads = [threading.Thread(target=stop.wait) for _ in range(300)]
        for thread in threads:
            thread.start()
        code = FORK_BOMB
        for fork in (True, False):
            print(fork, run_in_kernel(code, fork))
        stop.set()
    ''')
    script = script.replace("code = FORK_BOMB", f"code = {FORK_BOMB!r}")  # the sample course's fork bomb
    helper = Path(__file__).with_name("kernel_helper.py")
    done = account.run([account.python, "-c", script, str(helper.parent)], cwd=Path("/"), timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [line for line in done.stdout.splitlines() if "FORK-LIMIT" in line]
    assert len(lines) == 2, done.stdout
    for line in lines:
        count, error = line.split("FORK-LIMIT ", 1)[1].split()[:2]
        assert 30 < int(count) < 64 and error == "BlockingIOError", line
    assert no_leftovers() == []


def test_refuses_without_bubblewrap(make_course, monkeypatch, capsys):
    course = make_course()
    write_submission(course, "t1", "reference")
    SandboxHost.close_all()
    monkeypatch.setattr(sandbox_host, "BWRAP", "/nonexistent/bwrap")
    assert main(["autograde", ASSIGNMENT, "--course", str(course)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bubblewrap" in err[0] and "apt-get install bubblewrap" in err[0]
    assert "--no-sandbox" in err[0] and "未安装" in err[0]
    assert not (course / "autograded").exists()


def test_refuses_without_user_namespaces(make_course, monkeypatch, capsys, tmp_path):
    course = make_course()
    write_submission(course, "t1", "reference")
    SandboxHost.close_all()
    disabled = tmp_path / "max_user_namespaces"
    disabled.write_text("0\n")
    monkeypatch.setattr(sandbox_host, "USERNS_LIMIT", disabled)
    if not os.access("/usr/bin/bwrap", os.X_OK):
        monkeypatch.setattr(sandbox_host, "BWRAP", "/bin/true")
    assert main(["autograde", ASSIGNMENT, "--course", str(course)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "user.max_user_namespaces" in err[0] and "--no-sandbox" in err[0]
    assert not (course / "autograded").exists()


def test_no_sandbox_is_said_everywhere(make_course, capsys, monkeypatch):
    course = make_course()
    write_submission(course, "t1", "reference")
    monkeypatch.setattr(sandbox_host, "BWRAP", "/nonexistent/bwrap")  # not needed, not asked for
    assert main(["autograde", ASSIGNMENT, "--course", str(course), "--no-sandbox"]) == 0
    captured = capsys.readouterr()
    assert UNCONFINED_NOTE in captured.out and UNCONFINED_NOTE in captured.err
    (csv_file,) = (course / "reports" / "autograde").glob(f"{ASSIGNMENT}-*.csv")
    with open(csv_file, encoding="utf-8-sig", newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    assert UNCONFINED_NOTE in row["问题"] and row["得分"] == "5/5"
    (log_file,) = (course / "reports" / "autograde").glob(f"{ASSIGNMENT}-*.log")
    assert UNCONFINED_NOTE in log_file.read_text(encoding="utf-8")


class SiteExecute(Execute):
    """A site's own Execute subclass, named in a config."""

    marker = "site"


class PlainExecutePreprocessor(ExecutePreprocessor):
    pass


def test_no_configuration_runs_a_kernel_outside_the_sandbox():
    listed = sandboxed(["nbgrader.preprocessors.Execute", SiteExecute, PlainExecutePreprocessor,
                        "nbconvert.preprocessors.ExecutePreprocessor", "nbgrader.preprocessors.LimitOutput"])
    executes = [cls for cls in listed if issubclass(cls, ExecutePreprocessor)]
    assert len(executes) == 4 and all(issubclass(cls, SandboxedExecute) for cls in executes)
    assert listed.count(RedactHiddenTests) == 4
    assert issubclass(listed[listed.index(RedactHiddenTests) + 1], SiteExecute) and listed[2].marker == "site"
    # the kernel manager cannot be configured away (refused), nor set afterwards
    for section in ("SandboxedExecute", "Execute", "ExecutePreprocessor", "NotebookClient"):
        config = Config()
        config[section].kernel_manager_class = "jupyter_client.manager.AsyncKernelManager"
        for cls in executes:
            with pytest.raises(TraitError, match="沙箱"):
                cls(config=config)
    for cls in executes:
        assert cls().kernel_manager_class is SandboxKernelManager
    with pytest.raises(TraitError):
        SandboxedExecute().kernel_manager_class = AsyncKernelManager
    # a kernelspec naming another provisioner still gets the sandbox
    km = SandboxKernelManager(kernel_name="python3")
    spec = km.kernel_spec
    spec.metadata["kernel_provisioner"] = {"provisioner_name": "local-provisioner"}
    km._kernel_spec = spec
    assert km.kernel_spec.metadata["kernel_provisioner"]["provisioner_name"] == "dangxiao-bubblewrap"
