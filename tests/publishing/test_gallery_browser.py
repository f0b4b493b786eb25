"""The gallery in headless Chromium: every catalog lesson is listed and links to its app; nothing leaves
the server."""
from __future__ import annotations

from urllib.parse import urljoin

import pytest

from dangxiao.catalog import load_catalog
from dangxiao.publishing.gallery import lesson_url

pytestmark = pytest.mark.browser


def test_gallery_lists_every_catalog_lesson(project_server, recorded_page):
    catalog = load_catalog(project_server.courses)
    page = recorded_page.page
    page.goto(project_server.url + "/", wait_until="load")
    assert page.title().startswith(catalog.title)
    for module in catalog.modules:
        section = page.locator(f"section.module[data-module-id='{module.id}']")
        assert section.locator(".module-title").inner_text() == module.title
        for lesson in module.lessons:
            item = section.locator(f"li.lesson[data-lesson-id='{lesson.id}']")
            assert item.is_visible(), lesson.id
            assert item.locator(".lesson-title").inner_text() == lesson.title
            assert item.locator(".lesson-minutes").inner_text() == f"{lesson.minutes} 分钟"
            href = item.locator("a").get_attribute("href")
            assert href == lesson_url("/", lesson.notebook)
    assert page.locator("li.lesson").count() == len(catalog.lessons)
    assert recorded_page.external_requests == []
    assert recorded_page.errors == []


def test_gallery_link_opens_the_lesson_as_an_app(fixture_server, recorded_page):
    page = recorded_page.page
    page.goto(fixture_server.url + "/", wait_until="load")
    page.locator("li.lesson[data-lesson-id='t1-plain'] a").click()
    page.wait_for_selector(".jupyter-widgets", state="visible", timeout=90_000)
    assert page.url == urljoin(fixture_server.url, "/voila/render/t2_plain.ipynb")
    assert page.locator(".widget-label", has_text="第二课").is_visible()
    assert "import ipywidgets" not in page.inner_text("body")
    # Sources are stripped: no code cell input reaches the page.
    assert page.locator(".jp-InputArea-editor, .jp-CodeMirrorEditor").count() == 0
    assert recorded_page.external_requests == []
    assert recorded_page.errors == []


def test_a_catalog_lesson_whose_notebook_is_missing_is_shown_but_not_linked(fixture_project, tmp_path):
    from dangxiao.publishing.gallery import gallery_modules

    catalog = load_catalog(fixture_project / "courses")
    shutil_courses = tmp_path / "courses"
    shutil_courses.mkdir()
    (shutil_courses / "catalog.yaml").write_text((fixture_project / "courses" / "catalog.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    modules = gallery_modules(load_catalog(shutil_courses))
    assert [lesson.available for lesson in modules[0].lessons] == [False, False, False]
    assert [lesson.available for lesson in gallery_modules(catalog)[0].lessons] == [True, True, True]
