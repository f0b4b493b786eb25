"""The foundation: one import root, one command, one-line errors."""
import subprocess
import sys
from pathlib import Path

import pytest

from dangxiao.cli import SUBCOMMANDS, main

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "dangxiao", *args], capture_output=True, text=True, cwd=ROOT)


def test_help_lists_every_subcommand_in_both_languages():
    result = run_cli("--help")
    assert result.returncode == 0
    for name in ("serve", "lab", "release", "autograde", "feedback", "report", "validate", "datasets"):
        assert name in result.stdout
    assert "子命令" in result.stdout and "subcommands" in result.stdout


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_each_subcommand_has_help(name):
    result = run_cli(name, "--help")
    assert result.returncode == 0, result.stderr
    assert SUBCOMMANDS[name][1].split(" / ")[0] in result.stdout


def test_unknown_subcommand_fails_without_traceback():
    result = run_cli("no-such-command")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr


def test_error_is_one_line(monkeypatch, capsys):
    from dangxiao.errors import DangxiaoError
    import dangxiao.commands.validate as validate

    def boom(args):
        raise DangxiaoError("datasets/indicators.csv: 缺少列 value")

    monkeypatch.setattr(validate, "run", boom)
    assert main(["validate"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "indicators.csv" in err


def test_no_top_level_content_packages_are_installed():
    # `widgets`, `grading` and `datasets` exist only under the dangxiao import root.
    code = ("import importlib.util,sys; sys.path=[p for p in sys.path if p not in ('', '.')]; "
            "print([n for n in ('widgets','grading') if importlib.util.find_spec(n)])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/")
    assert result.stdout.strip() == "[]"
    import dangxiao.datasets, dangxiao.grading, dangxiao.widgets  # noqa: F401
    assert Path(dangxiao.widgets.__file__).parent == ROOT / "widgets"
