"""`dangxiao serve`'s settings and the Voila configuration built from them."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dangxiao.catalog import load_catalog
from dangxiao.errors import DangxiaoError
from dangxiao.publishing import ServeSettings, default_max_kernels, voila_config
from dangxiao.publishing.gallery import gallery_modules, lesson_url
from dangxiao.publishing.settings import KERNEL_MEMORY_MB, TEMPLATE_DATA_DIR


@pytest.fixture
def catalog(fixture_project):
    return load_catalog(fixture_project / "courses")


def test_config_hides_sources_and_tracebacks_and_pins_the_template(catalog):
    config = voila_config(ServeSettings(courses=catalog.root), catalog)
    vc = config.VoilaConfiguration
    assert vc.strip_sources is True
    assert vc.show_tracebacks is False
    assert vc.template == "dangxiao"
    assert vc.allow_template_override == "NO" and vc.allow_theme_override == "NO"
    assert "@jupyter/nbgrader" in vc.extension_denylist
    assert config.Voila.root_dir == str(catalog.root.resolve())
    assert config.Voila.config_file_paths == []
    assert config.KernelManager.transport == "ipc"
    assert (TEMPLATE_DATA_DIR / "voila" / "templates" / "dangxiao" / "conf.json").is_file()


def test_pool_only_for_the_preheated_lessons(catalog):
    settings = ServeSettings(courses=catalog.root, pool_size=30, preheat=["t1-quiz"], max_kernels=80)
    config = voila_config(settings, catalog)
    assert config.VoilaConfiguration.preheat_kernel is True
    assert config.VoilaKernelManager.kernel_pools_config == {
        "default": {"pool_size": 0},
        "t1_quiz.ipynb": {"pool_size": 30},
    }
    assert config.CappedKernelManager.max_kernels == 80
    every = voila_config(ServeSettings(courses=catalog.root, pool_size=2), catalog)
    assert set(every.VoilaKernelManager.kernel_pools_config) == {"default", *(l.notebook for l in catalog.lessons)}
    off = voila_config(ServeSettings(courses=catalog.root, pool_size=0), catalog)
    assert off.VoilaConfiguration.preheat_kernel is False


def test_culling_settings_reach_the_kernel_manager(catalog):
    config = voila_config(ServeSettings(courses=catalog.root, cull_idle_timeout=300, cull_interval=30), catalog)
    assert config.MappingKernelManager.cull_idle_timeout == 300
    assert config.MappingKernelManager.cull_interval == 30


def test_a_lesson_cell_has_a_time_limit_and_the_messages_are_chinese(catalog):
    config = voila_config(ServeSettings(courses=catalog.root), catalog)
    assert config.VoilaExecutor.timeout == 120
    assert "超时" in config.VoilaExecutor.cell_timeout_instruction
    assert "管理员" in config.VoilaExecutor.cell_error_instruction
    unlimited = voila_config(ServeSettings(courses=catalog.root, cell_timeout=0), catalog)
    assert unlimited.VoilaExecutor.timeout is None


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"port": 0}, "--port"),
        ({"pool_size": -1}, "--pool-size"),
        ({"max_kernels": 5, "pool_size": 10}, "--max-kernels 5"),
        ({"cull_idle_timeout": -5}, "--cull-idle-timeout"),
        ({"cell_timeout": -1}, "--cell-timeout"),
    ],
)
def test_bad_settings_are_one_line_errors(catalog, changes, message):
    with pytest.raises(DangxiaoError, match=message):
        voila_config(ServeSettings(courses=catalog.root, **changes), catalog)


def test_pools_beyond_the_cap_are_refused_with_advice(catalog):
    with pytest.raises(DangxiaoError, match="--preheat"):
        voila_config(ServeSettings(courses=catalog.root, pool_size=30, max_kernels=60), catalog)  # 3 lessons × 30
    voila_config(ServeSettings(courses=catalog.root, pool_size=30, max_kernels=60, preheat=["t1-quiz"]), catalog)


def test_unknown_preheat_lesson_is_named(catalog):
    with pytest.raises(DangxiaoError, match="no-such-lesson"):
        voila_config(ServeSettings(courses=catalog.root, preheat=["no-such-lesson"]), catalog)


def test_default_cap_follows_memory():
    gib = 1024 ** 3
    assert default_max_kernels(24 * gib) == int(24 * gib * 0.75 / (KERNEL_MEMORY_MB * 1024 ** 2))
    assert default_max_kernels(1 * gib) == 5
    assert default_max_kernels(100 * 1024 ** 2) == 4  # never below a handful


def test_gallery_model_follows_catalog_order(catalog):
    modules = gallery_modules(catalog, "/prefix/")
    assert [m.id for m in modules] == [m.id for m in catalog.modules]
    lessons = [lesson for module in modules for lesson in module.lessons]
    assert [l.id for l in lessons] == [l.id for l in catalog.lessons]
    assert lessons[0].url == "/prefix/voila/render/t1_quiz.ipynb"
    assert modules[0].minutes == sum(l.minutes for l in catalog.lessons)
    assert lesson_url("/", "sub dir/a.ipynb") == "/voila/render/sub%20dir/a.ipynb"


def test_serve_without_catalog_is_a_one_line_error(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "dangxiao", "serve", "--no-browser", "--courses", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    assert "catalog.yaml" in result.stderr and "Traceback" not in result.stderr
