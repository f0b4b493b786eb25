"""What a lesson page's config carries besides Voila's: the versioned static URL and the lesson's place
in the catalog.

Both go through `VoilaConfiguration.page_config_hook`, Voila's one seam that runs for on-demand pages
and for the pages a kernel pool pre-renders before any request exists (so `LessonHandler` itself cannot
hand a pooled page anything). The template reads `page_config["dangxiaoLesson"]` for the breadcrumb and
the previous / next links; the same dict reaches the page's `jupyter-config-data`, where page scripts
can read the lesson id.
"""
from __future__ import annotations

from typing import Any

from dangxiao.catalog import load_catalog
from dangxiao.errors import DangxiaoError
from dangxiao.publishing.gallery import lesson_neighbours
from dangxiao.publishing.static_cache import versioned_static_page_config

__all__ = ["COURSES_SETTING", "LESSON_KEY", "lesson_page_config"]

COURSES_SETTING = "dangxiao_courses"  # the tornado setting holding the courses folder
LESSON_KEY = "dangxiaoLesson"


def lesson_page_config(page_config: dict, base_url: str, settings: dict, log=None,
                       notebook_path: str | None = None, **_: Any) -> dict:
    page_config = versioned_static_page_config(page_config, base_url, settings)
    courses = settings.get(COURSES_SETTING)
    if not courses or not notebook_path:
        return page_config
    try:
        place = lesson_neighbours(load_catalog(courses), notebook_path, base_url)
    except DangxiaoError as error:  # the gallery shows the catalog error; the lesson still renders
        if log is not None:
            log.warning("no lesson navigation: %s", error)
        return page_config
    if place is not None:
        page_config = {**page_config, LESSON_KEY: place.as_dict()}
    return page_config
