"""A class at once: the cap on live kernels, culling, and the preheated pool under a burst."""
from __future__ import annotations

import asyncio
import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from dangxiao.publishing.kernels import CappedKernelManager, KernelLimitReached

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def test_cap_refuses_kernels_beyond_the_limit_even_in_a_burst(tmp_path):
    async def scenario():
        manager = CappedKernelManager(max_kernels=2, root_dir=str(tmp_path))
        try:
            results = await asyncio.gather(
                *(manager.start_kernel(kernel_name="python3") for _ in range(3)), return_exceptions=True
            )
            started = [r for r in results if isinstance(r, str)]
            refused = [r for r in results if isinstance(r, KernelLimitReached)]
            assert len(started) == 2 and len(refused) == 1, results
            assert refused[0].status_code == 503
            assert manager.live_kernel_count == 2 and not manager.has_room()
            await manager.shutdown_kernel(started[0])
            assert manager.has_room()
            started.append(await manager.start_kernel(kernel_name="python3"))
            assert len(manager.list_kernel_ids()) == 2
        finally:
            await manager.shutdown_all()

    # In a thread of its own: the session's Playwright browser keeps an event loop in the main thread.
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(asyncio.run, scenario()).result()


def test_zero_means_no_cap(tmp_path):
    manager = CappedKernelManager(max_kernels=0, root_dir=str(tmp_path))
    manager._kernels.update({f"k{i}": object() for i in range(500)})
    assert manager.has_room()
    manager._kernels.clear()


@pytest.mark.slow
def test_pool_burst_cap_and_culling(fixture_project, support):
    """A pool of 2 for one lesson and a cap of 4 kernels: a burst of 4 trainees all get the lesson, the
    5th gets the Chinese 503 page, and once the idle kernels are culled the lesson opens again."""
    server = support.server(
        fixture_project / "courses",
        ["--pool-size", "2", "--preheat", "t1-plain", "--max-kernels", "4",
         "--cull-idle-timeout", "20", "--cull-interval", "2"],
    ).start()
    url = server.url + "/voila/render/t2_plain.ipynb"
    try:
        deadline = time.monotonic() + 120
        while "Kernel pool of t2_plain.ipynb is filled" not in server.log() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert "is filled" in server.log()

        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(lambda _: support.get(url, timeout=180), range(4)))
        assert [status for status, _ in results] == [200] * 4, [b[-300:] for _, b in results]
        assert all(WIDGET_VIEW in body for _, body in results), "a page stalled before its widget output"
        assert len(re.findall("Using pre-heated kernel", server.log())) >= 1

        status, body = support.get(url)
        assert status == 503
        assert "服务器繁忙" in body and "Traceback" not in body

        deadline = time.monotonic() + 150
        while status != 200 and time.monotonic() < deadline:
            time.sleep(2)
            status, body = support.get(url, timeout=180)
        assert status == 200, "culling never freed a kernel"
        assert "Culling kernel" in server.log() or "culling" in server.log().lower()
    finally:
        server.stop()
