"""Chinese renders in a browser that has no CJK font at all: the pages carry the shipped font, served by
our own server, and a browser that has a CJK font of its own does not download it."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

from dangxiao.publishing.gallery import lesson_url
from dangxiao.widgets.fonts import FONT_FAMILY, FONT_PATH

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FONT_URL = "/voila/templates/dangxiao/static/fonts/" + FONT_PATH.name
LATIN_FONT_DIRS = [d for d in ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation")
                   if Path(d).is_dir()]
HAN = re.compile(r"[\u3400-\u9fff]")


@pytest.fixture(scope="module")
def no_cjk_fontconfig(tmp_path_factory) -> dict[str, str]:
    """Environment for a browser that sees Latin system fonts only: a fontconfig of its own."""
    folder = tmp_path_factory.mktemp("fontconfig")
    dirs = "".join(f"<dir>{d}</dir>" for d in LATIN_FONT_DIRS)
    (folder / "fonts.conf").write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd">'
        f"<fontconfig>{dirs}<cachedir>{folder / 'cache'}</cachedir></fontconfig>", encoding="utf-8")
    env = {**os.environ, "FONTCONFIG_FILE": str(folder / "fonts.conf")}
    if shutil.which("fc-list"):  # the premise of every test here: this fontconfig knows no Chinese font
        listed = subprocess.run(["fc-list", ":lang=zh", "family"], env=env, capture_output=True, text=True)
        assert listed.stdout.strip() == "", listed.stdout
    return env


@pytest.fixture(scope="module")
def bare_browser(playwright_driver, support, no_cjk_fontconfig):
    browser = support.launch(playwright_driver, no_cjk_fontconfig)
    yield browser
    browser.close()


@pytest.fixture
def bare_page(bare_browser):
    """A page of the CJK-less browser recording every request that is not for 127.0.0.1 (and refusing it)."""
    context = bare_browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.external_requests, page.font_requests = [], []

    def route(request_route):
        url = request_route.request.url
        if FONT_PATH.name in url:
            page.font_requests.append(url)
        if url.startswith(("http://127.0.0.1:", "data:", "blob:", "about:")):
            request_route.continue_()
        else:
            page.external_requests.append(url)
            request_route.abort()

    context.route("**/*", route)
    yield page
    context.close()


def rendering_fonts(page, selector: str) -> list[dict]:
    """The fonts Chromium actually drew `selector`'s text with (DevTools: CSS.getPlatformFontsForNode)."""
    page.evaluate("document.fonts.ready.then(() => true)")  # no font load still under way
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    assert node, f"{selector} not in the page"
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    cdp.detach()
    return fonts


def assert_han_drawn_with_shipped_font(page, selector: str) -> None:
    text = page.locator(selector).first.inner_text()
    # The browser starts the download itself when text needs the font (font-display: swap).
    page.wait_for_function("[...document.fonts].some(f => f.family.includes('Dangxiao CJK') && f.status === 'loaded')",
                           timeout=60_000)
    han = len(HAN.findall(text))
    assert han, f"{selector} has no Chinese: {text!r}"
    fonts = rendering_fonts(page, selector)
    shipped = [f for f in fonts if f["familyName"] == FONT_FAMILY and f["isCustomFont"]]
    assert shipped and shipped[0]["glyphCount"] >= han, (text, fonts)


def test_gallery_chinese_uses_the_served_font_without_system_cjk(fixture_server, bare_page):
    bare_page.goto(fixture_server.url + "/")
    assert_han_drawn_with_shipped_font(bare_page, "header h1")
    assert_han_drawn_with_shipped_font(bare_page, ".lesson-title")
    # Control: text outside the font stacks has no Chinese font in this browser at all.
    bare_page.evaluate("""() => { const p = document.createElement('p'); p.id = 'control';
        p.style.fontFamily = 'serif'; p.textContent = '党校课程'; document.body.appendChild(p); }""")
    control = rendering_fonts(bare_page, "#control")
    assert all(f["familyName"] != FONT_FAMILY and "CJK" not in f["familyName"] for f in control), control
    (requested,) = bare_page.font_requests
    assert requested.startswith(fixture_server.url + FONT_URL + "?v=")  # versioned: kept for good
    assert bare_page.external_requests == []


def test_lesson_text_and_widgets_use_the_served_font_without_system_cjk(fixture_server, bare_page):
    bare_page.goto(fixture_server.url + lesson_url("/", "t1_quiz.ipynb"), wait_until="commit")
    bare_page.wait_for_selector(".dangxiao-quiz .widget-radio-box label", state="visible", timeout=120_000)
    assert_han_drawn_with_shipped_font(bare_page, ".jp-RenderedMarkdown h1")
    assert_han_drawn_with_shipped_font(bare_page, ".dangxiao-quiz .widget-radio-box label")
    assert bare_page.font_requests and all(url.startswith(fixture_server.url) for url in bare_page.font_requests)
    assert bare_page.external_requests == []


def test_served_font_is_the_shipped_file(fixture_server):
    # The template's copy is a link to the widgets' font in the source tree; an install must keep it whole.
    with urllib.request.urlopen(fixture_server.url + FONT_URL, timeout=60) as response:
        assert response.status == 200
        assert response.read() == FONT_PATH.read_bytes()
    # as the pages ask for it, with its version: kept by the browser for good, never asked again
    page = urllib.request.urlopen(fixture_server.url + "/", timeout=60).read().decode("utf-8")
    (versioned,) = re.findall(re.escape(FONT_URL) + r"\?v=[0-9a-f]+", page)
    with urllib.request.urlopen(fixture_server.url + versioned, timeout=60) as response:
        assert "immutable" in response.headers["Cache-Control"], response.headers["Cache-Control"]


def test_browser_with_its_own_cjk_font_does_not_download_it(fixture_server, browser):
    if not shutil.which("fc-list") or not subprocess.run(
            ["fc-list", ":lang=zh", "family"], capture_output=True, text=True).stdout.strip():
        pytest.skip("this machine has no CJK system font (Debian fonts-noto-cjk)")
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(fixture_server.url + "/")
    fonts = rendering_fonts(page, "header h1")
    context.close()
    assert not any(FONT_PATH.name in url for url in requested), requested
    assert fonts and all(f["familyName"] != FONT_FAMILY for f in fonts), fonts
