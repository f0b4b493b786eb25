"""Light, cached lesson pages: compressed text assets, immutable versioned URLs, only the lab extensions
a lesson uses; a first visit and a repeat visit in Chromium stay within the issue's budget."""
from __future__ import annotations

import gzip
import json
import re
import urllib.error
import urllib.request

import pytest

from dangxiao.publishing.gallery import lesson_url
from dangxiao.publishing.static_cache import (
    IMMUTABLE,
    REVALIDATE,
    is_versioned_url,
    static_tag,
    versioned_static_page_config,
)

FIRST_VISIT_BUDGET = 1_500_000  # bytes transferred (issue 15)
REPEAT_VISIT_BUDGET = 100_000
REPEAT_VISIT_REQUESTS = 10


def fetch(url: str, gzip_ok: bool = True) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"} if gzip_ok else {})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def page_config(html: str) -> dict:
    match = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', html, re.S)
    assert match, "the page has no jupyter-config-data"
    return json.loads(match.group(1))


@pytest.fixture(scope="module")
def lesson_page(fixture_server):
    status, headers, body = fetch(fixture_server.url + lesson_url("/", "t2_plain.ipynb"))
    assert status == 200
    html = gzip.decompress(body).decode() if headers.get("content-encoding") == "gzip" else body.decode()
    return headers, html, page_config(html)


# --- the rules, without a server ---------------------------------------------------------------------

def test_versioned_urls_are_recognised():
    assert is_versioned_url("/voila/labextensions/@jupyter-widgets/jupyterlab-manager/static/84.js", {"v": [b"09c6"]})
    assert is_versioned_url("/voila/labextensions/x/static/remoteEntry.c8c9eed2cdefdeac.js", {})
    assert is_versioned_url("/voila/static/1cb1c39ea642f26a4dfe.woff", {})
    assert not is_versioned_url("/voila/static/7155.voila.js", {})
    assert not is_versioned_url("/voila/static/voila.js", {})
    assert not is_versioned_url("/voila/files/map.png", {})


def test_the_page_font_url_names_the_shipped_file_s_version():
    """The pages ask for the CJK font with `?v=<sha256[:12]>`, kept immutable: a rebuilt font
    (widgets/fonts/make_subset.py) must change that version, or browsers would keep the old one."""
    import hashlib
    import re

    from dangxiao.widgets.fonts import FONT_PATH

    macro = (FONT_PATH.parents[2] / "dangxiao_page.macro.html.j2").read_text(encoding="utf-8")
    (version,) = re.findall(re.escape(FONT_PATH.name) + r"\?v=([0-9a-f]+)", macro)
    assert version == hashlib.sha256(FONT_PATH.read_bytes()).hexdigest()[:12], "update ?v= in the page macro"
    assert is_versioned_url("/voila/templates/dangxiao/static/fonts/" + FONT_PATH.name, {"v": [version.encode()]})


def test_the_static_tag_follows_every_file(tmp_path):
    (tmp_path / "a.js").write_text("one")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.js").write_text("two")
    first = static_tag([str(tmp_path)])
    assert re.fullmatch(r"[0-9a-f]{16}", first)
    (tmp_path / "sub" / "b.js").write_text("three")
    assert static_tag([str(tmp_path)]) != first


def test_the_page_config_hook_points_voila_at_the_versioned_route():
    config = {"fullStaticUrl": "/voila/static", "baseUrl": "/"}
    changed = versioned_static_page_config(config, base_url="/", settings={"dangxiao_static_tag": "0123456789abcdef"})
    assert changed["fullStaticUrl"] == "/voila/static/_v/0123456789abcdef"
    assert config["fullStaticUrl"] == "/voila/static"  # the caller's dict is left alone
    assert versioned_static_page_config(config, base_url="/", settings={}) == config


# --- the server ----------------------------------------------------------------------------------------

def test_voila_chunks_come_compressed_from_the_versioned_route(fixture_server, lesson_page):
    _, _, config = lesson_page
    static = config["fullStaticUrl"]
    assert re.fullmatch(r"/voila/static/_v/[0-9a-f]{16}", static), static
    status, headers, body = fetch(fixture_server.url + static + "/voila.js")
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    assert headers["cache-control"] == IMMUTABLE
    assert "accept-encoding" in headers.get("vary", "").lower()
    plain = gzip.decompress(body)
    assert len(body) < len(plain) / 2
    status, headers, raw = fetch(fixture_server.url + static + "/voila.js", gzip_ok=False)
    assert status == 200 and "content-encoding" not in headers and raw == plain
    # Another tag (a page rendered before an upgrade) is refused, and the route cannot leave its folder.
    assert fetch(fixture_server.url + "/voila/static/_v/0000000000000000/voila.js")[0] == 404
    for escape in ("../../../../etc/passwd", "%2e%2e/%2e%2e/%2e%2e/etc/passwd"):
        status, _, body = fetch(f"{fixture_server.url}{static}/{escape}")
        assert status in (403, 404) and b"root:" not in body


def test_unversioned_and_versioned_urls_get_the_right_cache_headers(fixture_server, lesson_page):
    _, html, config = lesson_page
    # Voila's own unversioned address still works, and is revalidated, never kept by guesswork.
    status, headers, _ = fetch(fixture_server.url + "/voila/static/voila.js")
    assert status == 200 and headers["cache-control"] == REVALIDATE
    # The template's ?v= URLs (stylesheets, voila-style.js) are immutable.
    css = re.search(r'href="(/voila/templates/dangxiao/static/dangxiao\.css\?v=[0-9a-f]+)"', html).group(1)
    status, headers, _ = fetch(fixture_server.url + css)
    assert status == 200 and headers["cache-control"] == IMMUTABLE and headers["content-encoding"] == "gzip"
    # Lab extensions: hashed file names, immutable (stock Voila says no-cache).
    for extension in config["federated_extensions"]:
        url = f"{config['fullLabextensionsUrl']}/{extension['name']}/{extension['load']}"
        status, headers, _ = fetch(fixture_server.url + url)
        assert status == 200 and headers["cache-control"] == IMMUTABLE, url
    # The lesson page itself is compressed while it streams and never cached.
    headers, _, _ = lesson_page
    assert headers["content-encoding"] == "gzip"
    assert "no-store" in headers["cache-control"] or "no-cache" in headers["cache-control"]


def test_a_lesson_loads_only_the_widget_manager_extensions(lesson_page):
    _, _, config = lesson_page
    names = {extension["name"] for extension in config["federated_extensions"]}
    assert names == {"@jupyter-widgets/jupyterlab-manager", "@voila-dashboards/widgets-manager8"}


# --- Chromium --------------------------------------------------------------------------------------------

def _visit(context, url: str) -> dict:
    """Open `url` in a new tab and record what went over the network (CDP Network events)."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    responses: dict[str, dict] = {}
    cdp.on("Network.responseReceived", lambda e: responses.setdefault(e["requestId"], {}).update(
        url=e["response"]["url"], status=e["response"]["status"],
        cached=bool(e["response"].get("fromDiskCache") or e["response"].get("fromPrefetchCache"))))
    cdp.on("Network.requestServedFromCache", lambda e: responses.setdefault(e["requestId"], {}).update(cached=True))
    cdp.on("Network.loadingFinished", lambda e: responses.setdefault(e["requestId"], {}).update(
        bytes=e["encodedDataLength"]))
    sockets: list[str] = []
    cdp.on("Network.webSocketCreated", lambda e: sockets.append(e["url"]))
    page.goto(url, wait_until="commit")
    page.wait_for_selector(".jupyter-widgets", state="visible", timeout=120_000)
    page.wait_for_load_state("networkidle")
    page.close()
    reached = [r for r in responses.values() if "status" in r and not r.get("cached")]
    return {
        "bytes": sum(r.get("bytes", 0) for r in responses.values()),
        "reached": reached,
        "failed": [r for r in responses.values() if r.get("status", 200) >= 400],
        "sockets": sockets,
    }


@pytest.mark.browser
def test_first_and_repeat_visit_fit_the_budget(fixture_server, browser):
    """A lesson with widgets and no formula (t1_quiz adds MathJax and its fonts, ~0.1 MB, which no
    lesson of the catalog uses; m1-l1 measured 1.40 MB)."""
    context = browser.new_context(locale="zh-CN")
    try:
        url = fixture_server.url + lesson_url("/", "t2_plain.ipynb")
        first = _visit(context, url)
        repeat = _visit(context, url)
    finally:
        context.close()
    assert first["failed"] == [] and repeat["failed"] == []
    assert first["bytes"] <= FIRST_VISIT_BUDGET, first["bytes"]
    assert len(first["reached"]) > 50  # the front end really was fetched the first time
    # Requests that reach the server again: the page, its kernel, the kernel WebSocket.
    assert len(repeat["reached"]) + len(repeat["sockets"]) <= REPEAT_VISIT_REQUESTS, repeat["reached"]
    assert repeat["bytes"] <= REPEAT_VISIT_BUDGET, repeat["bytes"]
    assert repeat["sockets"], "the repeat visit must still open its kernel channel"
