"""`dangxiao serve`: the lesson gallery on Voila, for a class on the training centre's intranet."""
from __future__ import annotations

import argparse
from pathlib import Path

from dangxiao.errors import DangxiaoError


def configure(parser: argparse.ArgumentParser) -> None:
    """Add this subcommand's arguments."""
    parser.add_argument("--port", type=int, default=8866, help="端口 / port (默认 default 8866)")
    parser.add_argument(
        "--host", default="127.0.0.1",
        help="监听地址；内网直连用 0.0.0.0，推荐放在 nginx 之后 / address to listen on (default 127.0.0.1)",
    )
    parser.add_argument("--no-browser", action="store_true", help="不自动打开浏览器 / don't open a browser")
    parser.add_argument(
        "--courses", type=Path, default=None,
        help="课程目录（含 catalog.yaml）/ the courses folder (default: the project's courses/)",
    )
    parser.add_argument(
        "--pool-size", type=int, default=1, metavar="N",
        help="每课预热内核数，上课时设为班级人数 / preheated kernels per lesson; set to the class size "
        "for a class (default 1; 0 disables preheating)",
    )
    parser.add_argument(
        "--preheat", action="append", default=[], metavar="LESSON_ID",
        help="只为这些课程预热（可重复），默认全部 / preheat only these lessons (repeatable; default all)",
    )
    parser.add_argument(
        "--max-kernels", type=int, default=0, metavar="N",
        help="同时运行的内核上限（含预热池）/ cap on live kernels, pool included "
        "(default: 75%% of memory / 150 MB)",
    )
    parser.add_argument(
        "--cull-idle-timeout", type=int, default=600, metavar="S",
        help="关闭无人连接且空闲超过 S 秒的内核 / shut down kernels idle and unconnected for S seconds "
        "(default 600; 0 disables)",
    )
    parser.add_argument(
        "--cull-interval", type=int, default=60, metavar="S",
        help="每隔 S 秒检查一次空闲内核 / how often to look for idle kernels (default 60)",
    )
    parser.add_argument(
        "--cell-timeout", type=int, default=120, metavar="S",
        help="课程中一段代码最多运行 S 秒，超时则页面显示提示 / a lesson cell may run S seconds, then the "
        "page says it timed out (default 120; 0 = no limit)",
    )
    parser.add_argument(
        "--db", default=None, metavar="URL",
        help="学习记录库（SQLAlchemy URL，如 postgresql://…）；库中有学员名单时需登录 / record store URL; "
        "with a roster in it the site asks for sign-in (default: $DANGXIAO_DB, else data/records.sqlite)",
    )
    parser.add_argument(
        "--demo", action="store_true",
        help="用示例账号试用登录后的站点（临时库，停止后作废）/ try the signed-in site with sample accounts "
        "(a throw-away record store)",
    )
    parser.add_argument(
        "--course", type=Path, default=None, metavar="DIR",
        help="nbgrader 课程目录：测验蓝图（assessments/）与交卷（submitted/）/ the nbgrader course: test blueprints "
        "and where submitted tests go (default: the project's assignments/)",
    )
    parser.add_argument(
        "--credit-rule", type=Path, default=None, metavar="YAML",
        help="学时认定规则（格式见 dangxiao.credit_rule）/ the 学时 crediting rule shown in 我的学习",
    )
    parser.add_argument(
        "--refill-quiet", type=float, default=3.0, metavar="S",
        help="学员打开课程时推迟补充预热池，直到 S 秒内无人再打开 / pool refills wait until no lesson "
        "page was requested for S seconds (default 3; 0 = refill at once, as stock Voila)",
    )
    parser.add_argument(
        "--fill-concurrency", type=int, default=0, metavar="N",
        help="预热池同时启动并预渲染的内核数 / pool kernels starting and pre-rendering at a time "
        "(default 0 = one per CPU)",
    )
    parser.add_argument(
        "--show-tracebacks", action="store_true",
        help="在页面上显示错误详情（仅供调试）/ show tracebacks in pages (debugging only)",
    )


def run(args: argparse.Namespace) -> int:
    from dangxiao.paths import courses_dir
    from dangxiao.publishing import ServeSettings, serve

    courses = (args.courses or courses_dir()).resolve()
    if not (courses / "catalog.yaml").is_file():
        raise DangxiaoError(f"{courses / 'catalog.yaml'}: 文件不存在 / catalog not found")
    settings = ServeSettings(
        courses=courses,
        port=args.port,
        host=args.host,
        open_browser=not args.no_browser,
        pool_size=args.pool_size,
        preheat=list(args.preheat),
        max_kernels=args.max_kernels,
        cull_idle_timeout=args.cull_idle_timeout,
        cull_interval=args.cull_interval,
        cell_timeout=args.cell_timeout,
        refill_quiet=args.refill_quiet,
        fill_concurrency=args.fill_concurrency,
        show_tracebacks=args.show_tracebacks,
        db=args.db,
        credit_rule=args.credit_rule,
        demo=args.demo,
        course=args.course,
    )
    settings.validate()
    print(
        f"课程目录 / gallery: http://{args.host}:{args.port}/  "
        f"（预热 pool {settings.pool_size}/课, 内核上限 max kernels {settings.kernel_cap}）",
        flush=True,
    )
    return serve(settings)
