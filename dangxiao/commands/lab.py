"""`dangxiao lab` (not built yet)."""
from __future__ import annotations

import argparse

from dangxiao.errors import DangxiaoError


def configure(parser: argparse.ArgumentParser) -> None:
    """Add this subcommand's arguments."""


def run(args: argparse.Namespace) -> int:
    raise DangxiaoError("`dangxiao lab` 尚未实现 / not implemented yet")
