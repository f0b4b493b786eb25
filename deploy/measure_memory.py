"""Measure what one person costs in memory, for the sizing table in deploy/README.md.

    .venv/bin/python deploy/measure_memory.py [LESSON.ipynb ...]

* a lesson kernel: the lesson executed in a fresh kernel (nbclient), then the kernel process's RSS
  and USS (memory only it holds) read with psutil — what one open lesson or assignment costs;
* an idle single-user server: `jupyter lab` started on a free loopback port, RSS/USS once it answers
  — what every logged-in person costs before opening anything.

Run it on the machine you are sizing, with nothing else busy; figures are per process, in MB.
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
DEFAULT_LESSONS = ["m3_06_compare.ipynb", "m4_01_hotline.ipynb", "m1_01_leadership.ipynb"]
MB = 1024 * 1024


def kernel_memory(notebook: Path) -> tuple[float, float]:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(notebook.parent)}})
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        process = psutil.Process(client.km.provisioner.process.pid)
        info = process.memory_full_info()
        return info.rss / MB, info.uss / MB


def server_memory() -> tuple[float, float]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, HOME=home, JUPYTER_CONFIG_DIR=os.path.join(home, ".jupyter"))
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "jupyter-lab"), "--no-browser", "--allow-root", f"--port={port}", "--ip=127.0.0.1",
             "--IdentityProvider.token=measure", f"--ServerApp.root_dir={home}"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                if server.poll() is not None:
                    raise RuntimeError(f"jupyter lab exited with {server.returncode}")
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token=measure", timeout=5)
                    break
                except OSError:
                    time.sleep(0.5)
            time.sleep(2)  # let extensions finish loading
            info = psutil.Process(server.pid).memory_full_info()
            return info.rss / MB, info.uss / MB
        finally:
            server.terminate()
            server.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", default=DEFAULT_LESSONS, help="lesson notebooks (in courses/)")
    args = parser.parse_args(argv)
    print(f"{'进程 / process':<44}{'RSS MB':>9}{'USS MB':>9}")
    rss, uss = server_memory()
    print(f"{'idle single-user server (jupyter lab)':<44}{rss:>9.0f}{uss:>9.0f}")
    for name in args.lessons:
        path = Path(name) if Path(name).is_file() else REPO / "courses" / name
        rss, uss = kernel_memory(path)
        print(f"{'kernel after ' + path.name:<44}{rss:>9.0f}{uss:>9.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
