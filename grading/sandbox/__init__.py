"""Trainee code in a sandbox: bubblewrap through a jupyter_client kernel provisioner.

- `limits`: `SandboxLimits`, the rlimits every kernel gets;
- `layout`: what a sandbox mounts (and what it does not);
- `workspace`: the host folders of sandboxes, outside the course;
- `inside`: the code that runs inside (cold kernel, zygote and its forks);
- `zygote`: the pre-imported kernel template, host side;
- `host`: the check that sandboxes work here, the sandbox account when root, one per process;
- `provisioner`: `BubblewrapProvisioner` (entry point `dangxiao-bubblewrap`);
- `manager`: `SandboxKernelManager`, which gives every kernel that provisioner;
- `lock`: one grading run per course at a time.
"""
from .host import SandboxUnavailable, check_sandbox
from .limits import SandboxLimits
from .lock import course_lock

__all__ = ["SandboxLimits", "SandboxUnavailable", "check_sandbox", "course_lock"]
