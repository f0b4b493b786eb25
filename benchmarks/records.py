"""Benchmark: the learning record under a class — heartbeats of many signed-in trainees to one server —
and the report's study table for a large centre.

    python benchmarks/records.py --trainees 200 --seconds 60        # a quick run (both backends)
    python benchmarks/records.py                                     # 1 000 trainees, 5 minutes
    python benchmarks/records.py --backend sqlite --skip-open-time --skip-report

For each backend (an SQLite file; a private PostgreSQL server started like the tests' fixture, with the
default durable settings):

1. **Writes.** N trainee accounts are put straight into the store. They all get one argon2 hash made once
   (`bench-pass-…`): hashing 1 000 passwords would take a minute of CPU before the benchmark starts and
   measures nothing the server does; each sign-in still verifies that hash on the server. One
   `dangxiao serve --db URL --pool-size 0` runs as a subprocess; every trainee signs in through `/login`
   (httpx: the form with `username`, `password` and the `_xsrf` cookie's value) and then, like
   `static/records.js`, POSTs a heartbeat batch to `/dangxiao/api/events` every 30 s (first beats spread
   over the first 30 s), the `_xsrf` cookie's value in `X-XSRFToken`. Measured: each POST's latency seen
   by the client (p50/p95/max, failures) and the server process's CPU (psutil, user+system, over the
   steady phase). Quiz attempts are sent by a lesson's *kernel* (signed with its session key), which needs
   a running kernel per trainee; instead a thread in this process writes them with the store's own
   `record_events` (one per trainee every `--quiz-every` seconds on average) on the same database, so the
   server's writes compete with them for the database; their latency is reported on its own line.
   For comparison, twice a second a signed-in `GET /dangxiao/api/me` (a session lookup, no write) is
   timed the same way: on a shared machine most of a write's latency can be the wait for a core.
2. **Lesson open time**, records on against records off: a server with `--pool-size 1 --preheat
   m0-start`, the pool pre-rendered, then `GET` of the lesson page (the whole body), `--opens` times, the
   pool refilled between GETs; on: a signed-in trainee on a store with a roster; off: an empty store.
3. **Report.** `dangxiao.records.study.study_table` for `--report-trainees` (10 000) trainees × the 14
   catalog lessons, records generated straight into the store (each trainee studied ~10 lessons, with 1–3
   quiz attempts on each), timed `--report-runs` times.

Targets (issue 11): write p95 < 50 ms; lesson open time unchanged within noise; the table in < 3 s.
Run by hand, never in the test suite; needs the `bench` and `test` extras (httpx, psycopg).
"""
from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
from class_burst import free_port, kernel_processes, start, stop, wait_for_pool  # noqa: E402


def _private_postgres_class():
    """`PrivatePostgres` of tests/conftest.py: one way of starting a private server, for tests and here."""
    spec = importlib.util.spec_from_file_location("dangxiao_tests_conftest", ROOT / "tests" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.PrivatePostgres, module.postgres_unavailable


PASSWORD = "bench-pass-" + uuid.uuid4().hex[:8]
OPEN_LESSON = "m0_start.ipynb"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def ms(value: float) -> str:
    return f"{value * 1000:.1f} ms"


# -- the store, filled directly -------------------------------------------------------------------------
def make_accounts(url: str, count: int, prefix: str = "b") -> list[str]:
    from sqlalchemy import insert

    from dangxiao.records import open_store
    from dangxiao.records.models import Account
    from dangxiao.records.passwords import hash_password
    from dangxiao.records.store import utcnow

    store = open_store(url)
    password_hash = hash_password(PASSWORD)  # once, for every account: see the module's docstring
    now = utcnow()
    ids = [f"{prefix}{n:05d}" for n in range(count)]
    with store.session() as db, db.begin():
        db.execute(insert(Account), [
            {"id": i, "name": f"模拟学员{n}", "class_name": f"模拟{n % 20 + 1}班", "unit": "", "role": "trainee",
             "password_hash": password_hash, "created_at": now, "updated_at": now} for n, i in enumerate(ids)])
    store.engine.dispose()
    return ids


# -- the write benchmark ----------------------------------------------------------------------------------
@dataclass
class Writes:
    beats: list[float] = field(default_factory=list)
    beat_failures: list[str] = field(default_factory=list)
    probe: list[float] = field(default_factory=list)  # GET /dangxiao/api/me: a session lookup, no write
    quiz: list[float] = field(default_factory=list)
    quiz_failures: list[str] = field(default_factory=list)
    sign_in: list[float] = field(default_factory=list)
    cpu_seconds: float = 0.0
    wall: float = 0.0
    load: float = 0.0  # the machine's 1-minute load average at the end: other work competes for the cores


def _no_cookie_jar():
    """Cookies are sent by hand, per trainee: one client serves them all and must not mix them up."""
    from http.cookiejar import CookieJar, DefaultCookiePolicy

    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


async def sign_in(client: httpx.AsyncClient, base: str, account_id: str) -> dict[str, str]:
    """Sign one trainee in through /login; returns the cookies its later requests carry."""
    page = await client.get(base + "login")
    xsrf = page.cookies.get("_xsrf")
    response = await client.post(base + "login", data={"username": account_id, "password": PASSWORD, "_xsrf": xsrf},
                                 headers={"Cookie": cookie_header({"_xsrf": xsrf})}, follow_redirects=False)
    from dangxiao.publishing.identity import SESSION_COOKIE  # renamed once (nginx hashes on it): never spelled here

    session = response.cookies.get(SESSION_COOKIE)
    if response.status_code != 302 or not session:
        raise RuntimeError(f"sign-in of {account_id} failed: {response.status_code} {response.text[:200]}")
    return {"_xsrf": xsrf, SESSION_COOKIE: session}


async def sign_in_all(base: str, ids: list[str], writes: Writes, parallel: int = 8) -> dict[str, dict]:
    cookies: dict[str, dict] = {}
    queue = list(ids)
    async with httpx.AsyncClient(timeout=120, cookies=_no_cookie_jar()) as client:
        async def worker():
            while queue:
                account_id = queue.pop()
                began = time.perf_counter()
                cookies[account_id] = await sign_in(client, base, account_id)
                writes.sign_in.append(time.perf_counter() - began)

        await asyncio.gather(*(worker() for _ in range(parallel)))
    return cookies


async def heartbeats(base: str, cookies: dict[str, dict], lessons: list[str], seconds: float, writes: Writes,
                     seed: int) -> None:
    rng = random.Random(seed)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(timeout=30, limits=limits, cookies=_no_cookie_jar()) as client:
        stop_at = time.monotonic() + seconds

        async def trainee(account_id: str, cookie: dict, lesson: str, offset: float):
            await asyncio.sleep(offset)  # offset < 30 s <= seconds: every trainee beats at least once
            header = {"Cookie": cookie_header(cookie),
                      "X-XSRFToken": cookie["_xsrf"], "Content-Type": "application/json"}
            next_at = time.monotonic()
            while True:
                body = {"lesson": "/voila/render/" + lesson,
                        "events": [{"id": uuid.uuid4().hex, "at": time.time(), "kind": "heartbeat",
                                    "active_seconds": 30}]}
                began = time.perf_counter()
                try:
                    response = await client.post(base + "dangxiao/api/events", json=body, headers=header)
                    if response.status_code == 200 and response.json().get("kept") == 1:
                        writes.beats.append(time.perf_counter() - began)
                    else:
                        writes.beat_failures.append(f"{response.status_code} {response.text[:120]}")
                except httpx.HTTPError as error:
                    writes.beat_failures.append(type(error).__name__)
                next_at += 30
                if next_at >= stop_at:
                    break
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))

        async def probe():
            """Twice a second a signed-in GET that writes nothing: what any request costs on this server
            and machine right now, to set the heartbeats' latency against."""
            signed_in = list(cookies.values())
            while time.monotonic() < stop_at:
                cookie = rng.choice(signed_in)
                began = time.perf_counter()
                response = await client.get(base + "dangxiao/api/me", headers={"Cookie": cookie_header(cookie)})
                if response.status_code == 200:
                    writes.probe.append(time.perf_counter() - began)
                await asyncio.sleep(0.5)

        await asyncio.gather(probe(), *(trainee(a, c, lessons[n % len(lessons)], rng.uniform(0, 30))
                                        for n, (a, c) in enumerate(cookies.items())))


def quiz_attempts(url: str, ids: list[str], lesson_ids: list[str], every: float, stop: threading.Event,
                  writes: Writes, seed: int) -> None:
    """Quiz attempts written with the store's own record_events, Poisson arrivals (see the docstring)."""
    from dangxiao.events import QuizAttemptEvent
    from dangxiao.records import open_store

    rng = random.Random(seed)
    store = open_store(url)
    rate = len(ids) / every
    while not stop.wait(rng.expovariate(rate)):
        account = rng.choice(ids)
        event = QuizAttemptEvent(id=uuid.uuid4().hex, at=time.time(), kind="quiz_attempt",
                                 question_id=f"q-{rng.randrange(5)}", answer="A", correct=rng.random() < 0.7)
        began = time.perf_counter()
        try:
            store.record_events(account, rng.choice(lesson_ids), [event])
            writes.quiz.append(time.perf_counter() - began)
        except Exception as error:  # noqa: BLE001 -- counted, the run goes on
            writes.quiz_failures.append(type(error).__name__)
    store.engine.dispose()


def write_benchmark(url: str, args, work: Path) -> Writes:
    from dangxiao.catalog import load_catalog

    catalog = load_catalog(ROOT / "courses")
    ids = make_accounts(url, args.trainees)
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    log = work / "serve-writes.log"
    server = start([sys.executable, "-m", "dangxiao", "serve", "--db", url, "--pool-size", "0", "--port", str(port),
                    "--no-browser"], base + "login", log)
    writes = Writes()
    try:
        began = time.perf_counter()
        cookies = asyncio.run(sign_in_all(base, ids, writes))
        print(f"  {len(cookies)} trainees signed in through /login in {time.perf_counter() - began:.1f} s "
              f"(p50 {ms(percentile(writes.sign_in, 0.5))} each, 8 at a time)", flush=True)
        process = psutil.Process(server.pid)
        stop_quiz = threading.Event()
        quiz = threading.Thread(target=quiz_attempts, args=(url, ids, [l.id for l in catalog.lessons], args.quiz_every,
                                                            stop_quiz, writes, args.seed))
        cpu_before, wall_before = sum(process.cpu_times()[:2]), time.monotonic()
        quiz.start()
        asyncio.run(heartbeats(base, cookies, [l.notebook for l in catalog.lessons], args.seconds, writes, args.seed))
        writes.cpu_seconds = sum(process.cpu_times()[:2]) - cpu_before
        writes.wall = time.monotonic() - wall_before
        writes.load = os.getloadavg()[0]
        stop_quiz.set()
        quiz.join()
    finally:
        stop(server)
    return writes


def report_writes(name: str, writes: Writes, trainees: int) -> None:
    cores = psutil.cpu_count()
    share = writes.cpu_seconds / writes.wall if writes.wall else float("nan")
    print(f"  heartbeats: {len(writes.beats)} kept, {len(writes.beat_failures)} failed; "
          f"p50 {ms(percentile(writes.beats, 0.5))}, p95 {ms(percentile(writes.beats, 0.95))}, "
          f"max {ms(max(writes.beats, default=float('nan')))} "
          f"({len(writes.beats) / writes.wall:.1f}/s from {trainees} trainees)")
    if writes.beat_failures:
        print(f"    first failures: {writes.beat_failures[:3]}")
    print(f"  for comparison, GET /dangxiao/api/me (sign-in lookup, no write) meanwhile: {len(writes.probe)}×, "
          f"p50 {ms(percentile(writes.probe, 0.5))}, p95 {ms(percentile(writes.probe, 0.95))}")
    print(f"  quiz attempts (record_events in this process): {len(writes.quiz)} kept, "
          f"{len(writes.quiz_failures)} failed; p50 {ms(percentile(writes.quiz, 0.5))}, "
          f"p95 {ms(percentile(writes.quiz, 0.95))}" + (f"; failures {writes.quiz_failures[:3]}" if writes.quiz_failures else ""))
    print(f"  server CPU: {writes.cpu_seconds:.1f} s in {writes.wall:.0f} s = {share:.1%} of one core, "
          f"{share / cores:.1%} of the machine's {cores} (load average {writes.load:.1f})")
    verdict = "meets" if percentile(writes.beats, 0.95) < 0.050 else "MISSES"
    print(f"  → {name}: write p95 {verdict} the 50 ms target")


# -- lesson open time -------------------------------------------------------------------------------------
def open_times(url: str | None, args, work: Path, records_on: bool) -> list[float]:
    """GET of a pre-rendered lesson page, `args.opens` times; `url` None: an empty store (records off)."""
    if url is None:
        url = f"sqlite:///{work / 'empty.sqlite'}"
    elif records_on:
        make_accounts(url, 1, prefix="open")
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    log = work / f"serve-open-{'on' if records_on else 'off'}.log"
    server = start([sys.executable, "-m", "dangxiao", "serve", "--db", url, "--pool-size", "1", "--preheat", "m0-start",
                    "--port", str(port), "--no-browser"], base + ("login" if records_on else ""), log)
    times = []
    try:
        async def run():
            async with httpx.AsyncClient(timeout=180, cookies=_no_cookie_jar()) as client:
                headers = {}
                if records_on:
                    headers["Cookie"] = cookie_header(await sign_in(client, base, "open00000"))
                for n in range(args.opens):
                    wait_for_pool(server, log, size=n + 1, settle=2.0, timeout=180)
                    began = time.perf_counter()
                    response = await client.get(base + "voila/render/" + OPEN_LESSON, headers=headers)
                    elapsed = time.perf_counter() - began
                    if response.status_code != 200 or "rendered_cells" not in response.text:
                        raise RuntimeError(f"lesson page: {response.status_code} {response.text[:200]}")
                    times.append(elapsed)

        asyncio.run(run())
    finally:
        stop(server)
    return times


# -- the report's study table -----------------------------------------------------------------------------
def report_benchmark(url: str, args) -> list[float]:
    from sqlalchemy import insert

    from dangxiao.catalog import load_catalog
    from dangxiao.credit_rule import CreditRule
    from dangxiao.records import open_store
    from dangxiao.records.models import LessonProgress, QuizAttempt
    from dangxiao.records.store import utcnow
    from dangxiao.records.study import study_table

    catalog = load_catalog(ROOT / "courses")
    lessons = catalog.lessons
    ids = make_accounts(url, args.report_trainees, prefix="r")
    rng = random.Random(args.seed)
    now = utcnow()
    progress, attempts = [], []
    for account_id in ids:
        for lesson in rng.sample(lessons, k=min(len(lessons), rng.randint(6, 14))):
            minutes = rng.uniform(0.2, 1.2) * lesson.minutes
            progress.append({"account_id": account_id, "lesson_id": lesson.id, "opens": rng.randint(1, 4),
                             "active_seconds": minutes * 60, "first_opened_at": now - timedelta(days=3),
                             "last_seen_at": now, "completed_at": now if rng.random() < 0.6 else None})
            for n in range(rng.randint(1, 3)):
                attempts.append({"event_id": uuid.uuid4().hex, "account_id": account_id, "lesson_id": lesson.id,
                                 "question_id": f"{lesson.id}-q{n}", "answer": "A", "correct": rng.random() < 0.7,
                                 "first": True, "at": now})
    store = open_store(url)
    began = time.perf_counter()
    with store.session() as db, db.begin():
        db.execute(insert(LessonProgress), progress)
        db.execute(insert(QuizAttempt), attempts)
    print(f"  generated {len(ids)} trainees, {len(progress)} lesson records, {len(attempts)} quiz attempts "
          f"in {time.perf_counter() - began:.1f} s", flush=True)
    times = []
    for _ in range(args.report_runs):
        began = time.perf_counter()
        table = study_table(store, catalog, CreditRule())
        times.append(time.perf_counter() - began)
    assert len(table) == len(ids) * len(lessons)
    store.engine.dispose()
    return times


# -- main -------------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--trainees", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=300, help="length of the heartbeat phase")
    parser.add_argument("--quiz-every", type=float, default=120, help="mean seconds between a trainee's quiz attempts")
    parser.add_argument("--opens", type=int, default=5, help="lesson page GETs with records on, and off")
    parser.add_argument("--report-trainees", type=int, default=10_000)
    parser.add_argument("--report-runs", type=int, default=3)
    parser.add_argument("--skip-writes", action="store_true")
    parser.add_argument("--skip-open-time", action="store_true")
    parser.add_argument("--skip-report", action="store_true")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    print(f"records benchmark: {args.trainees} trainees, {args.seconds:g} s of heartbeats every 30 s; "
          f"{psutil.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}", flush=True)

    with tempfile.TemporaryDirectory(prefix="dangxiao-bench-records-") as folder:
        work = Path(folder)
        os.environ["DANGXIAO_DATA"] = str(work / "data")
        server = None
        if "postgresql" in backends:
            PrivatePostgres, unavailable = _private_postgres_class()
            if unavailable():
                print(f"PostgreSQL skipped: {unavailable()}")
                backends.remove("postgresql")
            else:
                server = PrivatePostgres(durable=True, max_connections=300).start()
        try:
            opens_off = None
            for backend in backends:
                def fresh_url(tag: str) -> str:
                    if backend == "sqlite":
                        return f"sqlite:///{work / f'{tag}.sqlite'}"
                    return server.create_database(f"bench_{tag}")

                print(f"\n== {backend} ==", flush=True)
                if not args.skip_writes:
                    report_writes(backend, write_benchmark(fresh_url("writes"), args, work), args.trainees)
                if not args.skip_open_time:
                    if opens_off is None:
                        opens_off = open_times(None, args, work, records_on=False)
                    on = open_times(fresh_url("open"), args, work, records_on=True)
                    print(f"  lesson open ({OPEN_LESSON}, pre-rendered, {args.opens}×): records on median "
                          f"{ms(statistics.median(on))} (min {ms(min(on))}, max {ms(max(on))}); records off median "
                          f"{ms(statistics.median(opens_off))} (min {ms(min(opens_off))}, max {ms(max(opens_off))})",
                          flush=True)
                if not args.skip_report:
                    times = report_benchmark(fresh_url("report"), args)
                    verdict = "meets" if min(times) < 3 else "MISSES"
                    print(f"  study_table, {args.report_trainees} trainees × 14 lessons: "
                          + ", ".join(f"{t:.2f} s" for t in times) + f" → {verdict} the 3 s target", flush=True)
        finally:
            if server is not None:
                server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
