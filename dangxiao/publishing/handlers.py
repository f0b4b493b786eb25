"""Tornado handlers dangxiao adds to Voila: the gallery, catalog-only lesson rendering, Chinese 404s."""
from __future__ import annotations

from pathlib import Path

import tornado.web
from tornado.httputil import responses
from voila.handler import BaseVoilaHandler
from voila.static_file_handler import AllowListFileHandler, MultiStaticFileHandler, TemplateStaticFileHandler
from voila.tornado.handler import TornadoVoilaHandler

from dangxiao.catalog import load_catalog
from dangxiao.errors import DangxiaoError
from dangxiao.publishing.gallery import gallery_modules
from dangxiao.publishing.kernels import KernelLimitReached

__all__ = [
    "GalleryHandler",
    "LessonHandler",
    "NotFoundHandler",
    "FileHandler",
    "StaticHandler",
    "TemplateStaticHandler",
]


def _catalog_or_503(courses: Path):
    try:
        return load_catalog(courses)
    except DangxiaoError as error:
        raise tornado.web.HTTPError(503, "catalog unusable: %s", error) from None


class GalleryHandler(BaseVoilaHandler):
    """The landing page: modules and lessons of `courses/catalog.yaml`, read on every request so an
    edited catalog shows without a restart."""

    def initialize(self, **kwargs):
        self.courses = Path(kwargs.pop("courses"))
        super().initialize(**kwargs)

    @tornado.web.authenticated
    def get(self):
        catalog = _catalog_or_503(self.courses)
        modules = gallery_modules(catalog, self.base_url)
        self.set_header("Cache-Control", "no-cache")
        self.finish(
            self.render_template(
                "gallery.html",
                catalog_title=catalog.title,
                modules=modules,
                lesson_count=sum(len(module.lessons) for module in modules),
                total_minutes=sum(module.minutes for module in modules),
            )
        )


class LessonHandler(TornadoVoilaHandler):
    """Voila's render handler, restricted to the notebooks the catalog lists.

    Anything else under `courses/` (drafts, helper notebooks, `..` tricks) is a 404 before Voila opens it.
    From the preheated pool it takes the best kernel first: one whose notebook is fully pre-rendered,
    else one whose kernel has started (Voila's stock handler takes whatever is first, even a kernel still
    starting). Without such a kernel it starts a fresh one, or answers 503 at the kernel cap.
    """

    def initialize(self, **kwargs):
        self.courses = Path(kwargs.pop("courses"))
        super().initialize(**kwargs)

    @tornado.web.authenticated
    async def get(self, path=None):
        catalog = _catalog_or_503(self.courses)
        if path not in {lesson.notebook for lesson in catalog.lessons}:
            raise tornado.web.HTTPError(404, "not a lesson of the catalog")
        self.pool_kernel_ready = self._best_pool_kernel_first(path)
        if not self.pool_kernel_ready and not self._kernel_room():
            raise KernelLimitReached(self.kernel_manager.max_kernels)
        await super().get(path)

    def _kernel_room(self) -> bool:
        has_room = getattr(self.kernel_manager, "has_room", None)
        return has_room() if has_room else True

    def _best_pool_kernel_first(self, notebook: str) -> bool:
        """Reorder the notebook's pool (Voila pops index 0): pre-rendered, then started; drop entries
        whose start failed (e.g. refused at the cap) and ask for a refill. Returns whether a started
        kernel is first. Relies on `VoilaKernelManager._pools` (voila 0.5)."""
        pools = getattr(self.kernel_manager, "_pools", None)
        if pools is None or notebook not in pools:
            return False
        pool = pools[notebook]
        failed = [task for task in pool if task.done() and (task.cancelled() or task.exception())]
        for task in failed:
            pool.remove(task)
        if failed:
            self.kernel_manager.fill_if_needed(notebook_name=notebook)

        def rank(task) -> int:
            if not task.done():
                return 2
            return 0 if task.result()["task"].done() else 1

        pool.sort(key=rank)  # stable: keeps Voila's order among equals
        return bool(pool) and rank(pool[0]) < 2

    def should_use_rendered_notebook(self, notebook_data, pool_size, template_name, theme, request_args):
        if not getattr(self, "pool_kernel_ready", False):
            return False
        return super().should_use_rendered_notebook(notebook_data, pool_size, template_name, theme, request_args)


class ChineseErrorPages:
    """Mixin for plain tornado handlers (static files): errors on dangxiao's Chinese page, no details."""

    def write_error(self, status_code: int, **kwargs) -> None:
        template = self.settings["voila_jinja2_env"].get_template("error.html")
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.finish(
            template.render(
                status_code=status_code,
                status_message=responses.get(status_code, "Error"),
                base_url=self.settings.get("base_url", "/"),
            )
        )


class NotFoundHandler(ChineseErrorPages, tornado.web.RequestHandler):
    """Every unrouted address (/files, /api/contents, /static, /tree …): the Chinese 404 page."""

    def prepare(self):
        raise tornado.web.HTTPError(404)


class FileHandler(ChineseErrorPages, AllowListFileHandler):
    """/voila/files: Voila's allowlisted files of courses/, with Chinese error pages."""


class StaticHandler(ChineseErrorPages, MultiStaticFileHandler):
    """/voila/static: Voila's front-end assets, with Chinese error pages."""


class TemplateStaticHandler(ChineseErrorPages, TemplateStaticFileHandler):
    """/voila/templates/<template>/static/…: only the templates in use; anything else is a 404
    (the stock handler answers a malformed path with a 500 from an assert)."""

    def initialize(self, templates=(), **kwargs):
        self.templates = frozenset(templates)
        super().initialize(**kwargs)

    def parse_url_path(self, path):
        parts = path.split("/", 2)
        if len(parts) != 3 or parts[0] not in self.templates or parts[1] != "static" or ".." in parts[2].split("/"):
            raise tornado.web.HTTPError(404)
        return super().parse_url_path(path)
