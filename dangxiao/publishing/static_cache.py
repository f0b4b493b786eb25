"""Light, cached lesson pages: versioned front-end URLs that browsers keep, and compressed text assets.

Measured on m1-l1 before this module (benchmarks/lesson_pages.py, headless Chromium): a first visit
transferred 5.0 MB in 97 responses, no script compressed; the labextension files were sent with
`Cache-Control: no-cache`, and Voila's ~60 front-end chunks (`/voila/static/NNNN.voila.js`) carry no
version at all, so a browser either revalidates them or keeps them by guesswork (heuristic freshness
from Last-Modified) across a Voila upgrade.

- Voila's front end finds its chunks at `page_config["fullStaticUrl"]` (webpack's public path). The
  page-config hook below points it at `/voila/static/_v/<tag>/`, where `<tag>` is a digest of the files
  Voila serves there; that route answers only the current tag, with an immutable cache header, so a
  chunk is downloaded once per Voila version and an upgrade changes every URL.
- A URL that is versioned already (a `?v=` query, as Voila's template and labextension URLs have, or
  a content hash in the file name such as `remoteEntry.c8c9eed2cdefdeac.js`) is immutable too;
  anything else is revalidated (`no-cache`: ETag / Last-Modified, a 304 costs a few hundred bytes).
- Compression: static files are gzipped once (level 9) and kept in memory, keyed by path, size and
  mtime, so a class opening a lesson costs no compression CPU after the first trainee (5 MB of
  scripts at tornado's level 6 on every first visit would be ~0.1 CPU-s per view). Everything else
  (the lesson page while it streams, JSON) goes through tornado's `compress_response`
  (`GZipContentEncoding`: every `text/*` type plus `application/javascript` and `application/json`,
  responses of ≥ 1 024 bytes or streamed), which leaves a response alone once it has a
  Content-Encoding and adds `Vary: Accept-Encoding` to every response.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import re
from typing import Any, Iterable

import tornado.web
from jupyter_server.utils import url_path_join

__all__ = [
    "IMMUTABLE",
    "REVALIDATE",
    "STATIC_TAG_SETTING",
    "CacheHeaders",
    "is_versioned_url",
    "static_tag",
    "versioned_static_page_config",
    "versioned_static_pattern",
]

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
STATIC_TAG_SETTING = "dangxiao_static_tag"  # the tornado setting holding the current tag
VERSIONED_PREFIX = "voila/static/_v"

# webpack names: `remoteEntry.<hash>.js`, `<id>.<hash>.js`, `<hash>.woff` (16+ lowercase hex digits).
_HASHED_NAME = re.compile(r"(?:^|[./])[0-9a-f]{16,}\.[A-Za-z0-9]+$")


def is_versioned_url(path: str, query_arguments: dict[str, Any]) -> bool:
    """Whether the URL names one version of a file for good (its content can never change)."""
    return "v" in query_arguments or bool(_HASHED_NAME.search(path.rsplit("/", 1)[-1]))


def static_tag(paths: Iterable[str]) -> str:
    """A digest of every file under `paths` (Voila's static folders, ~10 MB, hashed once when the app
    starts): it changes whenever any chunk does, e.g. after a Voila upgrade."""
    digest = hashlib.sha256()
    for root in map(str, paths):
        if not os.path.isdir(root):
            continue
        for folder, dirs, files in os.walk(root):
            dirs.sort()
            for name in sorted(files):
                full = os.path.join(folder, name)
                digest.update(os.path.relpath(full, root).encode() + b"\0")
                with open(full, "rb") as handle:
                    digest.update(hashlib.sha256(handle.read()).digest())
    return digest.hexdigest()[:16]


def versioned_static_pattern(server_url: str) -> str:
    return url_path_join(server_url, rf"/{VERSIONED_PREFIX}/([0-9a-f]{{16}})/(.*)")


def versioned_static_page_config(page_config: dict, base_url: str, settings: dict, **_: Any) -> dict:
    """`VoilaConfiguration.page_config_hook`: Voila's front end loads its chunks from the versioned
    route (the hook runs for on-demand and pre-rendered pool pages alike)."""
    tag = settings.get(STATIC_TAG_SETTING)
    if tag:
        page_config = dict(page_config)
        page_config["fullStaticUrl"] = url_path_join(base_url, VERSIONED_PREFIX, tag)
    return page_config


GZIP_LEVEL = 9
_COMPRESSIBLE = {"application/javascript", "application/json", "image/svg+xml", "application/xml"}
_GZIP_MAX_FILE = 8 * 1024 * 1024  # bigger files are sent as they are (none of Voila's is)
_GZIP_MIN_FILE = 1024
_gzipped: dict[tuple[str, int, int], bytes] = {}
_versions: dict[tuple[str, int, int], str] = {}


def gzipped_file(path: str) -> bytes:
    """The file's bytes gzipped, computed once per (path, size, mtime)."""
    stat = os.stat(path)
    key = (path, stat.st_size, stat.st_mtime_ns)
    if key not in _gzipped:
        with open(path, "rb") as handle:
            _gzipped[key] = gzip.compress(handle.read(), compresslevel=GZIP_LEVEL, mtime=0)
    return _gzipped[key]


class CacheHeaders:
    """Mixin for tornado static-file handlers (also jupyter_server's FileFindHandler, whose own
    `set_headers` says `no-cache` for labextensions): versioned URLs are immutable, others revalidate;
    text files go out gzipped from the in-memory cache when the browser accepts gzip."""

    def url_is_versioned(self) -> bool:
        return is_versioned_url(self.request.path, self.request.query_arguments)

    def _serve_gzipped(self) -> bool:
        if getattr(self, "_dangxiao_gzip", None) is None:
            ctype = (self.get_content_type() or "").split(";")[0].strip()
            size = self._stat().st_size
            self._dangxiao_gzip = (
                "gzip" in self.request.headers.get("Accept-Encoding", "")
                and "Range" not in self.request.headers
                and (ctype.startswith("text/") or ctype in _COMPRESSIBLE)
                and _GZIP_MIN_FILE <= size <= _GZIP_MAX_FILE
            )
        return self._dangxiao_gzip

    def set_headers(self) -> None:
        super().set_headers()
        self.set_header("Cache-Control", IMMUTABLE if self.url_is_versioned() else REVALIDATE)
        if not self.url_is_versioned():
            self.clear_header("Expires")
        if self._serve_gzipped():
            self.set_header("Content-Encoding", "gzip")  # tornado's transform then leaves it alone

    def get_content_size(self) -> int:
        if self._serve_gzipped():
            return len(gzipped_file(self.absolute_path))
        return super().get_content_size()

    def get_content(self, abspath: str, start: int | None = None, end: int | None = None):
        # An instance method here (tornado's is a classmethod): get() calls it on the handler.
        if self._serve_gzipped():
            return gzipped_file(abspath)[start:end]
        return tornado.web.StaticFileHandler.get_content(abspath, start, end)

    @classmethod
    def get_content_version(cls, abspath: str) -> str:
        """tornado's ETag source: a hash of the file, which tornado recomputes on every request (5 MB
        of SHA-512 per lesson view); here once per (path, size, mtime)."""
        stat = os.stat(abspath)
        key = (abspath, stat.st_size, stat.st_mtime_ns)
        if key not in _versions:
            hasher = hashlib.sha512()
            for chunk in tornado.web.StaticFileHandler.get_content(abspath):
                hasher.update(chunk)
            _versions[key] = hasher.hexdigest()
        return _versions[key]


class VersionedStaticMixin:
    """For a handler routed at `versioned_static_pattern`: serves the current tag only (an old tag is a
    404, so a page rendered before an upgrade never mixes chunks of two versions)."""

    def url_is_versioned(self) -> bool:
        return True

    def _check_tag(self, tag: str) -> None:
        if tag != self.settings.get(STATIC_TAG_SETTING):
            raise tornado.web.HTTPError(404)

    def get(self, tag: str, path: str, include_body: bool = True):
        self._check_tag(tag)
        return super().get(path, include_body)

    def head(self, tag: str, path: str):
        self._check_tag(tag)
        return super().head(path)
