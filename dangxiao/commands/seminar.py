"""`dangxiao seminar MODULE [--out FILE] [--force]`: print a module's seminar (研讨) guide as a page.

Without --out the page goes to standard output. An existing file is not overwritten without --force.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dangxiao.errors import DangxiaoError


def configure(parser: argparse.ArgumentParser) -> None:
    """Add this subcommand's arguments."""
    parser.add_argument("module", metavar="MODULE", help="模块编号，如 m3 / module id, e.g. m3")
    parser.add_argument("--out", type=Path, metavar="FILE",
                        help="写入的 HTML 文件（默认输出到屏幕）/ HTML file to write (default: standard output)")
    parser.add_argument("--force", action="store_true", help="覆盖已有文件 / overwrite an existing file")
    parser.add_argument("--courses", type=Path, metavar="DIR",
                        help="课程目录（默认：项目的 courses/）/ courses folder (default: the project's)")


def run(args: argparse.Namespace) -> int:
    from dangxiao.catalog import load_catalog
    from dangxiao.seminars import load_seminar, seminar_page

    seminar = load_seminar(args.module, args.courses)
    catalog = load_catalog(args.courses)
    module_title = next((m.title for m in catalog.modules if m.id == seminar.module), "")
    sources = []
    try:
        from dangxiao import data

        titles = data.sources().set_index("id")
        sources = [f"《{titles.loc[s, 'title']}》（{titles.loc[s, 'place']}）" for s in seminar.sources if s in titles.index]
    except DangxiaoError:
        pass  # the page is still useful without its citations; validate reports a broken dataset
    page = seminar_page(seminar, module_title, sources)
    if args.out is None:
        sys.stdout.write(page)
        return 0
    if args.out.exists() and not args.force:
        raise DangxiaoError(f"{args.out}: 文件已存在，未覆盖（要覆盖请加 --force）/ file exists, not overwritten")
    args.out.write_text(page, encoding="utf-8")
    print(f"已写入 / wrote {args.out}")
    return 0
