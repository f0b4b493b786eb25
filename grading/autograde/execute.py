"""`SandboxedExecute`: nbgrader's Execute with the kernel in the bubblewrap sandbox, a whole-notebook
time cap, an output cap, and a kernel that does not answer an interrupt treated as failed.

Public seams only: the kernel manager class (`SandboxKernelManager`, which gives every kernel the
`dangxiao-bubblewrap` provisioner), nbclient's `timeout_func` (per cell: the smaller of the cell
limit and what is left of the notebook's), `async_execute_cell`, `async_start_new_kernel` and
`output` (NotebookClient methods). Used by `dangxiao autograde` and — through the course's
nbgrader_config.py (`sandboxed_autograde_config`) — by `nbgrader autograde` and the formgrader.

`sandbox = False` (`dangxiao autograde --no-sandbox`) runs stock kernels; every note then says so.
"""
from __future__ import annotations

import math
import time

import nbformat
from jupyter_core.utils import run_sync
from jupyter_client.manager import AsyncKernelManager
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer, TraitError, validate

from ..sandbox.manager import SandboxKernelManager
from ..sandbox.provisioner import BubblewrapProvisioner
from .errors import KernelUnresponsive, NotebookTimeout
from .state import lookup

__all__ = ["SandboxedExecute", "UNCONFINED_NOTE"]

UNCONFINED_NOTE = "警告：未隔离运行学员代码（--no-sandbox）/ WARNING: trainee code ran UNCONFINED (--no-sandbox)"


class SandboxedExecute(Execute):
    """nbgrader's Execute, kernel in the sandbox (see the module docstring)."""

    sandbox = Bool(True, help="在 bubblewrap 沙箱中运行内核；False 即 --no-sandbox（不隔离，仅限可信代码）"
                   " / run kernels in the sandbox; False only for trusted code").tag(config=True)

    total_timeout = Integer(
        300,
        help="整本 notebook 的运行时间上限（秒）/ wall-clock cap for the whole notebook, in seconds; "
        "the per-cell limit is `Execute.timeout`",
    ).tag(config=True)

    max_output_bytes = Integer(
        1_000_000,
        help="单个单元格输出上限（字节），超出部分在产生时丢弃 / per-cell output cap in bytes; "
        "output beyond it is dropped as it arrives",
    ).tag(config=True)

    interrupt_grace = Integer(
        5, help="超时中断后等内核恢复响应的秒数 / seconds a kernel gets to answer after an interrupt").tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs["kernel_manager_class"] = SandboxKernelManager
        super().__init__(*args, **kwargs)
        if not self.sandbox:
            self.sandbox_off = True
            self.kernel_manager_class = AsyncKernelManager
        self.shutdown_kernel = "immediate"  # the sandbox is killed anyway: no graceful wait
        self.timeout_func = self._cell_timeout

    sandbox_off = False

    @validate("kernel_manager_class")
    def _only_sandboxed_kernels(self, proposal):
        value = proposal["value"]
        if isinstance(value, str):
            from traitlets import import_item

            value = import_item(value)
        if not issubclass(value, SandboxKernelManager) and not self.sandbox_off:
            raise TraitError(f"SandboxedExecute 只用沙箱内核 / sandboxed kernels only, not {value!r}")
        return value

    # notes go to the dangxiao run's summary, or to nbgrader's log
    def _note(self, text: str) -> None:
        state = lookup(self._resources)
        if state is not None:
            state.notes.append(text)
        self.log.warning(text)

    def preprocess(self, nb, resources=None, km=None):
        self._resources = resources or {}
        self._notebook_name = (resources or {}).get("nbgrader", {}).get("notebook", "notebook") + ".ipynb"
        self._deadline = time.monotonic() + self.total_timeout
        self._output_bytes: dict[int, int] = {}
        self._truncated: set[int] = set()
        self._cell_limits: dict[int, int] = {}
        self._provisioner = None
        if self.sandbox_off:
            self._note(f"{self._notebook_name}: {UNCONFINED_NOTE}")
        try:
            return super().preprocess(nb, resources, km)
        finally:
            stray = getattr(self._provisioner, "stray_processes", 0)
            if stray:
                self._note(f"{self._notebook_name}: 学员代码留下的 {stray} 个进程已随沙箱结束"
                           f" / {stray} processes left by trainee code were killed with the sandbox")

    def _cell_timeout(self, cell) -> int:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise NotebookTimeout(f"整本运行超过 {self.total_timeout} 秒上限 / notebook exceeded {self.total_timeout}s")
        per_cell = self.timeout if self.timeout and self.timeout > 0 else None
        limit = remaining if per_cell is None else min(per_cell, remaining)
        return max(1, math.ceil(limit))

    async def async_start_new_kernel(self, **kwargs):
        started = time.monotonic()
        await super().async_start_new_kernel(**kwargs)
        if not self.sandbox_off and not isinstance(self.km.provisioner, BubblewrapProvisioner):
            raise RuntimeError(f"内核未进入沙箱 / kernel is not sandboxed: {type(self.km.provisioner).__name__}")
        self._provisioner = self.km.provisioner
        self.log.info("kernel started in %.2fs", time.monotonic() - started)

    async def async_start_new_kernel_client(self):
        started = time.monotonic()
        try:
            return await super().async_start_new_kernel_client()
        finally:
            self.log.info("kernel client ready in %.2fs", time.monotonic() - started)

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        started = time.monotonic()
        result = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        errors = {output.get("ename") for output in cell.get("outputs", []) if output.get("output_type") == "error"}
        timed_out = self.error_on_timeout["ename"] in errors
        if "MemoryError" in errors:
            self._note(f"{self._notebook_name}: 第 {cell_index + 1} 个单元格超出内存上限 / memory limit reached")
        if timed_out:
            self._note(f"{self._notebook_name}: 第 {cell_index + 1} 个单元格超时（{time.monotonic() - started:.0f} 秒）"
                       f"已中断 / cell timed out and was interrupted")
            await self._check_responsive()
        self.log.info("cell %d ran in %.2fs", cell_index, time.monotonic() - started)
        return result

    # nbclient's sync entry points (used by nbconvert's ExecutePreprocessor) are bound to its own
    # coroutines when the class is made: bind them to these
    start_new_kernel = run_sync(async_start_new_kernel)
    start_new_kernel_client = run_sync(async_start_new_kernel_client)
    execute_cell = run_sync(async_execute_cell)

    async def _check_responsive(self) -> None:
        """After an interrupt: an empty request must be answered within the grace period, else the
        code ignores SIGINT and every later cell would only wait out its own timeout."""
        grace = min(self.interrupt_grace, max(1.0, self._deadline - time.monotonic()))
        msg_id = self.kc.execute("", silent=True, store_history=False)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            try:
                reply = await self.kc.get_shell_msg(timeout=max(0.05, deadline - time.monotonic()))
            except Exception:  # queue.Empty: no answer in time
                break
            if reply.get("parent_header", {}).get("msg_id") == msg_id:
                return
        raise KernelUnresponsive("单元格超时且无法中断（代码可能屏蔽了 SIGINT），内核已强制结束"
                                 " / cell timed out and the kernel ignored the interrupt: killed")

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        size = len(str(content.get("text", ""))) + sum(len(str(v)) for v in content.get("data", {}).values())
        used = self._output_bytes.get(cell_index, 0) + size
        self._output_bytes[cell_index] = used
        if used > self.max_output_bytes:
            if cell_index not in self._truncated:
                self._truncated.add(cell_index)
                self._note(f"{self._notebook_name}: 第 {cell_index + 1} 个单元格输出过长已截断 / output truncated")
                outs.append(nbformat.v4.new_output(
                    "stream", name="stderr",
                    text=f"\n…… 输出超过 {self.max_output_bytes} 字节，其余已截断 / output truncated ……\n"))
            return None
        return super().output(outs, msg, display_id, cell_index)

    def kernel_log_tail(self) -> str:
        km = getattr(self, "km", None)
        return km.sandbox_log_tail if isinstance(km, SandboxKernelManager) else ""
