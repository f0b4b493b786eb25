"""`dangxiao datasets build --sources DIR [--out DIR]`: rebuild the CSV datasets from the articles."""
from __future__ import annotations

import argparse
from pathlib import Path

from dangxiao.errors import DangxiaoError


def configure(parser: argparse.ArgumentParser) -> None:
    """Add this subcommand's arguments."""
    actions = parser.add_subparsers(dest="action", metavar="操作 ACTION", title="操作 / actions")
    build = actions.add_parser(
        "build",
        help="由五篇原文与 datasets/content/ 构建 CSV / build the CSVs from the articles and the curated content",
        description="规范化原文（去除网站内容、拼音，繁转简），核对内容后写出 CSV；核对失败时不写任何文件。\n"
                    "Normalise the articles, check the curated content against them, then write the CSVs; "
                    "nothing is written when a check fails.",
    )
    build.add_argument("--sources", required=True, type=Path, metavar="DIR",
                       help="原文目录，如 ../shared/seeds / folder of the five source articles")
    build.add_argument("--out", type=Path, metavar="DIR",
                       help="输出目录（默认：包内 datasets 目录）/ output folder (default: the package's datasets folder)")


def run(args: argparse.Namespace) -> int:
    if getattr(args, "action", None) != "build":
        raise DangxiaoError("请指定操作：dangxiao datasets build --sources DIR / missing action")
    from dangxiao.datasets.build import PACKAGE_DIR, build

    written = build(args.sources, args.out or PACKAGE_DIR)
    for path in written:
        print(f"已写入 / wrote {path}")
    return 0
