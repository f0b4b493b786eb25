"""Case explorer: a place's measures, exact figures and verbatim quotations (in “”, source cited)."""
from __future__ import annotations

import html

from dangxiao.widgets import CaseExplorer
from dangxiao.widgets.explorer import place_summary_html


def test_one_place_shows_its_measures_figures_and_quoted_words(fake_data):
    explorer = CaseExplorer()
    assert explorer.place == "阳泉市"
    panel = explorer.panel.value
    assert "一居一律师" in panel and "每个村居配法律顾问。" in panel
    assert "1000万元" in panel
    assert "某领导：“测试原话一句”" in panel and "出处：《测试标题甲》（作者甲）" in panel
    assert "小邻里" not in panel and "测试原话二句" not in panel  # nothing from another place


def test_picking_another_place_updates_the_panel(fake_data):
    explorer = CaseExplorer()
    explorer.place_picker.value = "武汉市"
    assert explorer.place == "武汉市"
    assert "小邻里" in explorer.panel.value and "36个增至现在的67个" in explorer.panel.value
    assert "一居一律师" not in explorer.panel.value
    explorer.place = "法库县"  # a place with no rows in the fixture: said so, no crash
    assert explorer.place_picker.value == "法库县" and "暂无" in explorer.panel.value


def test_compare_shows_two_places_side_by_side(fake_data):
    explorer = CaseExplorer(compare=True, place="阳泉", other_place="武汉")
    left, right = explorer.panels
    assert "一居一律师" in left.value and "小邻里" in right.value
    explorer.other_picker.value = "阳泉市"
    assert right.value == left.value


def test_real_datasets_every_quotation_of_a_place_appears_verbatim():
    from dangxiao import data

    quotations, places = data.quotations(), data.places()
    for _, place in places.iterrows():
        panel = html.unescape(place_summary_html(place["place"]))
        for _, quote in quotations[quotations["source"] == place["source"]].iterrows():
            assert f"“{quote['text']}”" in panel
        for _, figure in data.indicators().query("place == @place['place']").iterrows():
            assert figure["text"] in panel


def test_real_datasets_every_measure_shows_whether_it_is_practice_or_proposal():
    from dangxiao import data
    from dangxiao.widgets.explorer import STATUS_LABELS

    measures = data.measures()
    assert set(measures["status"]) == set(STATUS_LABELS)  # both kinds occur, nothing else
    for place, rows in measures.groupby("place"):
        panel = html.unescape(place_summary_html(place))
        for _, measure in rows.iterrows():
            label = STATUS_LABELS[measure["status"]][0]
            assert f"{measure['name']}</b><span class='dx-status'" in panel
            item = panel.split(f"<b>{measure['name']}</b>", 1)[1].split("</li>", 1)[0]
            assert label in item, (measure["id"], measure["status"])
    faku = html.unescape(place_summary_html("法库县"))
    assert "文章提出的建议" in faku and "已报道的做法" not in faku  # Faku's article gives countermeasures only
