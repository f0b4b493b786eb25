"""Nothing of the instructor's side can be fetched through the server: not by URL, `..`, percent-encoded
traversal, or any files/contents/static endpoint. Every instructor file of the fixture project holds a
canary string; no response may contain it."""
from __future__ import annotations

import itertools
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

CANARY = "DANGXIAO-CANARY-7f3a9c"  # the same string conftest writes into the fixture project

# Paths relative to courses/ (the server's root) of instructor-side files of the fixture project.
TARGETS = [
    "../assignments/source/a01/a01.ipynb",
    "../assignments/source/a01/solution.py",
    "../assignments/gradebook.db",
    "../assignments/nbgrader_config.py",
    "../assignments/submitted/student1/a01/a01.ipynb",
    "../assignments/submitted/student1/a01/answers.json",
    # Inside courses/ but not lessons: sources, secrets, data, a draft notebook.
    "helper_secret.py",
    ".env",
    "data.csv",
    "draft_unlisted.ipynb",
    "t1_quiz.ipynb",  # a lesson's source: rendered as an app, never downloaded
]

PREFIXES = [
    "/", "/files/", "/voila/files/", "/api/contents/", "/voila/api/contents/", "/static/", "/voila/static/",
    "/voila/render/", "/voila/tree/", "/voila/templates/dangxiao/static/", "/voila/templates/lab/static/",
    "/voila/labextensions/", "/tree/", "/notebooks/", "/view/", "/nbconvert/html/", "/edit/",
]


def encodings(path: str, absolute: Path) -> list[str]:
    deep = "../" * 12 + str(absolute).lstrip("/")  # climb to / and come down to the file
    variants = {path, deep, str(absolute), "voila/render/../" + path}
    for text in list(variants):
        variants.add(text.replace("/", "%2F"))
        variants.add(text.replace("../", "..%2f"))
        variants.add(text.replace("..", "%2e%2e"))
        variants.add(text.replace("..", "%252e%252e").replace("/", "%252f"))
        variants.add(text.replace("/", "\\"))
    return sorted(variants)


def test_canaries_exist_on_disk(fixture_project, support):
    assert support.canary == CANARY
    # Guards the test itself: every target really exists and really holds the canary.
    for target in TARGETS:
        path = (fixture_project / "courses" / target).resolve()
        assert path.exists(), target
        marker = "lesson-source-must-stay-hidden" if target == "t1_quiz.ipynb" else CANARY
        assert marker in path.read_text(encoding="utf-8", errors="replace")


def test_no_route_reaches_an_instructor_file(fixture_server, fixture_project, support):
    courses = fixture_project / "courses"
    urls = [
        prefix + variant
        for target, prefix in itertools.product(TARGETS, PREFIXES)
        for variant in encodings(target, (courses / target).resolve())
    ]
    assert len(urls) > 1000

    def probe(url):
        status, body = support.get(fixture_server.url + url)
        leaked = CANARY in body or "lesson-source-must-stay-hidden" in body
        # Rendering the lesson itself as an app is the one legitimate 200 (its source stays hidden).
        allowed = status in (400, 403, 404, 405) or (url == "/voila/render/t1_quiz.ipynb" and status == 200)
        return None if allowed and not leaked else (url, status, leaked)

    with ThreadPoolExecutor(max_workers=8) as pool:
        failures = [failure for failure in pool.map(probe, urls) if failure]
    assert failures == []


def test_unlisted_notebook_in_courses_does_not_render(fixture_server, support):
    http_get = support.get
    status, body = http_get(fixture_server.url + "/voila/render/draft_unlisted.ipynb")
    assert status == 404
    assert CANARY not in body
    assert "页面不存在" in body


def test_lesson_page_has_no_source_and_no_cdn_even_when_asked(fixture_server, support):
    http_get = support.get
    # ?template=lab would bring back the stock CDN links; overrides are refused.
    for query in ("", "?template=lab"):
        status, body = http_get(fixture_server.url + "/voila/render/t1_quiz.ipynb" + query)
        assert status == 200, query
        assert "lesson-source-must-stay-hidden" not in body
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", body), query


def test_directory_listings_are_gone(fixture_server, support):
    http_get = support.get
    for path in ("/voila/tree", "/voila/tree/", "/voila/api/contents", "/voila/api/contents/", "/api/contents", "/api/kernels", "/api/sessions"):
        status, body = http_get(fixture_server.url + path)
        assert status in (403, 404, 405), path
        assert "draft_unlisted" not in body and "helper_secret" not in body, path


def test_tracebacks_are_off_by_default(fixture_server, support):
    status, body = support.get(fixture_server.url + "/voila/render/t3_broken.ipynb")
    assert status == 200
    assert "前半部分" in body  # the cells before the error still render
    assert CANARY not in body
    assert "Traceback" not in body and "RuntimeError" not in body
