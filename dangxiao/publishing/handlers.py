"""Tornado handlers dangxiao adds to Voila: the gallery, catalog-only lesson rendering, Chinese 404s."""
from __future__ import annotations

import asyncio
from pathlib import Path

import tornado.web
from jupyter_server.base.handlers import FileFindHandler
from tornado.httputil import responses
from voila.handler import BaseVoilaHandler
from voila.static_file_handler import AllowListFileHandler, MultiStaticFileHandler, TemplateStaticFileHandler
from voila.tornado.handler import TornadoVoilaHandler

from dangxiao.catalog import load_catalog
from dangxiao.errors import DangxiaoError
from dangxiao.publishing.gallery import gallery_modules
from dangxiao.publishing.kernels import KernelLimitReached
from dangxiao.publishing.ownership import KernelAssignment, page_owner
from dangxiao.publishing.records_handlers import record_lesson_open
from dangxiao.publishing.static_cache import CacheHeaders, VersionedStaticMixin

__all__ = [
    "GalleryHandler",
    "LessonHandler",
    "NotFoundHandler",
    "FileHandler",
    "LabExtensionHandler",
    "StaticHandler",
    "TemplateStaticHandler",
    "VersionedStaticHandler",
]


def _catalog_or_500(courses: Path):
    try:
        return load_catalog(courses)
    except DangxiaoError as error:
        raise tornado.web.HTTPError(500, "catalog unusable: %s", error) from None


class GalleryHandler(BaseVoilaHandler):
    """The landing page: modules and lessons of `courses/catalog.yaml`, read on every request so an
    edited catalog shows without a restart."""

    def initialize(self, **kwargs):
        self.courses = Path(kwargs.pop("courses"))
        super().initialize(**kwargs)

    @tornado.web.authenticated
    def get(self):
        catalog = _catalog_or_500(self.courses)
        modules = gallery_modules(catalog, self.base_url)
        self.set_header("Cache-Control", "no-cache")
        recording = self.settings.get("dangxiao_records") is not None
        exams = self.settings.get("dangxiao_exams")
        tests = [{"id": b.id, "title": b.title, "practice": b.mode == "practice", "minutes": b.time_limit,
                  "url": f"{self.base_url}exam/{b.id}"} for b in exams.blueprints.values()] if exams else []
        self.finish(
            self.render_template(
                "gallery.html",
                tests=tests,
                recording=recording,
                account=self.current_user if recording else None,
                catalog_title=catalog.title,
                modules=modules,
                lesson_count=sum(len(module.lessons) for module in modules),
                total_minutes=sum(module.minutes for module in modules),
            )
        )


class LessonHandler(TornadoVoilaHandler):
    """Voila's render handler, restricted to the notebooks the catalog lists.

    Anything else under `courses/` (drafts, helper notebooks, `..` tricks) is a 404 before Voila opens it.
    A preheated kernel is handed over only once its notebook is fully pre-rendered: Voila's stock
    handler takes the first pool entry even while it is still executing, and under a burst such pages
    stall (FIELD-NOTES; 28 of 60 in benchmarks/class_burst.py). A kernel still pre-rendering is reserved
    for this request and awaited; one that fails or takes longer than POOL_RENDER_TIMEOUT is discarded.
    Without a pool kernel a fresh one is started, or the Chinese 503 page is shown at the kernel cap.
    """

    POOL_RENDER_TIMEOUT = 120.0  # seconds; a pre-render this slow is stuck (e.g. its kernel died)

    def initialize(self, **kwargs):
        self.courses = Path(kwargs.pop("courses"))
        super().initialize(**kwargs)

    @tornado.web.authenticated
    async def get(self, path=None):
        catalog = _catalog_or_500(self.courses)
        if path not in {lesson.notebook for lesson in catalog.lessons}:
            raise tornado.web.HTTPError(404, "not a lesson of the catalog")
        # Setting the _xsrf cookie lets the page's beforeunload beacon (which sends the cookie's value)
        # shut its kernel down when the tab closes; stock Voila never sets it, so the beacon is refused
        # with 403 and kernels of closed tabs live until culled (voila #1458).
        self.xsrf_token  # noqa: B018 -- the property sets the cookie
        # Pool refills wait while lesson pages are being served (kernels.py).
        activity = getattr(self.kernel_manager, "page_started", None)
        if activity:
            activity()
        try:
            pool_kernel = await self._reserve_rendered_pool_kernel(path)
            self.pool_kernel_ready = pool_kernel is not None
            if not self.pool_kernel_ready and not self._kernel_room():
                raise KernelLimitReached(self.kernel_manager.max_kernels)
            await self._render_for_trainee(path, catalog, pool_kernel)
        finally:
            if activity:
                self.kernel_manager.page_finished()

    async def _render_for_trainee(self, path: str, catalog, pool_kernel: str | None) -> None:
        """Voila's render; with a learning record the page's kernel is this trainee's (see
        dangxiao.publishing.ownership) and the opening is recorded."""
        if self.settings.get("dangxiao_records") is None:
            await super().get(path)
            return
        lesson = next(lesson for lesson in catalog.lessons if lesson.notebook == path)
        assignment = KernelAssignment(self.current_user.username, lesson.id)
        if pool_kernel is not None:
            self.kernel_manager.owners.assign(pool_kernel, assignment)
        await record_lesson_open(self, lesson.id)
        token = page_owner.set(assignment)
        try:
            await super().get(path)
        finally:
            page_owner.reset(token)

    def _kernel_room(self) -> bool:
        has_room = getattr(self.kernel_manager, "has_room", None)
        return has_room() if has_room else True

    async def _reserve_rendered_pool_kernel(self, notebook: str) -> str | None:
        """Put a fully pre-rendered entry first in the notebook's pool (Voila pops index 0 without
        awaiting anything before, so nobody else can take it) and return its kernel id, or None.
        Relies on `VoilaKernelManager._pools`."""
        pools = getattr(self.kernel_manager, "_pools", None)
        if pools is None or notebook not in pools:
            return None
        pool = pools[notebook]
        failed = [entry for entry in pool if entry.done() and (entry.cancelled() or entry.exception())]
        for entry in failed:
            pool.remove(entry)
        if failed:
            self.kernel_manager.fill_if_needed(notebook_name=notebook)
        started = [entry for entry in pool if entry.done() and not entry.cancelled() and not entry.exception()]
        started.sort(key=lambda entry: not entry.result()["task"].done())  # pre-rendered first
        for entry in started:
            if entry not in pool:  # taken meanwhile by a request that did not wait
                continue
            render = entry.result()["task"]
            if not render.done():
                pool.remove(entry)  # reserved while its notebook finishes executing
                try:
                    await asyncio.wait_for(asyncio.shield(render), self.POOL_RENDER_TIMEOUT)
                except Exception:  # noqa: BLE001 -- a stuck or failed pre-render: drop that kernel
                    await self._discard(notebook, entry)
                    continue
            elif render.cancelled() or render.exception():
                pool.remove(entry)
                await self._discard(notebook, entry)
                continue
            else:
                pool.remove(entry)
            if render.exception() is not None:
                await self._discard(notebook, entry)
                continue
            pool.insert(0, entry)
            return entry.result()["kernel_id"]
        return None

    async def _discard(self, notebook: str, entry) -> None:
        kernel_id = entry.result()["kernel_id"]
        self.log.warning("discarding pooled kernel %s of %s: its pre-render failed or stalled", kernel_id, notebook)
        try:
            await self.kernel_manager.shutdown_kernel(kernel_id)
        except Exception:  # noqa: BLE001 -- already gone
            pass
        self.kernel_manager.fill_if_needed(notebook_name=notebook)

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


class FileHandler(ChineseErrorPages, CacheHeaders, AllowListFileHandler):
    """/voila/files: Voila's allowlisted files of courses/, with Chinese error pages."""


class StaticHandler(ChineseErrorPages, CacheHeaders, MultiStaticFileHandler):
    """/voila/static: Voila's front-end assets, with Chinese error pages."""


class VersionedStaticHandler(VersionedStaticMixin, StaticHandler):
    """/voila/static/_v/<tag>/…: the same assets under the current version tag, cached for good
    (static_cache.py: the page config points Voila's front end here)."""


class LabExtensionHandler(CacheHeaders, FileFindHandler):
    """/voila/labextensions: stock Voila says `no-cache` for all of them; their URLs are hashed
    (`remoteEntry.<hash>.js`, chunks with `?v=<hash>`), so those are immutable here."""


class TemplateStaticHandler(ChineseErrorPages, CacheHeaders, TemplateStaticFileHandler):
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
