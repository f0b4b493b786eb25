"""Code that runs INSIDE the sandbox (passed to the sandbox's Python with `-c`, never imported there,
so no file of ours lands on a kernel's sys.path).

    python -s -c <this file> kernel REQUEST_JSON      a cold kernel (bubblewrap made its namespaces)
    python -s -c <this file> zygote PRELOAD           the kernel template (see zygote.py)

A cold kernel sets its limits (inside its user namespace: see limits.py) and becomes ipykernel.

The zygote imports ipykernel and the `PRELOAD` modules once, then only forks. Each fork makes a
sandbox of its own inside the zygote's before anything of a trainee runs: new user, mount, pid,
ipc, uts and network namespaces; its own folder bound at /sandbox/work, /sandbox/home and
/sandbox/run and the spool of every kernel's folder covered by an empty read-only tmpfs; fresh /tmp
and /dev/shm; then (as pid 1 of its pid namespace) a fresh /proc, no capabilities, no new
privileges, hard limits, a clean environment, re-seeded random generators — and only then ipykernel.
The mounts are made in a user namespace the kernel leaves, so they are locked: trainee code can
neither unmount the cover nor see past it. Trainee code never runs in the zygote; whatever a kernel
changes dies with it.

Protocol (zygote): one JSON line per request on stdin, one JSON line per answer on stdout:
{"ready": [preloaded modules]} first, then {"pid": intermediate, "kernel": kernel} per fork (pids
as the zygote sees them).
"""
import ctypes
import json
import os
import resource
import signal
import sys

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 8, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT = 1, 24, 38, 47

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result, what):
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, "%s: %s" % (what, os.strerror(errno)))


def _mount(source, target, fstype, flags, data=None):
    _check(_libc.mount(source and source.encode(), target.encode(), fstype and fstype.encode(), flags,
                       data and data.encode()), "mount " + target)


def apply_limits(limits):
    for name, value in limits.items():
        resource.setrlimit(getattr(resource, name), (value, value))


def drop_capabilities():
    _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    _libc.prctl(PR_CAP_AMBIENT, 4, 0, 0, 0)  # PR_CAP_AMBIENT_CLEAR_ALL
    for cap in range(64):
        if _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            break

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    _check(_libc.capset(ctypes.byref(Header(0x20080522, 0)), (Data * 2)()), "capset")


def redirect_output(log_path):
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)


def settle(request):
    """The last steps before ipykernel, common to cold and forked kernels."""
    os.chdir("/sandbox/work")
    os.umask(0o077)
    os.environ.clear()
    os.environ.update(request["env"])
    apply_limits(request["limits"])
    import random
    import tempfile

    random.seed()
    tempfile.tempdir = None
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    sys.argv = ["ipykernel_launcher", "-f", "/sandbox/run/kernel.json"]


def isolate_fork(request):
    """In a child of the zygote: a sandbox of its own (see the module docstring)."""
    uid, gid = os.geteuid(), os.getegid()
    _check(_libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC
                         | CLONE_NEWUTS), "unshare")
    with open("/proc/self/setgroups", "w") as handle:
        handle.write("deny")
    with open("/proc/self/uid_map", "w") as handle:
        handle.write("%d %d 1" % (uid, uid))
    with open("/proc/self/gid_map", "w") as handle:
        handle.write("%d %d 1" % (gid, gid))
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    mine = "/sandbox/spool/" + request["name"]
    for part in ("work", "home", "run"):
        _mount(mine + "/" + part, "/sandbox/" + part, None, MS_BIND | MS_REC)
    _mount("tmpfs", "/sandbox/spool", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, "size=4k,mode=0555")
    size = "size=%d,mode=1777" % request["tmpfs_bytes"]
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, size)
    if os.path.isdir("/dev/shm"):
        _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, size)


def kernel_in_fork(request):
    """pid 1 of the fork's pid namespace."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # the intermediate gone: so is the kernel
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    drop_capabilities()
    os.setsid()
    settle(request)
    import ipykernel.kernelapp

    ipykernel.kernelapp.IPKernelApp.launch_instance()


def fork_kernel(request, answer_fd):
    """Runs in the intermediate process (a child of the zygote); never returns."""
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # the zygote gone: so is this
        # nothing of the zygote's reaches the kernel: not its request pipe, not its answer pipe
        os.closerange(3, answer_fd)
        os.closerange(answer_fd + 1, 65536)
        redirect_output("/sandbox/spool/%s/run/kernel.log" % request["name"])
        isolate_fork(request)
        pid = os.fork()
        if pid == 0:
            try:
                os.close(answer_fd)
                kernel_in_fork(request)
            except BaseException as error:  # noqa: BLE001 - reported in the kernel log
                os.write(2, ("sandbox kernel failed: %r\n" % (error,)).encode())
            finally:
                os._exit(70)
        os.write(answer_fd, (json.dumps({"kernel": pid}) + "\n").encode())
        os.close(answer_fd)
        os.closerange(3, 65536)
        while True:
            try:
                _, status = os.waitpid(pid, 0)
                break
            except InterruptedError:
                continue
            except KeyboardInterrupt:
                continue
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    except BaseException as error:  # noqa: BLE001
        try:
            os.write(2, ("sandbox fork failed: %r\n" % (error,)).encode())
            os.write(answer_fd, (json.dumps({"error": repr(error)}) + "\n").encode())
        finally:
            os._exit(71)


def zygote(preload):
    import ipykernel.kernelapp  # noqa: F401

    # what IPKernelApp.initialize imports in every kernel (debugpy alone is ~0.4 s)
    for name in ("ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.debugger", "ipykernel.comm",
                 "IPython.core.completer"):
        try:
            __import__(name)
        except Exception:
            pass
    loaded = []
    for name in preload:
        try:
            __import__(name)
            loaded.append(name)
        except Exception:
            pass

    def reap(*_):
        while True:
            try:
                pid, _status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return

    signal.signal(signal.SIGCHLD, reap)
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    answers.write(json.dumps({"ready": loaded}) + "\n")
    answers.flush()
    for line in sys.stdin:
        request = json.loads(line)
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            fork_kernel(request, write_end)
        os.close(write_end)
        with os.fdopen(read_end) as reader:
            reply = reader.readline()
        answer = json.loads(reply) if reply else {"error": "fork exited early"}
        answer["pid"] = pid
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


def cold_kernel(request):
    # the log again, by its inside path: the descriptors bubblewrap got name the host's folders
    redirect_output("/sandbox/run/kernel.log")
    os.closerange(3, 65536)
    settle(request)
    import runpy

    runpy.run_module("ipykernel_launcher", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    if sys.argv[1] == "zygote":
        zygote([name for name in sys.argv[2].split(",") if name])
    else:
        cold_kernel(json.loads(sys.argv[2]))
