"""One test per assumption about a library's internals (dangxiao.grading.compat), and the publish
step's atomic exchange and recovery."""
from __future__ import annotations

import importlib.metadata
import inspect
import os

from packaging.version import Version

from dangxiao.grading import compat
from dangxiao.grading.autograde.publish import STAGING_DIR, exchange, publish, recover


def test_installed_versions_are_within_the_declared_bounds():
    for name, (low, high) in compat.VERSION_BOUNDS.items():
        version = Version(importlib.metadata.version(name.replace("_", "-")))
        assert Version(low) <= version < Version(high), (name, version)


def test_nbgrader_autograde_still_wraps_its_passes_in_setenv():
    """The reason for `autograde_two_passes`: if nbgrader stops using setenv, the bypass can go."""
    from nbgrader.converters import Autograde
    from nbgrader.converters.base import BaseConverter

    source = inspect.getsource(Autograde.convert_single_notebook)
    assert "setenv" in source and "_sanitizing" in source and "_init_preprocessors" in source
    assert list(inspect.signature(BaseConverter.convert_single_notebook).parameters) == ["self", "notebook_filename"]
    assert callable(Autograde._init_preprocessors)


def test_gradebook_engines_come_from_nbgrader_api_create_engine(tmp_path):
    import nbgrader.api as nbgrader_api
    from nbgrader.api import Gradebook

    assert "create_engine(" in inspect.getsource(Gradebook.__init__)
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    original = nbgrader_api.create_engine
    with compat.shared_gradebook_engines():
        assert nbgrader_api.create_engine is not original  # swapped for the run
        with Gradebook(url) as one, Gradebook(url) as two:
            assert one.db.get_bind() is two.db.get_bind()
    assert nbgrader_api.create_engine is original
    with Gradebook(url) as one, Gradebook(url) as two:
        assert one.db.get_bind() is not two.db.get_bind()


def test_publish_swaps_in_one_step_and_recover_puts_back_a_retired_result(tmp_path):
    final, staged = tmp_path / "autograded" / "s1" / "a1", tmp_path / STAGING_DIR / "run1" / "s1" / "a1"
    for folder, text in ((final, "old"), (staged, "new")):
        folder.mkdir(parents=True)
        (folder / "result.txt").write_text(text)
    assert exchange(staged, final)  # Linux ≥ 3.15: one atomic step
    assert (final / "result.txt").read_text() == "new" and (staged / "result.txt").read_text() == "old"
    publish(staged, final, tmp_path / "unused")  # swapping back and deleting the swapped-out one
    assert (final / "result.txt").read_text() == "old" and not staged.exists()
    # a run killed between the two renames of the fallback: the result is in its .retired folder
    retired = tmp_path / STAGING_DIR / "run2" / ".retired" / "s2" / "a1"
    retired.mkdir(parents=True)
    (retired / "result.txt").write_text("earlier")
    restored = recover(tmp_path, lambda student, assignment: tmp_path / "autograded" / student / assignment)
    assert restored == [tmp_path / "autograded" / "s2" / "a1"]
    assert (tmp_path / "autograded" / "s2" / "a1" / "result.txt").read_text() == "earlier"
    assert not (tmp_path / STAGING_DIR).exists()
    assert sorted(os.listdir(tmp_path / "autograded")) == ["s1", "s2"]


def test_kernel_client_readiness_is_the_private_coroutine_we_replace():
    from jupyter_client.asynchronous import AsyncKernelClient

    from dangxiao.grading.sandbox.manager import SandboxKernelManager

    assert AsyncKernelClient.wait_for_ready is AsyncKernelClient._async_wait_for_ready
    source = inspect.getsource(AsyncKernelClient._async_wait_for_ready)
    assert "kernel_info_reply" in source and "iopub_channel.get_msg" in source and "_handle_kernel_info_reply" in source
    assert SandboxKernelManager().client_factory is compat.QuickReadyKernelClient


def test_no_import_cycles_in_grading():
    """Modules of dangxiao.grading import each other in one direction only (sandbox < autograde)."""
    import ast
    from pathlib import Path

    import dangxiao.grading as grading

    root = Path(grading.__file__).parent
    modules = {}
    for path in root.rglob("*.py"):
        name = ".".join(("dangxiao.grading", *path.relative_to(root).with_suffix("").parts)).removesuffix(".__init__")
        modules[name] = path
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    target = f"{base}.{node.module}" if node.module else base
                else:
                    target = node.module or ""
                candidates = [target] + [f"{target}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            else:
                continue
            graph[name].update(c for c in candidates if c in modules and c != name)
    # a package's __init__ importing its own submodules is not a cycle of design
    def submodule(a, b):
        return modules[a].name == "__init__.py" and b.startswith(a + ".")
    state: dict[str, int] = {}

    def visit(node, trail):
        state[node] = 1
        for nxt in graph[node]:
            if submodule(node, nxt):
                continue
            if state.get(nxt) == 1:
                raise AssertionError(" → ".join(trail + [node, nxt]))
            if nxt not in state:
                visit(nxt, trail + [node])
        state[node] = 2

    for name in graph:
        if name not in state:
            visit(name, [])
    assert not any(n.startswith("dangxiao.grading.autograde") for n in set().union(
        *(graph[m] for m in graph if m.startswith("dangxiao.grading.sandbox"))))
