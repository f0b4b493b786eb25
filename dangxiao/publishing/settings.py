"""What `dangxiao serve` is asked for, and the Voila configuration that follows from it."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from traitlets.config import Config

from dangxiao.catalog import Catalog
from dangxiao.errors import DangxiaoError
from dangxiao.publishing.page_config import lesson_page_config

__all__ = [
    "ServeSettings",
    "TEMPLATE_NAME",
    "TEMPLATE_DATA_DIR",
    "KERNEL_MEMORY_MB",
    "default_max_kernels",
    "lesson_executor_config",
    "voila_config",
]

TEMPLATE_NAME = "dangxiao"
# A Jupyter data dir holding `voila/templates/dangxiao/`; put on JUPYTER_PATH so Voila finds the template.
TEMPLATE_DATA_DIR = Path(__file__).resolve().parent / "templates"

# Measured RSS of one lesson kernel (pandas + matplotlib + ipywidgets), rounded up: see docs/operations.md.
KERNEL_MEMORY_MB = 150

# The only lab extensions a lesson page loads: the widget manager and Voila's glue for ipywidgets 8.
# Voila uses the allowlist when both lists are set; the denylist stays as documentation and for a
# configuration that drops the allowlist. Left out: jupyterlab_pygments (3 requests, 14 KB; lessons
# show no source code) and anything installed later for JupyterLab.
EXTENSION_ALLOWLIST = [
    "@jupyter-widgets/jupyterlab-manager",
    "@voila-dashboards/widgets-manager8",
]
# Lab extensions that fail or warn inside Voila's lab-4.2 frontend and are useless to a trainee.
EXTENSION_DENYLIST = [
    "@jupyter/nbgrader",
    "@jupyter-notebook/lab-extension",
    "@voila-dashboards/jupyterlab-preview",
    "@jupyter/collaboration-extension",
    "jupyterlab_pygments",
]

# /voila/files serves only images next to the lessons: never notebooks, Python, data or hidden files.
FILE_ALLOWLIST = [r"[A-Za-z0-9_\-/]*\.(png|jpg|jpeg|gif|svg)"]
FILE_DENYLIST = [r".*\.(ipynb|py|json|yaml|yml|csv|db|sqlite)", r"(.*/)?\..*", r".*\.\..*"]


def default_max_kernels(memory_bytes: int | None = None) -> int:
    """Kernels that fit in 75 % of the machine's memory at KERNEL_MEMORY_MB each (at least 4)."""
    memory = psutil.virtual_memory().total if memory_bytes is None else memory_bytes
    return max(4, int(memory * 0.75 / (KERNEL_MEMORY_MB * 1024 * 1024)))


@dataclass
class ServeSettings:
    courses: Path
    port: int = 8866
    host: str = "127.0.0.1"
    open_browser: bool = True
    pool_size: int = 1
    preheat: list[str] = field(default_factory=list)  # lesson ids; empty = every lesson
    max_kernels: int = 0  # 0 = default_max_kernels()
    cull_idle_timeout: int = 600
    cull_interval: int = 60
    cell_timeout: int = 120  # seconds; 0 = wait for ever
    fill_delay: float = 5.0
    refill_quiet: float = 3.0  # seconds without lesson page requests before a pool refill; 0 = at once
    fill_concurrency: int = 0  # pool kernels starting and pre-rendering at a time; 0 = one per CPU
    show_tracebacks: bool = False
    base_url: str = "/"
    db: str | None = None  # record store URL; None = $DANGXIAO_DB or data/records.sqlite
    credit_rule: Path | None = None  # 学时 rule YAML shown in 我的学习; None = the default rule
    demo: bool = False  # a throw-away record store with sample accounts
    course: Path | None = None  # the nbgrader course tests are submitted to; None = the project's assignments/

    @property
    def local_url(self) -> str:
        """How processes on this machine (the lesson kernels) reach the server."""
        host = "127.0.0.1" if self.host in ("", "0.0.0.0", "::") else self.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}{self.base_url}"

    def validate(self) -> None:
        if not (0 < self.port < 65536):
            raise DangxiaoError(f"--port {self.port}: 端口须在 1–65535 / port must be 1–65535")
        for name in ("pool_size", "max_kernels", "cull_idle_timeout", "cull_interval", "cell_timeout",
                     "refill_quiet", "fill_concurrency"):
            if getattr(self, name) < 0:
                raise DangxiaoError(f"--{name.replace('_', '-')}: 不能为负数 / must not be negative")
        if self.max_kernels and self.max_kernels < self.pool_size:
            raise DangxiaoError(
                f"--max-kernels {self.max_kernels}: 小于预热池 {self.pool_size} / smaller than the pool"
            )

    @property
    def kernel_cap(self) -> int:
        return self.max_kernels or default_max_kernels()

    def preheated_notebooks(self, catalog: Catalog) -> list[str]:
        if not self.preheat:
            return [lesson.notebook for lesson in catalog.lessons]
        return [catalog.lesson(lesson_id).notebook for lesson_id in self.preheat]


def lesson_executor_config(cell_timeout: int) -> Config:
    """How Voila runs a lesson's cells. A cell that takes longer than `cell_timeout` seconds ends the page
    with a message a trainee can act on; without a limit a stalled kernel leaves an endless spinner."""
    c = Config()
    c.VoilaExecutor.timeout = cell_timeout or None
    c.VoilaExecutor.cell_timeout_instruction = (
        "这一段运行超时，页面到此为止。请刷新页面重试；如果再次出现，请告诉培训中心的管理员。"
        " / This part of the lesson took too long: reload the page, and tell the administrator if it recurs.")
    c.VoilaExecutor.cell_error_instruction = (
        "这一段出错了，请告诉培训中心的管理员（管理员可加 --show-tracebacks 查看详情）。"
        " / This part of the lesson failed: tell the administrator (who can see details with --show-tracebacks).")
    return c


def voila_config(settings: ServeSettings, catalog: Catalog, cookie_secret: bytes | None = None) -> Config:
    """The traitlets configuration of the Voila app `dangxiao serve` runs. With a `cookie_secret` (from
    the record store, shared by every server process on it) the site asks for sign-in."""
    settings.validate()
    c = Config()
    c.Voila.config_file_paths = []  # no stray voila.json/py may loosen what is configured here
    c.Voila.root_dir = str(Path(settings.courses).resolve())
    c.Voila.port = settings.port
    c.Voila.port_retries = 0  # a busy port is an error, not a silent move to another one
    c.Voila.ip = settings.host
    c.Voila.open_browser = settings.open_browser
    c.Voila.base_url = settings.base_url
    c.Voila.tornado_settings = {
        # Same-origin framing only; no CDN anywhere, so no source beyond 'self' is needed for scripts.
        "headers": {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"},
    }

    vc = c.VoilaConfiguration
    vc.template = TEMPLATE_NAME
    vc.theme = "light"
    vc.allow_template_override = "NO"  # ?template=lab would bring back the CDN links
    vc.allow_theme_override = "NO"
    vc.strip_sources = True
    vc.show_tracebacks = settings.show_tracebacks
    vc.extension_allowlist = list(EXTENSION_ALLOWLIST)
    vc.extension_denylist = list(EXTENSION_DENYLIST)
    # Voila's chunks from a versioned, immutable URL (static_cache.py); the lesson's place in the
    # catalog for its breadcrumb and previous / next links (page_config.py).
    vc.page_config_hook = lesson_page_config
    vc.file_allowlist = list(FILE_ALLOWLIST)
    vc.file_denylist = list(FILE_DENYLIST)
    vc.multi_kernel_manager_class = "dangxiao.publishing.kernels.CappedKernelManager"
    c.merge(lesson_executor_config(settings.cell_timeout))

    vc.preheat_kernel = settings.pool_size > 0
    vc.default_pool_size = 0  # only catalog lessons get a pool (kernel_pools_config below)
    if settings.pool_size > 0:
        pools = {"default": {"pool_size": 0}}
        for notebook in settings.preheated_notebooks(catalog):
            pools[notebook] = {"pool_size": settings.pool_size}
        pooled = settings.pool_size * (len(pools) - 1)
        if pooled > settings.kernel_cap:
            raise DangxiaoError(
                f"--pool-size {settings.pool_size}: {len(pools) - 1} 课共需预热 {pooled} 个内核，超过上限 "
                f"{settings.kernel_cap}；请用 --preheat 只预热当天的课 / {pooled} pooled kernels exceed the "
                f"cap of {settings.kernel_cap}: preheat only today's lessons with --preheat"
            )
        c.VoilaKernelManager.kernel_pools_config = pools
        c.VoilaKernelManager.fill_delay = settings.fill_delay

    # Kernels talk to the server over unix sockets in Voila's private connection dir: under a burst TCP
    # kernels raced for ports (ZMQError "Address already in use" killed one of 120), and no local user
    # can reach a kernel's ports.
    c.KernelManager.transport = "ipc"
    c.CappedKernelManager.max_kernels = settings.kernel_cap
    c.CappedKernelManager.refill_quiet = float(settings.refill_quiet)
    c.CappedKernelManager.fill_concurrency = settings.fill_concurrency
    # Closing a tab does not free its kernel (voila #1458): cull kernels idle and without a connection.
    c.MappingKernelManager.cull_idle_timeout = settings.cull_idle_timeout
    c.MappingKernelManager.cull_interval = settings.cull_interval
    c.MappingKernelManager.cull_connected = False

    if cookie_secret is not None:
        c.Voila.identity_provider_class = "dangxiao.publishing.identity.RosterIdentityProvider"
        c.Voila.authorizer_class = "dangxiao.publishing.identity.KernelOwnerAuthorizer"
        c.Voila.cookie_secret = cookie_secret
    return c


def register_template_path() -> None:
    """Put the template's data dir first on JUPYTER_PATH (read by Voila on every template lookup)."""
    current = [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    if str(TEMPLATE_DATA_DIR) not in current:
        os.environ["JUPYTER_PATH"] = os.pathsep.join([str(TEMPLATE_DATA_DIR), *current])
