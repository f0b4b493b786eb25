"""Benchmark: a class opening the same lesson at once, stock `voila` vs `dangxiao serve`.

    python benchmarks/class_burst.py                          # 30 trainees, the first catalog lesson
    python benchmarks/class_burst.py --trainees 60 --lesson m1-l1
    python benchmarks/class_burst.py --only dangxiao --pool-size 60

N simulated trainees open the lesson within `--window` seconds (random arrivals, seeded). Each is an
async HTTP client reading the lesson page as it streams; its "time to first widget" runs from its
request until the first widget output (`application/vnd.jupyter.widget-view+json`) has arrived, i.e.
until the kernel has executed the lesson up to its first widget. A browser adds ~1 s of front-end work
on top (FIELD-NOTES). Reported: median and p95 of that time, failures (status, stalls past
`--timeout`), and the memory of the kernel processes (psutil RSS and USS, median and max per kernel).

Stock: `voila courses/<lesson>` (one notebook, no pool, the way Voila's docs serve a dashboard).
dangxiao: `dangxiao serve --pool-size P --preheat <lesson>` started ahead of the class, the pool given
time to pre-render (as it is before a class starts), then the same burst.

Run by hand, never in the test suite: the figures depend on the machine and on what else runs on it.
Needs the `bench` extra (`.venv/bin/pip install -e '.[bench]'`).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
WIDGET_VIEW = b"application/vnd.jupyter.widget-view+json"
MB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Run:
    name: str
    times: list[float] = field(default_factory=list)  # seconds to first widget, successful trainees
    failures: list[str] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)  # MB per kernel process
    uss: list[float] = field(default_factory=list)
    wall: float = 0.0
    kernels: int = 0


def _env() -> dict:
    env = os.environ.copy()
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    return env


def start(command: list[str], url: str, log: Path, timeout: float = 180) -> subprocess.Popen:
    process = subprocess.Popen(command, cwd=ROOT, stdout=open(log, "w"), stderr=subprocess.STDOUT,
                               start_new_session=True, env=_env())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{command[0]} exited {process.returncode}; see {log}")
        try:
            if httpx.get(url, timeout=5).status_code in (200, 404):
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    stop(process)
    raise SystemExit(f"{command[0]} not ready after {timeout} s; see {log}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def kernel_processes(server: subprocess.Popen) -> list[psutil.Process]:
    found = []
    for child in psutil.Process(server.pid).children(recursive=True):
        try:
            if "ipykernel" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.Error:
            pass
    return found


def wait_for_pool(server: subprocess.Popen, log: Path, size: int, settle: float, timeout: float) -> None:
    """Until `size` kernels run and their CPU has gone quiet (the notebook pre-rendered)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kernels = kernel_processes(server)
        if len(kernels) >= size and "is filled" in log.read_text(errors="replace"):
            busy = sum(k.cpu_percent(interval=None) for k in kernels)
            time.sleep(settle)
            busy = sum(k.cpu_percent(interval=None) for k in kernels)
            if busy < 5 * len(kernels) ** 0.5:
                return
        time.sleep(1)
    print(f"  (pool not quiet after {timeout} s: measuring anyway)", file=sys.stderr)


async def trainee(client: httpx.AsyncClient, url: str, delay: float, timeout: float, run: Run) -> None:
    await asyncio.sleep(delay)
    began = time.perf_counter()
    try:
        # httpx's timeout bounds each read, not the page: a page that trickles output forever needs
        # a deadline on the whole visit.
        outcome = await asyncio.wait_for(_visit(client, url, began), timeout)
    except (httpx.TimeoutException, asyncio.TimeoutError):
        outcome = f"stalled > {timeout:g} s"
    except httpx.HTTPError as error:
        outcome = type(error).__name__
    if isinstance(outcome, float):
        run.times.append(outcome)
    else:
        run.failures.append(outcome)


async def _visit(client: httpx.AsyncClient, url: str, began: float) -> float | str:
    """Seconds until the first widget view arrives (the page is read to the end, as a browser would),
    or what went wrong."""
    async with client.stream("GET", url) as response:
        if response.status_code != 200:
            return f"HTTP {response.status_code}"
        tail, first_widget = b"", None
        async for chunk in response.aiter_bytes():
            if first_widget is None and WIDGET_VIEW in tail + chunk:
                first_widget = time.perf_counter() - began
            tail = chunk[-len(WIDGET_VIEW):]
    return "page without a widget" if first_widget is None else first_widget


async def burst(url: str, trainees: int, window: float, timeout: float, run: Run, seed: int) -> None:
    rng = random.Random(seed)
    delays = sorted(rng.uniform(0, window) for _ in range(trainees))
    limits = httpx.Limits(max_connections=trainees + 10, max_keepalive_connections=0)
    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
        began = time.perf_counter()
        await asyncio.gather(*(trainee(client, url, d, timeout, run) for d in delays))
        run.wall = time.perf_counter() - began


def measure_memory(server: subprocess.Popen, run: Run) -> None:
    for process in kernel_processes(server):
        try:
            info = process.memory_full_info()
        except psutil.Error:
            continue
        run.rss.append(info.rss / MB)
        run.uss.append(info.uss / MB)
    run.kernels = len(run.rss)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def report(run: Run, trainees: int) -> None:
    print(f"\n{run.name}")
    if run.times:
        print(f"  time to first widget: median {statistics.median(run.times):.2f} s, "
              f"p95 {percentile(run.times, 0.95):.2f} s, max {max(run.times):.2f} s "
              f"({len(run.times)}/{trainees} trainees served, burst over in {run.wall:.1f} s)")
    if run.failures:
        counts = {f: run.failures.count(f) for f in sorted(set(run.failures))}
        print(f"  failures: {counts}")
    if run.rss:
        print(f"  kernels: {run.kernels}; RSS per kernel median {statistics.median(run.rss):.0f} MB, "
              f"max {max(run.rss):.0f} MB; USS median {statistics.median(run.uss):.0f} MB; "
              f"total RSS {sum(run.rss) / 1024:.2f} GB")


def lesson_notebook(lesson_id: str | None) -> str:
    from dangxiao.catalog import load_catalog

    catalog = load_catalog(ROOT / "courses")
    lesson = catalog.lesson(lesson_id) if lesson_id else catalog.lessons[0]
    return lesson.id, lesson.notebook


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trainees", type=int, default=30)
    parser.add_argument("--lesson", help="lesson id of the catalog (default: the first lesson)")
    parser.add_argument("--window", type=float, default=3.0, help="arrivals spread over this many seconds")
    parser.add_argument("--pool-size", type=int, default=None, help="dangxiao's pool (default: = trainees)")
    parser.add_argument("--max-kernels", type=int, default=None,
                        help="dangxiao's cap (default: pool + trainees, so nobody is refused)")
    parser.add_argument("--timeout", type=float, default=300, help="a trainee waiting longer has stalled")
    parser.add_argument("--only", choices=["stock", "dangxiao"])
    parser.add_argument("--early", action="store_true",
                        help="burst as soon as dangxiao answers, while the pool is still pre-rendering")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    lesson_id, notebook = lesson_notebook(args.lesson)
    pool = args.trainees if args.pool_size is None else args.pool_size
    cap = args.max_kernels or pool + args.trainees
    print(f"lesson {lesson_id} ({notebook}); {args.trainees} trainees within {args.window:g} s; "
          f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}")
    logs = Path(tempfile.mkdtemp(prefix="class_burst-"))
    runs = []

    if args.only in (None, "stock"):
        port = free_port()
        log = logs / "stock.log"
        server = start([sys.executable, "-m", "voila", str(ROOT / "courses" / notebook), "--no-browser",
                        f"--port={port}", "--Voila.ip=127.0.0.1"], f"http://127.0.0.1:{port}/", log)
        run = Run("stock voila courses/" + notebook + " (no pool)")
        try:
            asyncio.run(burst(f"http://127.0.0.1:{port}/", args.trainees, args.window, args.timeout, run, args.seed))
            measure_memory(server, run)
        finally:
            stop(server)
        runs.append(run)

    if args.only in (None, "dangxiao"):
        port = free_port()
        log = logs / "dangxiao.log"
        server = start([sys.executable, "-m", "dangxiao", "serve", "--no-browser", f"--port={port}",
                        f"--pool-size={pool}", f"--preheat={lesson_id}", f"--max-kernels={cap}"],
                       f"http://127.0.0.1:{port}/", log)
        run = Run(f"dangxiao serve --pool-size {pool} --max-kernels {cap}"
                  + (" (burst while the pool pre-renders)" if args.early else ""))
        try:
            if pool and not args.early:
                wait_for_pool(server, log, pool, settle=3, timeout=60 + 10 * pool)
            url = f"http://127.0.0.1:{port}/voila/render/{notebook}"
            asyncio.run(burst(url, args.trainees, args.window, args.timeout, run, args.seed))
            measure_memory(server, run)
            text = log.read_text(errors="replace")
            print(f"  (pool used {len(re.findall('Using pre-heated kernel', text))} times)")
        finally:
            stop(server)
        runs.append(run)

    for run in runs:
        report(run, args.trainees)
    if len(runs) == 2 and all(run.times for run in runs):
        ratio = statistics.median(runs[0].times) / statistics.median(runs[1].times)
        print(f"\nmedian time to first widget: dangxiao is {ratio:.1f}× faster than stock")
    print(f"\nserver logs: {logs}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
