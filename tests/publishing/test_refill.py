"""Pool refills never starve a class: a refill kernel waits while a lesson page is being rendered, and
starts once pages have been quiet for --refill-quiet seconds. With --refill-quiet 0 (stock Voila's
behaviour) the refill starts while the page is still rendering: the same scenario, the other outcome."""
from __future__ import annotations

import re
import threading
import time

import pytest

from dangxiao.publishing.gallery import lesson_url
from dangxiao.publishing.kernels import is_pool_refill

pytestmark = pytest.mark.slow


def test_refill_kernels_are_recognised_by_voilas_preheat_flag():
    assert is_pool_refill({"env": {"VOILA_PREHEAT": "True"}})
    assert not is_pool_refill({"env": {"VOILA_PREHEAT": "False"}})
    assert not is_pool_refill({})


def _courses(support, tmp_path):
    courses = tmp_path / "courses"
    support.notebook(courses / "fast.ipynb", [("code", "import ipywidgets as w\nw.Label('快')")])
    support.notebook(courses / "slow.ipynb", [("code", "import time\ntime.sleep(12)\nprint('慢课结束')")])
    (courses / "catalog.yaml").write_text(
        "title: 测试\nmodules:\n  - id: r\n    title: 模块\n    lessons:\n"
        "      - {id: r-fast, title: 快课, notebook: fast.ipynb, minutes: 5}\n"
        "      - {id: r-slow, title: 慢课, notebook: slow.ipynb, minutes: 5}\n", encoding="utf-8")
    return courses


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def _kernel_starts(log: str) -> int:
    return len(re.findall(r"Kernel started: ", log))


def _scenario(support, courses, quiet: str) -> tuple[int, int, str]:
    """Take the pool's kernel, then render a 12-second lesson on demand. Returns the kernel starts seen
    while that page was in flight (beyond its own), the starts after it, and the server log."""
    server = support.server(courses, ["--pool-size", "1", "--preheat", "r-fast", "--refill-quiet", quiet]).start()
    try:
        _wait_for(lambda: "is filled with 1 kernel" in server.log(), 120, "the pool")
        before = _kernel_starts(server.log())
        assert support.get(server.url + lesson_url("/", "fast.ipynb"))[0] == 200  # the pool's kernel
        done = {}

        def slow_page():
            done["status"], done["body"] = support.get(server.url + lesson_url("/", "slow.ipynb"))
            done["starts"] = _kernel_starts(server.log())

        reader = threading.Thread(target=slow_page)
        reader.start()
        reader.join(timeout=120)
        assert done.get("status") == 200 and "慢课结束" in done["body"]
        during = done["starts"] - before - 1  # minus the slow page's own kernel
        _wait_for(lambda: _kernel_starts(server.log()) >= before + 2, 120, "the refill")  # slow page + refill
        after = _kernel_starts(server.log()) - done["starts"]
        return during, after, server.log()
    finally:
        server.stop()


def test_a_refill_waits_for_the_page_in_flight(support, tmp_path):
    during, after, log = _scenario(support, _courses(support, tmp_path), "2")
    assert during == 0, "the refill kernel started while a lesson page was rendering"
    assert after == 1
    assert "pool refill waits" in log


def test_without_the_wait_the_refill_runs_beside_the_page(support, tmp_path):
    during, after, log = _scenario(support, _courses(support, tmp_path), "0")
    assert during == 1 and after == 0
    assert "pool refill waits" not in log


def test_the_refill_wait_is_configured_from_serve_settings(fixture_project):
    from dangxiao.catalog import load_catalog
    from dangxiao.errors import DangxiaoError
    from dangxiao.publishing import ServeSettings, voila_config

    catalog = load_catalog(fixture_project / "courses")
    assert voila_config(ServeSettings(courses=catalog.root), catalog).CappedKernelManager.refill_quiet == 3.0
    off = voila_config(ServeSettings(courses=catalog.root, refill_quiet=0), catalog)
    assert off.CappedKernelManager.refill_quiet == 0.0
    with pytest.raises(DangxiaoError, match="--refill-quiet"):
        ServeSettings(courses=catalog.root, refill_quiet=-1).validate()


def test_pool_fills_run_a_few_at_a_time_each_until_its_prerender_is_done():
    """The gate itself, with the kernel start and Voila's pool stubbed: at most `fill_concurrency`
    pool kernels start and pre-render at once; a slot frees when that kernel's pre-render ends."""
    import asyncio

    from dangxiao.publishing.kernels import CappedKernelManager

    async def scenario():
        manager = CappedKernelManager(fill_concurrency=2)
        renders: dict[str, asyncio.Future] = {}
        started: list[str] = []

        async def fake_start(*args, kernel_id=None, **kwargs):
            name = f"k{len(started)}"
            started.append(name)
            renders[name] = asyncio.get_running_loop().create_future()
            return name

        manager._start_capped = fake_start
        manager._prerender_of = lambda kernel_id: renders.get(kernel_id)
        refill = {"env": {"VOILA_PREHEAT": "True"}}
        fills = [asyncio.ensure_future(manager.start_kernel(**refill)) for _ in range(5)]
        await asyncio.sleep(0.3)
        assert len(started) == 2  # two pre-rendering, three waiting
        renders["k0"].set_result(None)
        await asyncio.sleep(0.3)
        assert len(started) == 3
        for name in list(renders):
            if not renders[name].done():
                renders[name].set_result(None)
        await asyncio.sleep(0.3)
        for name in list(renders):
            if not renders[name].done():
                renders[name].set_result(None)
        await asyncio.wait_for(asyncio.gather(*fills), 5)
        assert len(started) == 5
        # An on-demand start (a trainee's page) never waits for a slot.
        assert await asyncio.wait_for(manager.start_kernel(env={"VOILA_PREHEAT": "False"}), 1) == "k5"

    # In a thread of its own: Playwright's sync API may hold an event loop in this one (whole-suite runs).
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(lambda: asyncio.run(scenario())).result(timeout=60)
