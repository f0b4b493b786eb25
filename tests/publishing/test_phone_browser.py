"""Phones: the gallery, a lesson and every widget type at 360 px in a touch browser (Chromium with
is_mobile / has_touch): no horizontal scrolling, touch targets of at least 40 px, every question type
answered by taps, charts within the screen."""
from __future__ import annotations

import re

import pytest

from dangxiao.publishing.gallery import lesson_url

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDGET_TIMEOUT_MS = 120_000
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2, "locale": "zh-CN"}
MIN_TARGET = 40

ALL_WIDGETS = [
    ("md", "# 手机测试：全部组件"),
    ("code", "from dangxiao.widgets import Quiz, Reflection, Scenario, CaseExplorer, indicator_chart, hotline_chart\n"
             "from dangxiao.widgets.scenarios import scenario_path"),
    ("code", "Quiz.inline(id='p-single', type='single', stem='哪一类渠道？', options=['群众诉求渠道', '财政预算渠道'],"
             " answer='群众诉求渠道', reveal=True)"),
    ("code", "Quiz.inline(id='p-multiple', type='multiple', stem='哪些是“三个坚持”？',"
             " options=['坚持党的全面领导', '坚持法治思维', '坚持规模扩张'], answer=['坚持党的全面领导', '坚持法治思维'], reveal=True)"),
    ("code", "Quiz.inline(id='p-truefalse', type='truefalse', stem='热线接收群众诉求。', answer=True, reveal=True)"),
    ("code", "Quiz.inline(id='p-fill', type='fill', stem='____热线', answer='12345', reveal=True)"),
    ("code", "Quiz.inline(id='p-numeric', type='numeric', stem='一加一等于几？', answer=2, reveal=True)"),
    ("code", "Quiz.inline(id='p-matching', type='matching', stem='把地方与做法连起来',"
             " options={'left': ['阳泉市城区', '武汉市江岸区百步亭社区'], 'right': ['一居一律师', '小邻里', '四优四提']},"
             " answer={'阳泉市城区': '一居一律师', '武汉市江岸区百步亭社区': '小邻里'}, reveal=True)"),
    ("code", "Quiz.inline(id='p-ordering', type='ordering', stem='调解步骤排序', options=['受理', '查明事实', '签订协议'],"
             " answer=['受理', '查明事实', '签订协议'], reveal=True)"),
    ("code", "Reflection('p-r1', '你所在的社区最头疼的一件事是什么？')"),
    ("code", "Scenario.from_yaml(scenario_path('dispute'))"),
    ("code", "CaseExplorer()"),
    ("code", "CaseExplorer(compare=True, place='武汉', other_place='法库')"),
    ("code", "indicator_chart(place='阳泉')"),
    ("code", "hotline_chart()"),
]


@pytest.fixture(scope="module")
def phone_server(support, tmp_path_factory):
    courses = tmp_path_factory.mktemp("phone") / "courses"
    support.notebook(courses / "phone.ipynb", ALL_WIDGETS)
    support.notebook(courses / "second.ipynb", [("md", "# 第二课"), ("code", "import ipywidgets as w\nw.Label('第二课')")])
    (courses / "catalog.yaml").write_text(
        "title: 手机测试课程目录\nmodules:\n  - id: p\n    title: 模块一　在手机上学习基层治理课程\n    lessons:\n"
        "      - {id: p-all, title: 全部组件在手机上, notebook: phone.ipynb, minutes: 5}\n"
        "      - {id: p-two, title: 第二课, notebook: second.ipynb, minutes: 5}\n", encoding="utf-8")
    server = support.server(courses, ["--pool-size", "0"]).start()
    yield server
    server.stop()


@pytest.fixture
def phone(browser, request):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page, errors
    context.close()


HORIZONTAL_OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const scrollers = [document.documentElement, document.body, ...document.querySelectorAll('*')].filter(e => {
    const style = getComputedStyle(e);
    return e === document.documentElement || e === document.body || ['auto', 'scroll'].includes(style.overflowX);
  });
  const sideways = scrollers.filter(e => e.scrollWidth > e.clientWidth + 1)
    .map(e => `${e.tagName}.${String(e.className).slice(0, 60)} scrolls ${e.scrollWidth}/${e.clientWidth}`);
  const outside = [...document.querySelectorAll('body *')].filter(e => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && r.right > width + 1 && getComputedStyle(e).visibility !== 'hidden';
  }).map(e => `${e.tagName}.${String(e.className).slice(0, 60)} right ${Math.round(e.getBoundingClientRect().right)}`);
  return [...sideways, ...outside];
}"""

SMALL_TARGETS = """() => {
  const targets = [...document.querySelectorAll(
    'button, select, input[type=text], input[type=number], textarea, a[href], ' +
    '.widget-radio-box label, .jupyter-widget-radio-box label, .widget-checkbox label')];
  return targets.filter(e => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && (r.height < %d || r.width < %d);
  }).map(e => `${e.tagName}.${String(e.className).slice(0, 40)} "${(e.innerText || e.value || '').slice(0, 12)}" ` +
              `${Math.round(e.getBoundingClientRect().width)}x${Math.round(e.getBoundingClientRect().height)}`);
}""" % (MIN_TARGET, MIN_TARGET)


def _feedback(quiz) -> str:
    feedback = quiz.locator(".widget-html").last
    quiz.page.wait_for_function("el => el.innerText.trim().length > 0", arg=feedback.element_handle(), timeout=30_000)
    return feedback.inner_text()


def _submit(quiz) -> str:
    quiz.get_by_role("button", name=re.compile("提交")).tap()
    return _feedback(quiz)


def _quiz(page, label: str):
    return page.locator(".dangxiao-quiz").filter(has_text=label).first


def test_the_gallery_fits_a_phone_and_opens_a_lesson_by_tap(phone_server, phone):
    page, errors = phone
    page.goto(phone_server.url + "/", wait_until="load")
    assert page.evaluate(HORIZONTAL_OVERFLOW) == []
    assert page.evaluate(SMALL_TARGETS) == []
    page.locator("li.lesson[data-lesson-id='p-two'] a").tap()
    page.wait_for_url(re.compile(r"/voila/render/second\.ipynb$"), wait_until="commit")
    assert errors == []


def test_every_widget_type_fits_and_answers_by_touch(phone_server, phone):
    page, errors = phone
    page.goto(phone_server.url + lesson_url("/", "phone.ipynb"), wait_until="commit")
    page.locator(".jp-OutputArea-output img").nth(1).wait_for(state="visible", timeout=WIDGET_TIMEOUT_MS)
    page.locator(".dangxiao-case-explorer").nth(1).wait_for(state="visible", timeout=WIDGET_TIMEOUT_MS)
    assert page.evaluate("matchMedia('(pointer: coarse)').matches")
    assert page.evaluate(HORIZONTAL_OVERFLOW) == []
    assert page.evaluate(SMALL_TARGETS) == []

    quiz = _quiz(page, "哪一类渠道")
    quiz.get_by_text("群众诉求渠道").tap()
    assert "回答正确" in _submit(quiz)

    quiz = _quiz(page, "三个坚持")
    quiz.get_by_text("坚持党的全面领导").tap()
    quiz.get_by_text("坚持法治思维").tap()
    assert "回答正确" in _submit(quiz)

    quiz = _quiz(page, "热线接收群众诉求")
    quiz.get_by_text("正确", exact=True).tap()
    assert "回答正确" in _submit(quiz)

    for label, text in (("____热线", "12345"), ("一加一等于几", "２")):  # a full-width digit, as phones type
        quiz = _quiz(page, label)
        box = quiz.locator("input[type=text]")
        box.tap()
        box.fill(text)
        box.press("Enter")
        assert "回答正确" in _submit(quiz), label

    quiz = _quiz(page, "把地方与做法连起来")
    selects = quiz.locator("select")
    for index, choice in enumerate(("一居一律师", "小邻里")):
        selects.nth(index).tap()
        selects.nth(index).select_option(label=choice)
    assert "回答正确" in _submit(quiz)

    quiz = _quiz(page, "调解步骤排序")
    wanted = ["受理", "查明事实", "签订协议"]
    for _ in range(10):  # bubble the steps into place with the 上移 buttons, one tap at a time
        shown = [re.sub(r"^\d+\.\s*", "", t) for t in quiz.locator(".widget-hbox .widget-html").all_inner_texts()]
        if shown == wanted:
            break
        position = next(i for i, step in enumerate(shown) if step != wanted[i])
        source = shown.index(wanted[position])
        quiz.locator(".widget-hbox").nth(source).get_by_role("button", name="上移").tap()
        page.wait_for_function(
            "([el, before]) => el.innerText !== before",
            arg=[quiz.element_handle(), quiz.inner_text()], timeout=30_000)
    assert "回答正确" in _submit(quiz)

    reflection = page.locator(".dangxiao-reflection").first
    reflection.locator("textarea").tap()
    reflection.locator("textarea").fill("小区加装电梯意见不一")
    page.wait_for_function("el => el.innerText.includes('已写 10 字')", arg=reflection.element_handle(),
                           timeout=30_000)

    scenario = page.locator(".dangxiao-scenario").first
    before = scenario.inner_text()
    scenario.get_by_role("button", name=re.compile("选择 A")).tap()
    page.wait_for_function("([el, before]) => el.innerText !== before", arg=[scenario.element_handle(), before],
                           timeout=30_000)

    explorer = page.locator(".dangxiao-case-explorer").first
    before = explorer.inner_text()
    explorer.locator("select").first.tap()
    explorer.locator("select").first.select_option(label="沈阳")
    panel = explorer.locator(".widget-html").first  # the place's heading and material, not the options
    page.wait_for_function("el => el.innerText.includes('沈阳市')", arg=panel.element_handle(), timeout=30_000)
    assert "阳泉市" not in panel.inner_text() and explorer.inner_text() != before

    # Charts: inside the screen, at their own aspect ratio.
    for image in page.locator(".jp-OutputArea-output img").all():
        box = image.bounding_box()
        natural = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360
        assert abs(box["width"] / box["height"] - natural[0] / natural[1]) < 0.05
    # Nothing grew wider while answering (feedback, the scenario's next step, another place).
    assert page.evaluate(HORIZONTAL_OVERFLOW) == []
    assert page.evaluate(SMALL_TARGETS) == []
    assert errors == []
