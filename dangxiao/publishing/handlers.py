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
    A pooled kernel is taken only when its notebook has been fully pre-rendered: taking one still
    executing can stall the page (FIELD-NOTES); otherwise a fresh kernel is started.
    """

    def initialize(self, **kwargs):
        self.courses = Path(kwargs.pop("courses"))
        super().initialize(**kwargs)

    @tornado.web.authenticated
    async def get(self, path=None):
        catalog = _catalog_or_503(self.courses)
        if path not in {lesson.notebook for lesson in catalog.lessons}:
            raise tornado.web.HTTPError(404, "not a lesson of the catalog")
        ready = self._move_ready_pool_kernel_first(path)
        if not ready and not self._kernel_room():
            raise KernelLimitReached(self.kernel_manager.max_kernels)
        await super().get(path)

    def _kernel_room(self) -> bool:
        has_room = getattr(self.kernel_manager, "has_room", None)
        return has_room() if has_room else True

    def _move_ready_pool_kernel_first(self, notebook: str) -> bool:
        """Put a fully pre-rendered pool entry first (Voila pops index 0); drop failed entries.

        Returns whether such an entry exists. Relies on `VoilaKernelManager._pools` (voila 0.5).
        """
        pools = getattr(self.kernel_manager, "_pools", None)
        if pools is None or notebook not in pools:
            return False
        pool = pools[notebook]
        failed = [task for task in pool if task.done() and (task.cancelled() or task.exception())]
        for task in failed:
            pool.remove(task)
        if failed:
            self.kernel_manager.fill_if_needed(notebook_name=notebook)
        for index, task in enumerate(pool):
            if task.done() and task.result()["task"].done():
                if index:
                    pool.insert(0, pool.pop(index))
                return True
        return False

    def should_use_rendered_notebook(self, notebook_data, pool_size, template_name, theme, request_args):
        pools = getattr(self.kernel_manager, "_pools", {})
        pool = pools.get(self.request_notebook, []) if hasattr(self, "request_notebook") else []
        if not pool or not (pool[0].done() and pool[0].result()["task"].done()):
            return False
        return super().should_use_rendered_notebook(notebook_data, pool_size, template_name, theme, request_args)

    async def get_generator(self, path=None):
        self.request_notebook = path
        async for snippet in super().get_generator(path=path):
            yield snippet


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
