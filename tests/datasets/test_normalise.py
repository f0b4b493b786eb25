"""Normalisation: chrome, pinyin and traditional characters out; genuine parentheses kept."""
import pytest

from dangxiao.datasets.build import normalise
from dangxiao.datasets.normalise import strip_pinyin, to_simplified


@pytest.mark.parametrize("raw, clean", [
    ("現(xiàn)代化", "現代化"),
    ("建設(shè)試點(diǎn)城市", "建設試點城市"),
    ("村(社區(qū))職能歸位", "村(社區)職能歸位"),
    ("(執(zhí)筆:馬建英)", "(執筆:馬建英)"),
    ("(2024lslybkt-078)", "(2024lslybkt-078)"),
    ("乡镇(街道)党(工)委", "乡镇(街道)党(工)委"),
])
def test_strip_pinyin_keeps_genuine_parentheses(raw, clean):
    assert strip_pinyin(raw) == clean


def test_t2s_conversion():
    assert to_simplified("黨建引領 寫實基層治理大文章") == "党建引领 写实基层治理大文章"
    assert to_simplified("羣眾") == "群众"


def test_forum_chrome_is_dropped(tmp_path):
    path = tmp_path / "000_test.txt"
    path.write_text("版块 组织振兴\n积分\n2948508\n雷健坤(市委书记)\n  正文一段。(来源:某周刊)\n\n回复\n收藏:1 | 帖子:3002\n",
                    encoding="utf-8")
    assert normalise(path) == "雷健坤(市委书记)\n正文一段。(来源:某周刊)\n"


def test_site_header_and_footer_are_dropped(tmp_path):
    path = tmp_path / "002_test.txt"
    path.write_text("党校工作动态\n\n您现在的位置是: 首页\n\n标题\n正文。\n\n版权所有©某学院\n联系电话:0431-1\n",
                    encoding="utf-8")
    assert normalise(path) == "标题\n正文。\n"


def test_the_five_articles_normalise(seeds):
    texts = {path.name[:3]: normalise(path) for path in sorted(seeds.glob("0*.txt"))}
    assert texts["000"].startswith("雷健坤(") and texts["000"].rstrip().endswith("》)")
    assert "回复" not in texts["000"] and "积分" not in texts["000"]
    assert "版权所有" not in texts["002"] and "您现在的位置" not in texts["002"] and "0431" not in texts["002"]
    assert texts["001"].rstrip().endswith("研究成果】")
    assert "(xiàn)" not in texts["003"] and "现代化" in texts["003"] and "“一张网”" in texts["003"]
    for prefix in ("003", "004"):
        assert not set("黨們國體會網與對這") & set(texts[prefix]), prefix
    assert "党建引领 写实基层治理大文章" in texts["004"]
