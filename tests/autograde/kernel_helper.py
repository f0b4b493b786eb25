"""Run code in one sandboxed kernel and return its output: `run_code` (async) for test_sandbox, and
`run_in_kernel` for tests that run as another account, in a process of its own.

    from kernel_helper import run_in_kernel; run_in_kernel("print(1)", fork=True)
"""
import asyncio
import tempfile

from traitlets.config import Config

from dangxiao.grading.sandbox.host import SandboxHost
from dangxiao.grading.sandbox.manager import SandboxKernelManager
from dangxiao.grading.sandbox.provisioner import BubblewrapProvisioner


async def run_code(code: str, cwd, config: Config, iopub_timeout: float = 120) -> str:
    """The stream output (and tracebacks) of `code` run in a new sandboxed kernel started in `cwd`."""
    km = SandboxKernelManager(kernel_name="python3", config=config)
    await km.start_kernel(cwd=str(cwd))
    assert isinstance(km.provisioner, BubblewrapProvisioner)
    kc = km.client()
    kc.start_channels()
    try:
        await kc.wait_for_ready(timeout=120)
        msg_id = kc.execute(code)
        out = []
        while True:
            msg = await kc.get_iopub_msg(timeout=iopub_timeout)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                out.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                out.append("\n".join(msg["content"]["traceback"]))
            elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return "".join(out)
    finally:
        kc.stop_channels()
        await km.shutdown_kernel(now=True)


def run_in_kernel(code: str, fork: bool = True) -> str:
    config = Config()
    config.BubblewrapProvisioner.fork_kernels = fork
    with tempfile.TemporaryDirectory() as cwd:
        try:
            return asyncio.run(run_code(code, cwd, config))
        finally:
            SandboxHost.close_all()
