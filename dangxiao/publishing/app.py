"""`DangxiaoVoila`: Voila serving `courses/` with the gallery, catalog-only lessons and no tree/contents."""
from __future__ import annotations

from jupyter_server.base.handlers import FileFindHandler
from jupyter_server.utils import url_path_join
from voila.app import Voila
from voila.static_file_handler import AllowListFileHandler, MultiStaticFileHandler, TemplateStaticFileHandler

from dangxiao.publishing.exam_handlers import SWEEP_SECONDS, exam_handlers
from dangxiao.publishing.records_handlers import MeAPIHandler, records_handlers
from dangxiao.publishing.handlers import (
    FileHandler,
    GalleryHandler,
    LabExtensionHandler,
    LessonHandler,
    NotFoundHandler,
    StaticHandler,
    TemplateStaticHandler,
    VersionedStaticHandler,
)
from dangxiao.publishing.page_config import COURSES_SETTING
from dangxiao.publishing.static_cache import STATIC_TAG_SETTING, static_tag, versioned_static_pattern

__all__ = ["DangxiaoVoila"]

# Stock routes replaced (render, root) or dropped (directory listing of courses/).
_DROPPED_SUFFIXES = ("/voila/tree", "/voila/api/contents", "/voila/render/(.*)")


class DangxiaoVoila(Voila):
    """`records` (a `RecordStore`, or None for an open site that records nothing) and `credit_rule` are
    set by `dangxiao.publishing.serve` before `initialize`; handlers find them in the tornado settings."""

    name = "dangxiao-voila"
    records = None
    credit_rule = None
    exams = None  # an ExamCatalog: the course's tests, with a roster only

    def init_settings(self):
        settings = super().init_settings()
        settings["default_handler_class"] = NotFoundHandler
        settings["dangxiao_records"] = self.records
        settings["dangxiao_credit_rule"] = self.credit_rule
        settings["dangxiao_exams"] = self.exams
        # Set here, not in tornado_settings: tornado reads it in Application.__init__ to install the
        # GZipContentEncoding transform, and Voila applies tornado_settings only after that.
        settings["compress_response"] = True
        settings[STATIC_TAG_SETTING] = static_tag(self.static_paths)
        settings[COURSES_SETTING] = self.root_dir
        return settings

    def init_handlers(self):
        # First: Voila's /voila/static/(.*) would match the versioned prefix too.
        handlers = [(versioned_static_pattern(self.server_url), VersionedStaticHandler,
                     {"paths": self.static_paths, "default_filename": None})]
        for handler in super().init_handlers():
            pattern = handler[0]
            if pattern == self.server_url or any(
                pattern.startswith(url_path_join(self.server_url, suffix)) for suffix in _DROPPED_SUFFIXES
            ):
                continue
            handlers.append(self._hardened(handler))
        common = {"voila_configuration": self.voila_configuration, "courses": self.root_dir}
        handlers.append((self.server_url, GalleryHandler, common))
        handlers.append((url_path_join(self.server_url, r"/dangxiao/api/me"), MeAPIHandler))
        if self.records is not None:
            handlers.extend(records_handlers(self.server_url, common))
        if self.exams is not None:
            handlers.extend(exam_handlers(self.server_url, common))
        handlers.append(
            (
                url_path_join(self.server_url, r"/voila/render/(.*)"),
                LessonHandler,
                {**common, "template_paths": self.template_paths, "config": self.config},
            )
        )
        return handlers

    def start(self):
        if self.exams is not None:
            from tornado.ioloop import IOLoop, PeriodicCallback

            def sweep():
                IOLoop.current().run_in_executor(None, self.exams.sweep, self.records)

            PeriodicCallback(sweep, SWEEP_SECONDS * 1000).start()
        super().start()

    def _hardened(self, handler: tuple) -> tuple:
        """Swap Voila's static-file handlers for subclasses with Chinese errors and stricter paths."""
        pattern, cls, *rest = handler
        kwargs = dict(rest[0]) if rest else {}
        if cls is AllowListFileHandler:
            return (pattern, FileHandler, kwargs)
        if cls is MultiStaticFileHandler:
            return (pattern, StaticHandler, kwargs)
        if cls is FileFindHandler and pattern.endswith("/voila/labextensions/(.*)"):
            return (pattern, LabExtensionHandler, kwargs)
        if cls is TemplateStaticFileHandler:
            return (pattern, TemplateStaticHandler, {**kwargs, "templates": self._template_names()})
        return handler

    def _template_names(self) -> list[str]:
        """The template in use and its bases (dangxiao → lab → base): the only ones with static files."""
        from voila.paths import _default_root_dirs, _find_template_hierarchy

        return _find_template_hierarchy(["voila", "nbconvert"], self.voila_configuration.template, _default_root_dirs())
