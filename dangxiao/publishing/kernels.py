"""A kernel manager with a hard cap on live kernels (Voila has none, voila #617).

Voila wraps `VoilaConfiguration.multi_kernel_manager_class` into its pooling `VoilaKernelManager`, whose
pool fills call `super().start_kernel`, so the cap below counts pooled and on-demand kernels alike: the
cap bounds the memory of the whole server (memory per kernel × cap).
"""
from __future__ import annotations

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager

from dangxiao.publishing.ownership import KernelOwners, page_owner
from tornado.web import HTTPError
from traitlets import Integer

__all__ = ["CappedKernelManager", "KernelLimitReached"]


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

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Kernels whose start has begun but which are not yet in `self._kernels`: counting them closes
        # the race where a burst of requests all see room before any kernel is registered.
        self._starting = 0
        self.owners = KernelOwners()

    @property
    def live_kernel_count(self) -> int:
        return len(self._kernels) + self._starting

    def has_room(self) -> bool:
        return self.max_kernels <= 0 or self.live_kernel_count < self.max_kernels

    async def start_kernel(self, *args, kernel_id: str | None = None, **kwargs) -> str:
        if kernel_id is not None and kernel_id in self:
            return await super().start_kernel(*args, kernel_id=kernel_id, **kwargs)
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
