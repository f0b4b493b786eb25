"""Fixtures for the widget tests: a small question bank in a tmp folder and small stand-in datasets."""
from __future__ import annotations

import textwrap

import pandas as pd
import pytest

BANK_YAML = textwrap.dedent("""\
    module: t1
    title: 测试题库
    questions:
      - id: t1-single
        type: single
        level: 理解
        difficulty: 易
        stem: 推进基层治理现代化的根本保证是什么？
        options: [坚持党的全面领导, 增加经费, 扩大编制]
        answer: 坚持党的全面领导
        explanation: 党的领导是根本保证。
        source: yangquan
      - id: t1-multiple
        type: multiple
        level: 理解
        difficulty: 易
        stem: 下列哪些属于“三个坚持”？
        options: [坚持党的全面领导, 坚持法治思维, 坚持改革创新, 坚持规模扩张]
        answer: [坚持党的全面领导, 坚持法治思维, 坚持改革创新]
        explanation: 三个坚持即领导、法治、改革。
        source: yangquan
      - id: t1-truefalse
        type: truefalse
        level: 理解
        difficulty: 易
        stem: 枫桥经验强调把矛盾化解在基层。
        answer: true
        explanation: 小事不出村。
        source: wuhan
      - id: t1-fill
        type: fill
        level: 理解
        difficulty: 易
        stem: 村居法律顾问制度的目标是一居（村）一____。
        answer: 律师
        accepted: [名律师]
        explanation: 一居（村）一律师。
        source: yangquan
      - id: t1-numeric
        type: numeric
        level: 理解
        difficulty: 易
        stem: 群众满意率是多少（%）？
        answer: 95.2
        tolerance: 0.05
        explanation: 原文为 95.2%。
        source: wuhan
      - id: t1-matching
        type: matching
        level: 理解
        difficulty: 易
        stem: 把地方与做法连起来。
        pairs: {阳泉: 一居一律师, 武汉: 小邻里, 银川: 四优四提}
        explanation: 各地做法不同。
        source: yinchuan
      - id: t1-ordering
        type: ordering
        level: 理解
        difficulty: 易
        stem: 把调解步骤排好顺序。
        items: [受理, 查明事实, 组织调解, 签订协议]
        explanation: 先查明事实再调解。
        source: wuhan
    """)

# For each type: a right response and a wrong one, in the shape Question.is_correct expects.
RIGHT = {
    "t1-single": "坚持党的全面领导",
    "t1-multiple": ["坚持党的全面领导", "坚持法治思维", "坚持改革创新"],
    "t1-truefalse": True,
    "t1-fill": "名律师",
    "t1-numeric": 95.2,
    "t1-matching": {"阳泉": "一居一律师", "武汉": "小邻里", "银川": "四优四提"},
    "t1-ordering": ["受理", "查明事实", "组织调解", "签订协议"],
}
WRONG = {
    "t1-single": "增加经费",
    "t1-multiple": ["坚持党的全面领导"],
    "t1-truefalse": False,
    "t1-fill": "法官",
    "t1-numeric": 95.3,
    "t1-matching": {"阳泉": "小邻里", "武汉": "一居一律师", "银川": "四优四提"},
    "t1-ordering": ["查明事实", "受理", "组织调解", "签订协议"],
}


@pytest.fixture
def bank(tmp_path):
    folder = tmp_path / "bank"
    folder.mkdir()
    (folder / "t1.yaml").write_text(BANK_YAML, encoding="utf-8")
    return folder


def fake_tables() -> dict[str, pd.DataFrame]:
    nan = float("nan")
    return {
        "sources": pd.DataFrame([
            {"id": "yangquan", "file": "000.txt", "title": "测试标题甲", "author": "作者甲", "date": "", "place": "阳泉市",
             "place_en": "Yangquan", "script": "simplified"},
            {"id": "wuhan", "file": "002.txt", "title": "测试标题乙", "author": "", "date": "", "place": "武汉市",
             "place_en": "Wuhan", "script": "simplified"},
            {"id": "yinchuan", "file": "003.txt", "title": "测试标题丙", "author": "作者丙", "date": "", "place": "银川市",
             "place_en": "Yinchuan", "script": "traditional"},
        ]),
        "places": pd.DataFrame([{"place": "阳泉市", "place_en": "Yangquan", "source": "yangquan"},
                                {"place": "武汉市", "place_en": "Wuhan", "source": "wuhan"}]),
        "measures": pd.DataFrame([
            {"id": "yq-m1", "place": "阳泉市", "name": "一居一律师", "description": "每个村居配法律顾问。", "source": "yangquan"},
            {"id": "wh-m1", "place": "武汉市", "name": "小邻里", "description": "把社区划小。", "source": "wuhan"},
        ]),
        "indicators": pd.DataFrame([
            {"id": "wh-1", "place": "武汉市", "indicator": "调解中心", "value": 3503.0, "unit": "个", "qualifier": "",
             "baseline": nan, "text": "3503个", "source": "wuhan"},
            {"id": "wh-2", "place": "武汉市", "indicator": "街道平均编制数", "value": 67.0, "unit": "个", "qualifier": "增至",
             "baseline": 36.0, "text": "36个增至现在的67个", "source": "wuhan"},
            {"id": "wh-3", "place": "武汉市", "indicator": "群众满意率", "value": 95.2, "unit": "%", "qualifier": "达",
             "baseline": nan, "text": "95.2%", "source": "wuhan"},
            {"id": "yq-1", "place": "阳泉市", "indicator": "扶持资金", "value": 1e7, "unit": "元", "qualifier": "",
             "baseline": nan, "text": "1000万元", "source": "yangquan"},
        ]),
        "quotations": pd.DataFrame([
            {"id": "yq-q1", "speaker": "某领导", "text": "测试原话一句", "source": "yangquan", "note": ""},
            {"id": "wh-q1", "speaker": "某文件", "text": "测试原话二句", "source": "wuhan", "note": ""},
        ]),
        "hotline": pd.DataFrame([
            {"record_id": "SIM-1", "district": "东区", "category": "物业管理", "received_at": pd.Timestamp("2023-01-02"),
             "closed_at": pd.Timestamp("2023-01-03"), "satisfaction": 4, "status": "已办结"},
            {"record_id": "SIM-2", "district": "西区", "category": "物业管理", "received_at": pd.Timestamp("2023-02-02"),
             "closed_at": pd.NaT, "satisfaction": None, "status": "办理中"},
            {"record_id": "SIM-3", "district": "西区", "category": "噪音扰民", "received_at": pd.Timestamp("2023-02-05"),
             "closed_at": pd.NaT, "satisfaction": None, "status": "办理中"},
        ]),
    }


def answer_through_controls(quiz, value) -> None:
    """Set an answer the way a trainee does: radio buttons, ticks, typing, drop-downs, arrow buttons."""
    kind = quiz.spec.type
    if kind in ("single", "truefalse"):
        quiz.control.value = value
    elif kind == "multiple":
        for box in quiz.checkboxes:
            box.value = box.description in value
    elif kind in ("fill", "numeric"):
        quiz.control.value = str(value)
    elif kind == "matching":
        for left, right in value.items():
            quiz.dropdowns[left].value = right
    else:  # ordering: press 上移 until each step sits in its place
        for target, item in enumerate(value):
            position = quiz.order.index(item)
            while position > target:
                quiz.order_buttons[position][0].click()
                position -= 1


@pytest.fixture
def fake_data(monkeypatch):
    """Replace the `dangxiao.data` loaders the widgets read with small known tables."""
    from dangxiao import data

    tables = fake_tables()
    for name, frame in tables.items():
        monkeypatch.setattr(data, name, lambda frame=frame: frame.copy())
    return tables


@pytest.fixture
def right():
    return RIGHT


@pytest.fixture
def wrong():
    return WRONG


@pytest.fixture
def answer():
    return answer_through_controls
