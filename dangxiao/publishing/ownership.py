"""Which signed-in trainee, and which lesson, each lesson kernel belongs to.

A kernel is assigned when the lesson handler hands it to a page: a pre-rendered pool kernel by its id,
a kernel started for the request through `page_owner` (a context variable the kernel manager reads
for kernels Voila starts on demand, never for pool refills). The assignment is what the kernel
authorizer checks and what tells the record store whose events a kernel sends.
"""
from __future__ import annotations

import asyncio
from contextvars import ContextVar
from dataclasses import dataclass

__all__ = ["KernelAssignment", "KernelOwners", "page_owner"]


@dataclass(frozen=True)
class KernelAssignment:
    account_id: str
    lesson_id: str


# Set by the lesson handler around Voila's render; read by the kernel manager's start_kernel.
page_owner: ContextVar[KernelAssignment | None] = ContextVar("dangxiao_page_owner", default=None)


class KernelOwners:
    def __init__(self):
        self._assigned: dict[str, KernelAssignment] = {}
        self._waiting: dict[str, list[asyncio.Future]] = {}

    def assign(self, kernel_id: str, assignment: KernelAssignment) -> None:
        if kernel_id in self._assigned:
            return  # first owner keeps it
        self._assigned[kernel_id] = assignment
        for waiter in self._waiting.pop(kernel_id, []):
            if not waiter.done():
                waiter.set_result(assignment)

    def get(self, kernel_id: str) -> KernelAssignment | None:
        return self._assigned.get(kernel_id)

    def owner(self, kernel_id: str) -> str | None:
        assignment = self._assigned.get(kernel_id)
        return assignment.account_id if assignment else None

    async def wait(self, kernel_id: str, timeout: float) -> KernelAssignment | None:
        """The kernel's assignment, waiting up to `timeout` seconds for it (a pool kernel asks while it
        waits for a trainee)."""
        if kernel_id in self._assigned:
            return self._assigned[kernel_id]
        waiter = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(kernel_id, []).append(waiter)
        try:
            return await asyncio.wait_for(waiter, timeout)
        except asyncio.TimeoutError:
            return None
        finally:
            waiters = self._waiting.get(kernel_id, [])
            if waiter in waiters:
                waiters.remove(waiter)
            if not waiters:
                self._waiting.pop(kernel_id, None)

    def forget(self, kernel_id: str) -> None:
        self._assigned.pop(kernel_id, None)
        for waiter in self._waiting.pop(kernel_id, []):
            if not waiter.done():
                waiter.set_result(None)
