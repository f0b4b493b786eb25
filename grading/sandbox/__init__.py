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

Every autograde path uses it: `dangxiao autograde` (grading/autograde/run.py), and — because the
course's nbgrader_config.py merges `sandboxed_autograde_config()` — plain `nbgrader autograde` and
the formgrader's Autograde button (`NbGraderAPI.autograde`). Root or not, the same sandbox.

威胁模型 / threat model
-----------------------
Defended (as root and as an ordinary account, tested by tests/autograde/test_hostile.py):

* reading the course — solutions and hidden tests in `source/`, `release/`, other submissions,
  `autograded/`, the gradebook, `nbgrader_config.py` — by absolute path, `..` or `/proc/*/root`:
  none of it is mounted. The working copy holds the submission's regular non-notebook files; the
  notebook, with hidden tests, never enters the sandbox: cells go to the kernel over the Jupyter
  protocol. The grader's home, `/root`, `/home`, `/srv`, `/var`, `/run` are not mounted either;
* writing anything of the course, or anything at all outside /sandbox and the private /tmp;
* network: a network namespace with only its own loopback (no TCP to the host's 127.0.0.1);
* other processes: a pid namespace per kernel (`/proc` shows the sandbox only); no signal, ptrace
  or /proc access to the grader or to another trainee's kernel;
* endless loops (per-cell timeout, interrupt), loops ignoring SIGINT (killed after a grace period),
  a per-notebook cap, fork bombs (RLIMIT_NPROC inside the kernel's user namespace), memory hogs
  (RLIMIT_AS), big files (RLIMIT_FSIZE, tmpfs sizes), huge output (cut as it arrives), detached and
  double-forked processes (gone with the pid namespace), crashes;
* one trainee's kernel affecting the next: each kernel is a fresh fork of a template no trainee
  code ran in, in namespaces of its own;
* hidden-test source in outputs (tracebacks, hooks printing later cells): `RedactHiddenTests`;
* a symlink in a submission (nbgrader would copy its target with the grader's rights): rejected;
* a configuration naming another Execute, an ExecutePreprocessor, a kernel manager class or a
  kernelspec provisioner: wrapped or refused (`sandboxed`, `SandboxedExecute`, `SandboxKernelManager`).

Not defended:

* code in the same interpreter as the tests can subvert them (monkeypatch builtins, IPython hooks
  rewriting later cells): a reviewer sees such code in the submission; stock nbgrader is the same;
* reading what is mounted read-only: the system, the interpreter and site-packages, and the
  dangxiao packages the course notebooks import (`dangxiao/`, `grading/`, `widgets/`,
  `datasets/` of the checkout), except the question bank (`datasets/questions`, the key of every test
  paper), which is covered by an empty folder (`layout.hidden_paths`);
* non-notebook files nbgrader copies from `source/<assignment>/` into the graded copy (as stock
  nbgrader does): they reach the working copy; keep hidden test data out of `source/`'s plain files;
* kernel exploits: no seccomp filter beyond bubblewrap's defaults; the kernel's attack surface is
  that of unprivileged user namespaces;
* memory of the whole sandbox beyond RLIMIT_AS per process (no cgroup without systemd): a fork
  bomb of 64 processes of 2 GB address space each; the tmpfs mounts count against RAM;
* when run with `--no-sandbox`: nothing (the summary, log and CSV say so on every row).
"""
from .host import SandboxUnavailable, check_sandbox
from .limits import SandboxLimits
from .lock import course_lock

__all__ = ["SandboxLimits", "SandboxUnavailable", "check_sandbox", "course_lock"]
