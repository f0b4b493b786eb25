"""The lessons' own interactive pieces work as a Voila app in headless Chromium (offline)."""
from __future__ import annotations

import re

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TIMEOUT_MS = 180_000


def open_lesson(page, url: str, notebook: str):
    page.goto(f"{url}/voila/render/{notebook}", wait_until="commit", timeout=TIMEOUT_MS)
    page.wait_for_selector(".jupyter-widgets", state="visible", timeout=TIMEOUT_MS)
    return page


def test_hotline_lesson_sliders_refilter_the_flagged_table(voila_courses, chromium_page):
    page = open_lesson(chromium_page, voila_courses, "m4_01_hotline.ipynb")
    caption = page.locator("caption", has_text="需要关注的行")
    caption.first.wait_for(timeout=TIMEOUT_MS)
    first = caption.first.inner_text()
    assert "模拟数据" in first
    before = int(re.search(r"共 (\d+) 行", first).group(1))
    # The third slider is 平均满意度低于: raising the limit can only flag more rows.
    handle = page.locator(".widget-slider .noUi-handle").nth(2)
    handle.focus()
    for _ in range(8):
        handle.press("ArrowRight")
    page.wait_for_function(
        "n => [...document.querySelectorAll('caption')].some(c => /需要关注的行：共 (\\d+) 行/.test(c.innerText)"
        " && +c.innerText.match(/共 (\\d+) 行/)[1] > n)", arg=before, timeout=60_000)
    assert page.locator("caption", has_text="需要关注的行").first.inner_text().count("模拟数据") == 1
    assert chromium_page.external_requests == [] and chromium_page.errors == []


def test_course_map_links_open_the_lessons(voila_courses, chromium_page):
    page = open_lesson(chromium_page, voila_courses, "m0_start.ipynb")
    link = page.locator("a[href='m3_03_wuhan.ipynb']")
    assert link.inner_text() == "武汉：超大城市现代化治理新路子"
    # Output links open in a new tab (JupyterLab's sanitiser sets target=_blank).
    with page.expect_popup(timeout=60_000) as popup:
        link.click()
    lesson = popup.value
    lesson.wait_for_url(re.compile(r"/voila/render/m3_03_wuhan\.ipynb$"), wait_until="commit", timeout=60_000)
    lesson.close()
    assert chromium_page.external_requests == [] and chromium_page.errors == []
