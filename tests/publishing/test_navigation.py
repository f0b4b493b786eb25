"""Every lesson page has a breadcrumb back to the gallery and its module, and previous / next lesson links
in catalog order, on pages rendered on demand and on pages pre-rendered by the kernel pool."""
from __future__ import annotations

import re

import pytest

from dangxiao.catalog import load_catalog
from dangxiao.publishing.gallery import lesson_neighbours, lesson_url
from dangxiao.publishing.page_config import LESSON_KEY, lesson_page_config

WIDGET_TIMEOUT_MS = 120_000


def test_neighbours_follow_catalog_order_across_modules_and_skip_missing_notebooks(support, tmp_path):
    courses = tmp_path / "courses"
    for name in ("a1.ipynb", "a2.ipynb", "b2.ipynb"):
        support.notebook(courses / name, [("md", "# 课")])
    (courses / "catalog.yaml").write_text(
        "title: 测试\nmodules:\n"
        "  - id: a\n    title: 模块甲\n    lessons:\n"
        "      - {id: a-1, title: 甲一, notebook: a1.ipynb, minutes: 5}\n"
        "      - {id: a-2, title: 甲二, notebook: a2.ipynb, minutes: 5}\n"
        "  - id: b\n    title: 模块乙\n    lessons:\n"
        "      - {id: b-1, title: 乙一（未上线）, notebook: b1.ipynb, minutes: 5}\n"
        "      - {id: b-2, title: 乙二, notebook: b2.ipynb, minutes: 5}\n", encoding="utf-8")
    catalog = load_catalog(courses)
    first = lesson_neighbours(catalog, "a1.ipynb")
    assert first.previous is None and first.next.id == "a-2"
    assert (first.module_title, first.position, first.module_size) == ("模块甲", 1, 2)
    assert first.gallery_url == "/" and first.module_url == "/#module-a"
    # The last lesson of a module leads to the next module; a lesson without its notebook is skipped.
    assert lesson_neighbours(catalog, "a2.ipynb").next.id == "b-2"
    last = lesson_neighbours(catalog, "b2.ipynb", base_url="/kecheng/")
    assert last.previous.id == "a-2" and last.next is None
    assert last.previous.url == "/kecheng/voila/render/a2.ipynb" and last.gallery_url == "/kecheng/"
    assert lesson_neighbours(catalog, "draft.ipynb") is None
    # The page-config hook carries it to the template; a broken catalog leaves the page without it.
    config = lesson_page_config({"fullStaticUrl": "/voila/static"}, "/", {"dangxiao_courses": str(courses)},
                                notebook_path="a2.ipynb")
    assert config[LESSON_KEY]["lesson_id"] == "a-2" and config[LESSON_KEY]["next"]["id"] == "b-2"
    (courses / "catalog.yaml").write_text("modules: [", encoding="utf-8")
    broken = lesson_page_config({}, "/", {"dangxiao_courses": str(courses)}, notebook_path="a2.ipynb")
    assert LESSON_KEY not in broken


def _open(page, server, notebook):
    page.goto(server.url + lesson_url("/", notebook), wait_until="commit")
    page.wait_for_selector(".jupyter-widgets", state="visible", timeout=WIDGET_TIMEOUT_MS)
    return page


@pytest.mark.browser
def test_a_lesson_page_leads_back_to_the_gallery_and_on_to_the_next_lesson(fixture_server, recorded_page):
    page = _open(recorded_page.page, fixture_server, "t2_plain.ipynb")
    nav = page.locator("nav.dx-lesson-nav")
    assert nav.is_visible()
    assert nav.locator(".dx-crumb-gallery").inner_text() == "课程目录"
    assert nav.locator(".dx-crumb-module").inner_text() == "模块一　测试"
    assert nav.locator(".dx-crumb-lesson").inner_text().startswith("第二课")
    assert "第 2 / 3 课" in nav.locator(".dx-crumb-lesson").inner_text()
    assert nav.locator(".dx-progress").count() == 1  # the slot for the trainee's progress
    pager = page.locator("nav.dx-pager")
    pager.scroll_into_view_if_needed()
    assert pager.is_visible()
    assert pager.locator("a[rel=prev]").get_attribute("href") == lesson_url("/", "t1_quiz.ipynb")
    assert "网格化管理测验" in pager.locator("a[rel=prev]").inner_text()
    assert "出错的课" in pager.locator("a[rel=next]").inner_text()
    pager.locator("a[rel=next]").click()
    page.wait_for_url(re.compile(r"/voila/render/t3_broken\.ipynb$"), wait_until="commit")
    page.locator("nav.dx-lesson-nav .dx-crumb-gallery").click()
    page.wait_for_url(fixture_server.url + "/", wait_until="commit")
    assert page.locator("#module-t1").count() == 1  # the module crumb's anchor
    assert recorded_page.external_requests == []
    assert recorded_page.errors == []


@pytest.mark.browser
def test_a_pooled_lesson_page_has_its_navigation_too(fixture_server, recorded_page):
    """t1-quiz is pre-rendered by the pool (fixture_server preheats it): before any request."""
    page = _open(recorded_page.page, fixture_server, "t1_quiz.ipynb")
    assert "Using pre-heated kernel" in fixture_server.log() and "for t1_quiz.ipynb" in fixture_server.log()
    nav = page.locator("nav.dx-lesson-nav")
    assert nav.get_attribute("data-lesson-id") == "t1-quiz"
    pager = page.locator("nav.dx-pager")
    assert pager.locator("a[rel=prev]").count() == 0  # the first lesson: back to the gallery instead
    assert pager.locator("a.dx-prev").get_attribute("href") == "/"
    assert pager.locator("a[rel=next]").get_attribute("href") == lesson_url("/", "t2_plain.ipynb")
    assert recorded_page.external_requests == []
