"""Figures are read exactly as the articles write them."""
from decimal import Decimal

import pytest

from dangxiao import data
from dangxiao.datasets.figures import FigureError, chinese_to_int, numeral_runs, parse_figure


@pytest.mark.parametrize("text, value, unit, qualifiers", [
    ("15.6万名", Decimal("156000"), "名", ()),
    ("140亿条", Decimal("14000000000"), "条", ()),
    ("95.2%", Decimal("95.2"), "%", ()),
    ("1000万元", Decimal("10000000"), "元", ()),
    ("近10万元", Decimal("100000"), "元", ("近",)),
    ("2400余支", Decimal("2400"), "支", ("余",)),
    ("600余万件", Decimal("6000000"), "件", ("余",)),
    ("近4万人次", Decimal("40000"), "人次", ("近",)),
    ("近一倍", Decimal("1"), "倍", ("近",)),
    ("7.2万个", Decimal("72000"), "个", ()),
])
def test_parse_figure_by_hand(text, value, unit, qualifiers):
    figure = parse_figure(text)
    assert (figure.value, figure.unit, figure.qualifiers, figure.baseline) == (value, unit, qualifiers, None)


def test_growth_text_gives_value_and_baseline():
    figure = parse_figure("36个增至现在的67个")
    assert (figure.value, figure.baseline, figure.unit) == (67, 36, "个")
    assert "增至" in figure.qualifiers


@pytest.mark.parametrize("text", ["万元", "15", "36个增至现在的67名", "12个3"])
def test_unreadable_figures_are_refused(text):
    with pytest.raises(FigureError):
        parse_figure(text)


@pytest.mark.parametrize("numeral, value", [("一", 1), ("十", 10), ("十八", 18), ("二十", 20), ("一百二十", 120), ("两", 2)])
def test_chinese_numerals(numeral, value):
    assert chinese_to_int(numeral) == value


def test_numeral_runs_find_arabic_and_counted_chinese_numerals_but_not_ordinals():
    runs = [run for _, _, run in numeral_runs("出台“5+5”系列文件，选派第一书记，健全五级架构，共15.6万名")]
    assert runs == ["5", "5", "五级", "15.6"]


@pytest.mark.parametrize("text, value, baseline", [
    ("15.6万名", 156000, None),
    ("140亿条", 14000000000, None),
    ("95.2%", 95.2, None),
    ("36个增至现在的67个", 67, 36),
    ("1000万元", 10000000, None),
    ("3503个", 3503, None),
    ("近一倍", 1, None),
    ("15分钟", 15, None),
])
def test_indicator_dataset_holds_exact_values(text, value, baseline):
    rows = data.indicators().query("text == @text")
    assert len(rows) == 1, text
    row = rows.iloc[0]
    assert row["value"] == value
    assert (baseline is None and row["baseline"] != row["baseline"]) or row["baseline"] == baseline


def test_indicator_columns_are_typed_and_every_place_known():
    frame = data.indicators()
    assert str(frame["value"].dtype) == "float64" and str(frame["baseline"].dtype) == "float64"
    assert set(frame["place"]) <= set(data.places()["place"])
    assert frame.loc[frame["text"] == "1000万元", "source"].item() == "yangquan"
