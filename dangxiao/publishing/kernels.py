"""A kernel manager with a hard cap on live kernels (Voila has none, voila #617), whose pool refills
wait while a class is opening lessons.

Voila wraps `VoilaConfiguration.multi_kernel_manager_class` into its pooling `VoilaKernelManager`, whose
pool fills call `super().start_kernel`, so the cap below counts pooled and on-demand kernels alike: the
cap bounds the memory of the whole server (memory per kernel × cap).

Refills. Every kernel taken from a pool is replaced `fill_delay` seconds later by a kernel start and a
pre-render of the lesson (~1 CPU-s each). When twenty trainees take a pool of twenty, stock Voila runs
twenty of those at once in the same seconds in which the trainees' browsers load the page and ask
their kernels for the widgets (benchmarks/lesson_pages.py `--burst`). Here a refill kernel (the
`VOILA_PREHEAT=True` start that `fill_if_needed` makes) waits until no lesson page has been requested
for `refill_quiet` seconds and none is being rendered, at most `refill_max_wait` seconds, and then
refills run `refill_concurrency` at a time, each holding its slot until its pre-render is done.

The first fill, before any lesson page was asked for, does not wait for quiet, but it too runs
`fill_concurrency` kernels at a time (default: one per CPU): stock Voila starts a pool of 60 all at
once, and on 2 busy cores their pre-renders ran past the 120 s cell time limit, so pooled pages ended
at the time-limit message before the lesson's quiz (benchmarks/lesson_pages.py, pool of 60).

Relies on Voila 0.5's `VoilaKernelManager._pools` (a list of tasks whose result holds the pre-render
`task` and `kernel_id`).
"""
from __future__ import annotations

import asyncio
import os
import time

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager

from dangxiao.publishing.ownership import KernelOwners, page_owner
from tornado.web import HTTPError
from traitlets import Float, Integer

__all__ = ["CappedKernelManager", "KernelLimitReached", "is_pool_refill"]


def is_pool_refill(start_kwargs: dict) -> bool:
    """Whether a `start_kernel` call is Voila filling a pool (its `fill_if_needed` sets VOILA_PREHEAT)."""
    return (start_kwargs.get("env") or {}).get("VOILA_PREHEAT") == "True"


class KernelLimitReached(HTTPError):
    """Raised instead of starting a kernel beyond the cap; the page shows a Chinese 503."""

    def __init__(self, limit: int):
        super().__init__(
            503,
            "kernel limit %d reached",
            limit,
            reason="Kernel limit reached",
        )
        self.limit = limit


class CappedKernelManager(AsyncMappingKernelManager):
    """`AsyncMappingKernelManager` that refuses to start more than `max_kernels` kernels."""

    max_kernels = Integer(
        0,
        help=(
            "同时运行的内核上限（含预热池），0 表示不限 / most kernels alive at once, pooled ones "
            "included; 0 means no limit. Size it as usable memory / memory per kernel."
        ),
    ).tag(config=True)

    refill_quiet = Float(
        3.0,
        help=(
            "预热池补充前需要的安静时间（秒）：这段时间内没有学员打开课程才开始补充；0 表示立即补充 / "
            "seconds without a lesson page request (and none rendering) before a pool refill starts; "
            "0 refills at once, as stock Voila does"
        ),
    ).tag(config=True)
    refill_max_wait = Float(
        120.0, help="补充最多推迟的秒数 / longest a refill is deferred, even while pages keep coming"
    ).tag(config=True)
    refill_concurrency = Integer(
        1, help="上课期间同时进行的补充数（启动 + 预渲染）/ refills (kernel start + pre-render) at a time "
        "once lesson pages are being served"
    ).tag(config=True)
    fill_concurrency = Integer(
        0, help="预热池同时启动并预渲染的内核数，0 为 CPU 核数 / pool kernels starting and pre-rendering at "
        "a time, the first fill included; 0 = one per CPU"
    ).tag(config=True)
    refill_render_timeout = Float(
        120.0, help="a refill's slot is released after this many seconds even if its pre-render hangs"
    ).tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Kernels whose start has begun but which are not yet in `self._kernels`: counting them closes
        # the race where a burst of requests all see room before any kernel is registered.
        self._starting = 0
        self.owners = KernelOwners()
        self._pages_in_flight = 0
        self._last_page: float | None = None  # monotonic time of the last lesson page start or end
        self._refill_slots = asyncio.Semaphore(max(1, self.refill_concurrency))
        self._fill_slots = asyncio.Semaphore(max(1, self.fill_concurrency or os.cpu_count() or 1))
        self.refills_deferred = 0  # how many refills had to wait (reported by the benchmark's log)

    # -- lesson page activity (LessonHandler) -------------------------------------------------------
    def page_started(self) -> None:
        self._pages_in_flight += 1
        self._last_page = time.monotonic()

    def page_finished(self) -> None:
        self._pages_in_flight = max(0, self._pages_in_flight - 1)
        self._last_page = time.monotonic()

    def _busy_for(self) -> float:
        """Seconds a refill should still wait now (0: go)."""
        if self.refill_quiet <= 0 or self._last_page is None:
            return 0.0
        if self._pages_in_flight:
            return min(self.refill_quiet, 0.5)
        return max(0.0, self.refill_quiet - (time.monotonic() - self._last_page))

    async def _wait_for_quiet(self) -> None:
        deadline = time.monotonic() + self.refill_max_wait
        wait = self._busy_for()
        if wait:
            self.refills_deferred += 1
            self.log.info("pool refill waits: %d lesson page(s) in flight, last page %.1f s ago",
                          self._pages_in_flight, time.monotonic() - self._last_page)
        while wait and time.monotonic() < deadline:
            await asyncio.sleep(min(wait, max(0.05, deadline - time.monotonic())))
            wait = self._busy_for()

    def _prerender_of(self, kernel_id: str):
        for pool in getattr(self, "_pools", {}).values():
            for entry in pool:
                if entry.done() and not entry.cancelled() and entry.exception() is None:
                    result = entry.result()
                    if result.get("kernel_id") == kernel_id:
                        return result.get("task")
        return None

    async def _release_after_prerender(self, kernel_id: str, slots: list[asyncio.Semaphore]) -> None:
        try:
            render = None
            for _ in range(100):  # Voila's _initialize puts the entry in the pool right after the start
                render = self._prerender_of(kernel_id)
                if render is not None:
                    break
                await asyncio.sleep(0.05)
            if render is not None:
                await asyncio.wait_for(asyncio.shield(render), self.refill_render_timeout)
        except Exception:  # noqa: BLE001 -- a failed or slow pre-render only frees the slot
            pass
        finally:
            for slot in slots:
                slot.release()

    @property
    def live_kernel_count(self) -> int:
        return len(self._kernels) + self._starting

    def has_room(self) -> bool:
        return self.max_kernels <= 0 or self.live_kernel_count < self.max_kernels

    async def start_kernel(self, *args, kernel_id: str | None = None, **kwargs) -> str:
        if kernel_id is not None and kernel_id in self:
            return await super().start_kernel(*args, kernel_id=kernel_id, **kwargs)
        if is_pool_refill(kwargs):
            # Class time (a lesson page was asked for): one refill at a time, after a quiet moment.
            slots = [self._refill_slots, self._fill_slots] if self._last_page is not None else [self._fill_slots]
            held = []
            try:
                for slot in slots:
                    await slot.acquire()
                    held.append(slot)
                if self._last_page is not None:
                    await self._wait_for_quiet()
                started = await self._start_capped(*args, kernel_id=kernel_id, **kwargs)
            except BaseException:
                for slot in held:
                    slot.release()
                raise
            asyncio.get_running_loop().create_task(self._release_after_prerender(started, held))
            return started
        return await self._start_capped(*args, kernel_id=kernel_id, **kwargs)

    async def _start_capped(self, *args, kernel_id: str | None = None, **kwargs) -> str:
        if not self.has_room():
            self.log.warning("kernel limit %d reached: refusing a new kernel", self.max_kernels)
            raise KernelLimitReached(self.max_kernels)
        self._starting += 1
        try:
            kernel_id = await super().start_kernel(*args, kernel_id=kernel_id, **kwargs)
        finally:
            self._starting -= 1
        # A kernel Voila starts for a page (not a pool refill, whose env says VOILA_PREHEAT=True) belongs
        # to the trainee whose request started it.
        owner = page_owner.get()
        if owner is not None and (kwargs.get("env") or {}).get("VOILA_PREHEAT") == "False":
            self.owners.assign(kernel_id, owner)
        return kernel_id

    def remove_kernel(self, kernel_id: str):
        self.owners.forget(kernel_id)
        return super().remove_kernel(kernel_id)
