"""`SandboxKernelManager`: jupyter_client's AsyncKernelManager whose every kernel gets the sandbox
provisioner, whatever its kernelspec says.

jupyter_client picks a kernel's provisioner from the kernelspec's `metadata.kernel_provisioner`
(`KernelProvisionerFactory`); this manager hands it a copy of the spec naming
`dangxiao-bubblewrap`, so the provisioner is found through its entry point like any other, and a
spec naming another provisioner cannot take the kernel out of the sandbox. IPC transport: the
kernel has no network.
"""
from __future__ import annotations

import copy

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager, KernelManager
from traitlets import DottedObjectName, Type

from ..compat import QuickReadyKernelClient

from .provisioner import PROVISIONER_NAME, BubblewrapProvisioner

__all__ = ["SandboxKernelManager"]


class SandboxKernelManager(AsyncKernelManager):
    """AsyncKernelManager; kernels start through `BubblewrapProvisioner` only."""

    client_class = DottedObjectName("dangxiao.grading.compat.QuickReadyKernelClient")
    client_factory = Type(QuickReadyKernelClient, klass=AsyncKernelClient)

    def __init__(self, **kwargs):
        kwargs.setdefault("transport", "ipc")
        super().__init__(**kwargs)

    @property
    def kernel_spec(self):
        spec = KernelManager.kernel_spec.fget(self)
        if spec is None:
            return None
        stanza = spec.metadata.get("kernel_provisioner", {})
        if stanza.get("provisioner_name") != PROVISIONER_NAME:
            spec = copy.copy(spec)
            spec.metadata = {**spec.metadata, "kernel_provisioner": {"provisioner_name": PROVISIONER_NAME,
                                                                     "config": {}}}
            self._kernel_spec = spec
        return spec

    @property
    def sandbox_log_tail(self) -> str:
        provisioner = self.provisioner
        return provisioner.kernel_log_tail() if isinstance(provisioner, BubblewrapProvisioner) else ""
