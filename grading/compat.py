"""Every use of a library's internals in `dangxiao.grading`, in one place, with the versions it was
checked against (pyproject.toml bounds the same versions; tests/autograde/test_compat.py holds one
test per assumption, so an upgrade that breaks one fails there, not in the middle of a grading run).

* nbgrader >=0.9.6,<0.10
  - `Autograde.convert_single_notebook` wraps its two passes in `utils.setenv(NBGRADER_EXECUTION=…)`,
    which deletes the variable on exit and races between threads (KeyError); `autograde_two_passes`
    runs the same two passes through `Autograde._sanitizing` / `_init_preprocessors` and
    `BaseConverter.convert_single_notebook`, and sandboxed kernels get the variable in their own
    environment.
  - `nbgrader.api.create_engine` is the name `Gradebook.__init__` calls: `shared_gradebook_engines`
    swaps it for one engine per database while a run lasts (nbgrader has no hook; about nine
    Gradebook objects per submission each compiled every query again — the largest CPU item of
    the grading process in a profile).
* jupyter_client >=8.6,<9
  - `AsyncKernelClient._async_wait_for_ready` (bound as `wait_for_ready`) asks "are you ready?"
    with a 1 s wait, then needs 0.2 s of IOPub silence: ~0.25–0.4 s per forked kernel, which is up
    in 0.05 s (measured: a third of a small submission's time). `QuickReadyKernelClient` does the
    same checks (a kernel_info reply on shell, then a message on IOPub, which proves the
    subscription is live) polling from 50 ms, and flushes IOPub with a 10 ms wait.
Otherwise the kernel side uses public API only: the provisioner (`LocalProvisioner`,
`KernelProvisionerFactory` via the kernelspec's `metadata.kernel_provisioner`, a provisioner's
returned connection info), nbclient's `timeout_func`, `async_execute_cell`,
`async_start_new_kernel`, `output`, and `kernel_manager_class` / `client_class`.
"""
from __future__ import annotations

import contextlib
import threading
import time
from queue import Empty
from typing import Iterator

from jupyter_client.asynchronous import AsyncKernelClient

__all__ = ["VERSION_BOUNDS", "autograde_two_passes", "shared_gradebook_engines", "QuickReadyKernelClient"]

VERSION_BOUNDS = {
    "nbgrader": ("0.9.6", "0.10"),
    "nbclient": ("0.11", "0.12"),
    "jupyter_client": ("8.6", "9"),
}


def autograde_two_passes(converter, notebook_filename: str) -> None:
    """Autograde's sanitize pass, then its execute-and-save pass, without `utils.setenv`."""
    import os

    from nbgrader.converters.base import BaseConverter

    converter.log.info("Sanitizing %s", notebook_filename)
    converter._sanitizing = True
    converter._init_preprocessors()
    BaseConverter.convert_single_notebook(converter, notebook_filename)
    notebook_filename = os.path.join(converter.writer.build_directory, os.path.basename(notebook_filename))
    converter.log.info("Autograding %s", notebook_filename)
    converter._sanitizing = False
    converter._init_preprocessors()
    try:
        BaseConverter.convert_single_notebook(converter, notebook_filename)
    finally:
        converter._sanitizing = True


@contextlib.contextmanager
def shared_gradebook_engines() -> Iterator[None]:
    """One SQLAlchemy engine per database while grading, instead of one per `Gradebook(...)`.
    Same SQL, same rows; engines are thread-safe, each Gradebook keeps its own session."""
    import nbgrader.api as nbgrader_api

    original = nbgrader_api.create_engine
    engines: dict = {}
    lock = threading.Lock()

    def create_shared_engine(url, **kwargs):
        key = (str(url), tuple(sorted(kwargs.items())))
        with lock:
            if key not in engines:
                engines[key] = original(url, **kwargs)
            return engines[key]

    nbgrader_api.create_engine = create_shared_engine
    try:
        yield
    finally:
        nbgrader_api.create_engine = original
        for engine in engines.values():
            engine.dispose()


class QuickReadyKernelClient(AsyncKernelClient):
    """AsyncKernelClient whose readiness check polls from 50 ms (see the module docstring)."""

    async def _async_wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (timeout if timeout is not None else float("inf"))
        poll = 0.05
        while True:
            self.kernel_info()
            try:
                msg = await self.shell_channel.get_msg(timeout=poll)
            except Empty:
                pass
            else:
                if msg["msg_type"] == "kernel_info_reply":
                    try:
                        await self.iopub_channel.get_msg(timeout=max(poll, 0.05))
                    except Empty:
                        pass
                    else:
                        self._handle_kernel_info_reply(msg)
                        break
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")
            poll = min(poll * 1.5, 1.0)
        while True:  # flush IOPub, as jupyter_client does
            try:
                await self.iopub_channel.get_msg(timeout=0.01)
            except Empty:
                break

    wait_for_ready = _async_wait_for_ready
