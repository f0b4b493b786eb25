"""Benchmark: what a trainee waits for on a lesson page, stock `voila` beside `dangxiao serve`.

    python benchmarks/lesson_pages.py chromium --lesson m1-l1 --viewers 3
    python benchmarks/lesson_pages.py protocol --lesson m1-l1 --trainees 60
    python benchmarks/lesson_pages.py protocol --trainees 20 --pool-size 20 --window 15 \
        --refill-quiet 0 --fill-concurrency 100                        # refills as stock Voila: all at once
    python benchmarks/lesson_pages.py protocol --trainees 20 --pool-size 20 --rounds 2         # a second class

`chromium`: real viewers, each in its own headless Chromium process, one after the other (first the
page, then the same browser again: the repeat visit). Timed from navigation to the first widget drawn
and to the first answered click (the lesson's first 提交 button pressed, its feedback back from the
kernel: the comm round trip done). Reported per visit: bytes and responses over the network (CDP
Network events), requests that reached the server, main-thread time (CDP Performance.getMetrics
TaskDuration), CPU of the browser's processes and of the server (server process and its kernels,
psutil), apart.

`protocol`: N simulated trainees arriving within `--window` seconds, each doing what the page does,
as recorded from a Chromium visit beforehand: GET the page (read to its end), GET every asset the
browser fetched (6 at a time, gzip accepted), GET /api/kernels/<id>, open the kernel WebSocket, send
kernel_info_request, open the `jupyter.widget.control` comm and `request_states` (what the widget
manager sends; the reply is every widget's state: widgets can be drawn), then click the first 提交
button (comm `custom` click) and wait for the kernel's update; then leave as a closing tab does (the
page's shutdown beacon: POST /voila/api/shutdown/<id> with the _xsrf cookie; stock Voila refuses it,
voila #1458). `--visit repeat` replays what a browser's repeat visit sent instead of the first visit's
assets. Reported: p50 / p95 of time to widget states and to the answered click, failures, server CPU
per view (the burst, and until the server is idle again, refills included), bytes per view.

Stock: `voila courses/<lesson>.ipynb` (no pool, the way Voila's docs serve a dashboard). dangxiao:
`dangxiao serve --pool-size P --preheat <lesson>`, the pool given time to pre-render first.

Run by hand, never in the test suite, on a machine as quiet as you can get: the figures depend on it.
Needs the `bench` and `test` extras (httpx, websockets, playwright) and /usr/bin/chromium.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from class_burst import ROOT, free_port, kernel_processes, lesson_notebook, percentile, start, stop  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
SUBMIT = "提交"


# --- servers -----------------------------------------------------------------------------------------

@dataclass
class ServerUnderTest:
    name: str
    process: object
    url: str  # the lesson page
    base: str
    log: Path


def start_server(kind: str, lesson_id: str, notebook: str, pool: int, cap: int, refill_quiet: float | None,
                 logs: Path, fill_concurrency: int | None = None) -> ServerUnderTest:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = logs / f"{kind}.log"
    if kind == "stock":
        process = start([sys.executable, "-m", "voila", str(ROOT / "courses" / notebook), "--no-browser",
                         f"--port={port}", "--Voila.ip=127.0.0.1"], base + "/", log)
        return ServerUnderTest("stock voila (no pool)", process, base + "/", base, log)
    command = [sys.executable, "-m", "dangxiao", "serve", "--no-browser", f"--port={port}",
               f"--pool-size={pool}", f"--preheat={lesson_id}", f"--max-kernels={cap}"]
    name = f"dangxiao serve --pool-size {pool}"
    if refill_quiet is not None:
        command.append(f"--refill-quiet={refill_quiet:g}")
        name += f" --refill-quiet {refill_quiet:g}"
    if fill_concurrency is not None:
        command.append(f"--fill-concurrency={fill_concurrency}")
        name += f" --fill-concurrency {fill_concurrency}"
    process = start(command, base + "/", log)
    return ServerUnderTest(name, process, f"{base}/voila/render/{notebook}", base, log)


def wait_until_pooled(server: ServerUnderTest, pool: int, timeout: float) -> None:
    """Until the pool holds `pool` kernels and the server tree has been quiet for 3 s."""
    if pool <= 0:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = server.log.read_text(errors="replace")
        if len(kernel_processes(server.process)) >= pool and "is filled" in text:
            if tree_cpu_percent(server.process, 3.0) < 10:
                return
        time.sleep(1)
    print(f"  (pool not quiet after {timeout:.0f} s: measuring anyway)", file=sys.stderr)


def tree_cpu_seconds(process) -> float:
    """CPU seconds of the server and its kernels, reaped ones included (their time is in the server's
    children_* fields once it has waited for them)."""
    try:
        root = psutil.Process(process.pid)
        times = root.cpu_times()
        total = times.user + times.system + times.children_user + times.children_system
        for child in root.children(recursive=True):
            try:
                child_times = child.cpu_times()
                total += child_times.user + child_times.system
            except psutil.Error:
                pass
        return total
    except psutil.Error:
        return 0.0


def tree_cpu_percent(process, interval: float) -> float:
    before = tree_cpu_seconds(process)
    time.sleep(interval)
    return 100 * (tree_cpu_seconds(process) - before) / interval


def wait_until_idle(process, timeout: float = 300) -> float:
    """Seconds until the server tree uses < 5 % CPU over 2 s (refills done)."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if tree_cpu_percent(process, 2.0) < 5:
            break
    return time.monotonic() - began


# --- Chromium viewers -------------------------------------------------------------------------------

@dataclass
class BrowserVisit:
    widget_s: float = 0.0
    answered_s: float = 0.0
    bytes: int = 0
    responses: int = 0
    reached_server: int = 0
    main_thread_s: float = 0.0
    browser_cpu_s: float = 0.0
    server_cpu_s: float = 0.0
    urls: list[tuple[str, int, bool]] = field(default_factory=list)  # (url, status, from cache)


def browser_cpu_seconds(exclude_pid: int) -> float:
    """CPU of this process's descendants except the server tree: Playwright's driver and Chromium."""
    total = 0.0
    for child in psutil.Process().children(recursive=True):
        try:
            if child.pid == exclude_pid or exclude_pid in {p.pid for p in child.parents()}:
                continue
            times = child.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def chromium_visit(context, server: ServerUnderTest, timeout_ms: int = 180_000) -> BrowserVisit:
    visit = BrowserVisit()
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Performance.enable")
    seen: dict[str, dict] = {}
    cdp.on("Network.responseReceived", lambda e: seen.setdefault(e["requestId"], {}).update(
        url=e["response"]["url"], status=e["response"]["status"],
        cached=bool(e["response"].get("fromDiskCache"))))
    cdp.on("Network.requestServedFromCache", lambda e: seen.setdefault(e["requestId"], {}).update(cached=True))
    cdp.on("Network.loadingFinished", lambda e: seen.setdefault(e["requestId"], {}).update(bytes=e["encodedDataLength"]))
    sockets: list[str] = []
    cdp.on("Network.webSocketCreated", lambda e: sockets.append(e["url"]))
    cpu_browser, cpu_server = browser_cpu_seconds(server.process.pid), tree_cpu_seconds(server.process)
    began = time.perf_counter()
    page.goto(server.url, wait_until="commit", timeout=timeout_ms)
    page.wait_for_selector(".jupyter-widgets", state="visible", timeout=timeout_ms)
    visit.widget_s = time.perf_counter() - began
    button = page.get_by_role("button", name=SUBMIT).first
    button.wait_for(state="visible", timeout=timeout_ms)
    quiz = page.locator(".dangxiao-quiz").filter(has=button).first
    feedback = quiz.locator(".widget-html").last
    button.click()
    page.wait_for_function("el => el.innerText.trim().length > 0", arg=feedback.element_handle(), timeout=timeout_ms)
    visit.answered_s = time.perf_counter() - began
    page.wait_for_load_state("networkidle", timeout=timeout_ms)
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    visit.main_thread_s = metrics.get("TaskDuration", 0.0)
    visit.browser_cpu_s = browser_cpu_seconds(server.process.pid) - cpu_browser
    visit.server_cpu_s = tree_cpu_seconds(server.process) - cpu_server
    responses = [r for r in seen.values() if "status" in r]
    visit.bytes = sum(r.get("bytes", 0) for r in seen.values())
    visit.responses = len(responses)
    visit.reached_server = sum(1 for r in responses if not r.get("cached")) + len(sockets)
    visit.urls = [(r["url"], r["status"], bool(r.get("cached"))) for r in responses]
    page.close(run_before_unload=True)
    return visit


def run_chromium(server: ServerUnderTest, viewers: int) -> list[tuple[BrowserVisit, BrowserVisit]]:
    from playwright.sync_api import sync_playwright

    results = []
    with sync_playwright() as playwright:
        for _ in range(viewers):
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                context = browser.new_context(locale="zh-CN")
                first = chromium_visit(context, server)
                repeat = chromium_visit(context, server)
                results.append((first, repeat))
            finally:
                browser.close()
    return results


def report_chromium(server: ServerUnderTest, results) -> None:
    print(f"\n{server.name}: {len(results)} Chromium viewer(s), each its own browser")
    for label, index in (("first visit", 0), ("repeat visit", 1)):
        visits = [pair[index] for pair in results]
        med = lambda name: statistics.median(getattr(v, name) for v in visits)  # noqa: E731
        print(f"  {label}: first widget {med('widget_s'):.2f} s, answered click {med('answered_s'):.2f} s; "
              f"{med('bytes') / 1e6:.2f} MB in {med('responses'):.0f} responses, {med('reached_server'):.0f} "
              f"requests reached the server; main thread {med('main_thread_s'):.2f} s; browser CPU "
              f"{med('browser_cpu_s'):.2f} s; server CPU {med('server_cpu_s'):.2f} s (medians)")


# --- protocol-level viewers -------------------------------------------------------------------------

@dataclass
class Recording:
    """What a browser fetched besides the page: first visit, and what reached the server on a repeat."""
    first: list[str]
    repeat: list[str]
    validators: dict[str, dict[str, str]] = field(default_factory=dict)


def record_page(server: ServerUnderTest) -> Recording:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="zh-CN")
            first = chromium_visit(context, server)
            repeat = chromium_visit(context, server)
        finally:
            browser.close()
    skip = re.compile(r"/voila/render/|/api/kernels/|^data:|/voila/api/shutdown/")
    page_url = server.url.rstrip("/")

    def assets(visit, only_reaching):
        return [url for url, status, cached in visit.urls
                if not skip.search(url) and url.rstrip("/") != page_url and not (only_reaching and cached)]

    recording = Recording(assets(first, False), assets(repeat, True))
    with httpx.Client(timeout=60) as client:
        for url in set(recording.repeat):
            response = client.get(url)
            validators = {}
            if "etag" in response.headers:
                validators["If-None-Match"] = response.headers["etag"]
            if "last-modified" in response.headers:
                validators["If-Modified-Since"] = response.headers["last-modified"]
            recording.validators[url] = validators
    return recording


@dataclass
class ProtocolRun:
    name: str
    states_s: list[float] = field(default_factory=list)
    answered_s: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    bytes: list[int] = field(default_factory=list)
    burst_cpu_s: float = 0.0
    total_cpu_s: float = 0.0
    wall_s: float = 0.0
    idle_after_s: float = 0.0


def _message(msg_type: str, content: dict, session: str, metadata: dict | None = None) -> str:
    """A kernel message in jupyter_server's JSON WebSocket format (no subprotocol asked for)."""
    return json.dumps({
        "header": {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "username": "trainee", "session": session,
                   "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "version": "5.3"},
        "parent_header": {}, "metadata": metadata or {}, "content": content, "channel": "shell", "buffers": [],
    })


async def _receive(ws, predicate, timeout: float):
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise asyncio.TimeoutError
        raw = await asyncio.wait_for(ws.recv(), remaining)
        if isinstance(raw, bytes):
            continue
        message = json.loads(raw)
        if predicate(message):
            return message


def _submit_button(states: dict) -> str | None:
    for model_id, model in states.items():
        if model.get("model_name") == "ButtonModel" and model.get("state", {}).get("description") == SUBMIT:
            return model_id
    return None


async def protocol_trainee(client: httpx.AsyncClient, server: ServerUnderTest, recording: Recording, visit: str,
                           delay: float, timeout: float, run: ProtocolRun) -> None:
    await asyncio.sleep(delay)
    step = ["page"]
    try:
        await asyncio.wait_for(_protocol_visit(client, server, recording, visit, timeout, run, step), timeout)
    except (TimeoutError, asyncio.TimeoutError):
        run.failures.append(f"stalled at {step[0]} (> {timeout:g} s)")
    except Exception as error:  # noqa: BLE001 -- reported, counted as a failure
        run.failures.append(f"{type(error).__name__}: {str(error)[:80]}")


async def _protocol_visit(client: httpx.AsyncClient, server: ServerUnderTest, recording: Recording, visit: str,
                          timeout: float, run: ProtocolRun, step: list[str]) -> None:
    import websockets

    began = time.perf_counter()
    received = 0
    async with client.stream("GET", server.url) as response:
        if response.status_code != 200:
            run.failures.append(f"page HTTP {response.status_code}")
            return
        chunks = []
        async for chunk in response.aiter_raw():
            chunks.append(chunk)
            received += len(chunk)
        body = b"".join(chunks)
        if response.headers.get("content-encoding") == "gzip":
            import zlib
            body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
    html = body.decode("utf-8", "replace")
    kernel = re.search(r'"kernelId": "([0-9a-f-]{36})"', html)
    if not kernel:
        run.failures.append("page without a kernel")
        return
    kernel_id = kernel.group(1)
    urls = recording.first if visit == "first" else recording.repeat
    semaphore = asyncio.Semaphore(6)  # a browser's connections per host
    step[0] = "assets"

    async def fetch(url):
        nonlocal received
        async with semaphore:
            headers = recording.validators.get(url, {}) if visit == "repeat" else {}
            async with client.stream("GET", url, headers=headers) as asset:
                async for chunk in asset.aiter_raw():
                    received += len(chunk)
                if asset.status_code not in (200, 304):
                    raise RuntimeError(f"asset HTTP {asset.status_code}")

    await asyncio.gather(*(fetch(url) for url in urls))
    step[0] = "kernel info"
    info = await client.get(f"{server.base}/api/kernels/{kernel_id}")
    received += len(info.content)
    session = uuid.uuid4().hex
    ws_url = f"ws{server.base[4:]}/api/kernels/{kernel_id}/channels?session_id={session}"
    async with websockets.connect(ws_url, max_size=None, origin=server.base) as ws:
        step[0] = "kernel_info_reply"
        await ws.send(_message("kernel_info_request", {}, session))
        await _receive(ws, lambda m: m["header"]["msg_type"] == "kernel_info_reply", timeout)
        control = uuid.uuid4().hex
        # ipywidgets refuses a control comm without its protocol version (as the manager sends it).
        await ws.send(_message("comm_open", {"comm_id": control, "target_name": "jupyter.widget.control",
                                             "data": {}}, session, {"version": "1.0.0"}))
        step[0] = "widget states"
        await ws.send(_message("comm_msg", {"comm_id": control, "data": {"method": "request_states"}}, session))
        reply = await _receive(ws, lambda m: m["header"]["msg_type"] == "comm_msg"
                               and m["content"].get("data", {}).get("method") == "update_states", timeout)
        run.states_s.append(time.perf_counter() - began)
        await ws.send(_message("comm_close", {"comm_id": control, "data": {}}, session))
        button = _submit_button(reply["content"]["data"]["states"])
        if button is None:
            run.failures.append("no 提交 button in the widget states")
            return
        step[0] = "click answer"
        await ws.send(_message("comm_msg", {"comm_id": button, "data": {
            "method": "custom", "content": {"event": "click"}}}, session))
        await _receive(ws, lambda m: m["header"]["msg_type"] == "comm_msg"
                       and m["content"].get("data", {}).get("method") == "update", timeout)
        run.answered_s.append(time.perf_counter() - began)
    step[0] = "shutdown"
    xsrf = client.cookies.get("_xsrf")
    if xsrf:
        await client.post(f"{server.base}/voila/api/shutdown/{kernel_id}", headers={"X-XSRFToken": xsrf})
    else:
        await client.post(f"{server.base}/voila/api/shutdown/{kernel_id}")
    run.bytes.append(received)


async def protocol_burst(server: ServerUnderTest, recording: Recording, trainees: int, window: float, visit: str,
                         timeout: float, seed: int, run: ProtocolRun) -> None:
    rng = random.Random(seed)
    delays = sorted(rng.uniform(0, window) for _ in range(trainees))
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=trainees * 6)
    clients = [httpx.AsyncClient(limits=limits, timeout=timeout, headers={"Accept-Encoding": "gzip"})
               for _ in range(trainees)]  # one client per trainee: cookies of its own
    began = time.perf_counter()
    try:
        await asyncio.gather(*(protocol_trainee(client, server, recording, visit, delay, timeout, run)
                               for client, delay in zip(clients, delays)))
    finally:
        for client in clients:
            await client.aclose()
    run.wall_s = time.perf_counter() - began


def run_protocol(server: ServerUnderTest, recording: Recording, args) -> list[ProtocolRun]:
    runs = []
    for round_index in range(args.rounds):
        run = ProtocolRun(server.name + (f", class {round_index + 1}" if args.rounds > 1 else ""))
        cpu_before = tree_cpu_seconds(server.process)
        asyncio.run(protocol_burst(server, recording, args.trainees, args.window, args.visit, args.timeout,
                                   args.seed + round_index, run))
        run.burst_cpu_s = tree_cpu_seconds(server.process) - cpu_before
        run.idle_after_s = wait_until_idle(server.process)
        run.total_cpu_s = tree_cpu_seconds(server.process) - cpu_before
        runs.append(run)
    return runs


def report_protocol(run: ProtocolRun, trainees: int) -> None:
    print(f"\n{run.name}: {trainees} trainees")
    for label, values in (("widget states", run.states_s), ("answered click", run.answered_s)):
        if values:
            print(f"  {label}: p50 {statistics.median(values):.2f} s, p95 {percentile(values, 0.95):.2f} s, "
                  f"max {max(values):.2f} s ({len(values)}/{trainees})")
    if run.failures:
        counts = {f: run.failures.count(f) for f in sorted(set(run.failures))}
        print(f"  failures: {counts}")
    served = max(1, len(run.answered_s))
    print(f"  server CPU per view: {run.burst_cpu_s / served:.2f} s during the burst ({run.wall_s:.1f} s), "
          f"{run.total_cpu_s / served:.2f} s until idle again ({run.idle_after_s:.0f} s later, refills included)")
    if run.bytes:
        print(f"  bytes per view: {statistics.median(run.bytes) / 1e6:.2f} MB (median)")


# --- main --------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["chromium", "protocol"])
    parser.add_argument("--lesson", help="lesson id of the catalog (default: the first lesson)")
    parser.add_argument("--only", choices=["stock", "dangxiao"])
    parser.add_argument("--viewers", type=int, default=3, help="chromium: viewers, one after the other")
    parser.add_argument("--trainees", type=int, default=60, help="protocol: simulated trainees")
    parser.add_argument("--window", type=float, default=3.0, help="protocol: arrivals spread over S seconds")
    parser.add_argument("--visit", choices=["first", "repeat"], default="first")
    parser.add_argument("--rounds", type=int, default=1, help="protocol: classes one after the other")
    parser.add_argument("--pool-size", type=int, default=None, help="dangxiao's pool (default: = trainees)")
    parser.add_argument("--max-kernels", type=int, default=None)
    parser.add_argument("--refill-quiet", type=float, default=None, help="dangxiao's --refill-quiet")
    parser.add_argument("--fill-concurrency", type=int, default=None,
                        help="dangxiao's --fill-concurrency (with --refill-quiet 0 and a large value: stock "
                        "Voila's refill, every kernel at once)")
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    lesson_id, notebook = lesson_notebook(args.lesson)
    count = args.viewers if args.mode == "chromium" else args.trainees
    # chromium: every visit (first and repeat) of every viewer from the pool, as in a prepared class.
    pool = (count if args.mode == "protocol" else 2 * count) if args.pool_size is None else args.pool_size
    cap = args.max_kernels or pool + count + 4
    print(f"lesson {lesson_id} ({notebook}); {args.mode}, {count} viewers; {os.cpu_count()} CPUs; "
          f"load average {os.getloadavg()[0]:.1f}")
    logs = Path(tempfile.mkdtemp(prefix="lesson_pages-"))
    for kind in ("stock", "dangxiao"):
        if args.only and args.only != kind:
            continue
        server = start_server(kind, lesson_id, notebook, pool, cap, args.refill_quiet, logs, args.fill_concurrency)
        try:
            if kind == "dangxiao":
                wait_until_pooled(server, max(pool, 1), timeout=120 + 6 * pool)
            if args.mode == "chromium":
                report_chromium(server, run_chromium(server, args.viewers))
            else:
                recording = record_page(server)
                if kind == "dangxiao":
                    wait_until_pooled(server, pool, timeout=120 + 6 * pool)  # the recording took one
                print(f"  ({server.name}: the page fetched {len(recording.first)} assets on a first visit, "
                      f"{len(recording.repeat)} on a repeat visit)")
                for run in run_protocol(server, recording, args):
                    report_protocol(run, args.trainees)
                text = server.log.read_text(errors="replace")
                if kind == "dangxiao":
                    print(f"  (pool used {text.count('Using pre-heated kernel')} times; refills that waited: "
                          f"{text.count('pool refill waits')})")
        finally:
            stop(server.process)
    print(f"\nserver logs: {logs}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
