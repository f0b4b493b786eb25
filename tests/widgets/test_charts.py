"""Charts: figures from the dataset by code, Chinese with zero missing glyphs on a machine with no CJK font."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from matplotlib.text import Text

from dangxiao.errors import DangxiaoError
from dangxiao.widgets import hotline_chart, indicator_chart
from dangxiao.widgets.fonts import FONT_PATH


def _texts(figure) -> list[str]:
    return [t.get_text() for t in figure.findobj(Text) if t.get_text()]


def test_bars_carry_the_exact_figures_and_units_pick_the_axis(fake_data):
    figure = indicator_chart("武汉")
    axes = figure.axes[0]
    assert axes.get_xscale() == "log"  # 个 and % on one axis
    labels = [t.get_text() for t in axes.texts]
    assert sorted(labels) == sorted(["3503个", "36个增至现在的67个", "95.2%"])
    assert sorted(p.get_width() for p in axes.patches) == [67.0, 95.2, 3503.0]
    assert "武汉市：主要数字" in _texts(figure)
    assert any("来源：《测试标题乙》" in t for t in _texts(figure))

    same_unit = indicator_chart(indicators=["调解中心", "wh-2"])
    assert same_unit.axes[0].get_xscale() == "linear"
    assert "单位：个" in same_unit.axes[0].get_xlabel()


def test_line_chart_goes_from_baseline_to_now(fake_data):
    figure = indicator_chart("武汉", kind="line")
    (line,) = figure.axes[0].get_lines()
    assert list(line.get_ydata()) == [36.0, 67.0]
    with pytest.raises(DangxiaoError, match="无法画折线图"):
        indicator_chart("阳泉", kind="line")


def test_unknown_place_indicator_or_kind_is_a_clear_error(fake_data):
    with pytest.raises(DangxiaoError, match="没有指标"):
        indicator_chart(indicators=["不存在的指标"])
    with pytest.raises(DangxiaoError, match="没有可画的数字"):
        indicator_chart("法库")
    with pytest.raises(DangxiaoError, match="kind"):
        indicator_chart(kind="pie")


def test_hotline_charts_say_simulated(fake_data):
    for figure in (hotline_chart(), hotline_chart(by="district"), hotline_chart(kind="line")):
        assert "模拟数据" in figure.axes[0].get_title()
    assert sorted(p.get_width() for p in hotline_chart().axes[0].patches) == [1, 2]


def test_shipped_font_covers_every_character_the_charts_and_explorer_show():
    from fontTools.ttLib import TTFont

    from dangxiao import data

    cmap = TTFont(FONT_PATH, lazy=True).getBestCmap()
    columns = {"indicators": ["place", "indicator", "unit", "text"], "sources": ["title", "author"],
               "measures": ["name", "description"], "quotations": ["speaker", "text"],
               "hotline": ["district", "category", "status"]}
    missing = {c for table, names in columns.items() for name in names
               for value in getattr(data, table)()[name].dropna().astype(str) for c in value
               if not c.isspace() and ord(c) not in cmap}
    assert not missing, f"字体缺字 / glyphs missing from the shipped font: {''.join(sorted(missing))}"


CLEAN_SCRIPT = textwrap.dedent("""\
    import io, json, logging, warnings
    from matplotlib import font_manager
    from matplotlib.figure import Figure
    from matplotlib.text import Text

    logged = []
    class Collect(logging.Handler):
        def emit(self, record):
            logged.append(record.getMessage())
    logging.getLogger("matplotlib").addHandler(Collect(level=logging.WARNING))

    # Control: without the shipped font this machine must show missing glyphs (so the check can fail).
    with warnings.catch_warnings(record=True) as control:
        warnings.simplefilter("always")
        figure = Figure()
        figure.add_subplot().set_title("基层治理")
        figure.savefig(io.BytesIO(), format="png")
    control_glyphs = [str(w.message) for w in control if "missing from" in str(w.message)]

    warnings.simplefilter("error")  # from here on, any warning (a missing glyph included) is an error
    from dangxiao.widgets import hotline_chart, indicator_chart
    from dangxiao.widgets.fonts import FONT_PATH
    figures = [indicator_chart(p) for p in ("阳泉", "武汉", "银川")]
    figures += [indicator_chart(kind="line"), hotline_chart(), hotline_chart(by="district"),
                hotline_chart(kind="line")]
    used = set()
    for figure in figures:
        figure.savefig(io.BytesIO(), format="png")
        for text in figure.findobj(Text):
            if text.get_text():
                used.add(font_manager.findfont(text.get_fontproperties(), fallback_to_default=False))
    print(json.dumps({"control": control_glyphs, "logged": logged, "used": sorted(used),
                      "shipped": str(FONT_PATH)}))
""")


def test_charts_render_chinese_with_zero_missing_glyphs_in_a_clean_environment(tmp_path):
    empty_fontconfig = tmp_path / "fonts.conf"
    empty_fontconfig.write_text('<?xml version="1.0"?>\n<fontconfig></fontconfig>\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MPL", "FONTCONFIG", "PYTHONWARNINGS"))}
    env.update(MPLCONFIGDIR=str(tmp_path / "mpl"), FONTCONFIG_FILE=str(empty_fontconfig),
               XDG_CACHE_HOME=str(tmp_path / "cache"), HOME=str(tmp_path), MPLBACKEND="Agg")
    result = subprocess.run([sys.executable, "-W", "error", "-c", CLEAN_SCRIPT], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["control"], "the check must see missing glyphs when the shipped font is not used"
    assert report["logged"] == []
    assert report["used"] == [report["shipped"]]  # every label drawn with the shipped file, not a system font


def test_use_cjk_font_registers_the_file_once_and_puts_it_first():
    import matplotlib
    from matplotlib import font_manager

    from dangxiao.widgets.fonts import FONT_FAMILY, use_cjk_font

    assert use_cjk_font() == use_cjk_font() == FONT_FAMILY
    entries = [e for e in font_manager.fontManager.ttflist if e.fname == str(FONT_PATH)]
    assert len(entries) == 1 and entries[0].name == FONT_FAMILY
    assert matplotlib.rcParams["font.sans-serif"][0] == FONT_FAMILY
    assert FONT_PATH.stat().st_size < 5_000_000
    assert (FONT_PATH.parent / "OFL.txt").read_text(encoding="utf-8").count("SIL OPEN FONT LICENSE") == 1


def test_large_values_are_ticked_in_wan_and_yi_not_scientific_notation():
    from dangxiao.widgets.charts import _chinese_tick

    assert [_chinese_tick(v) for v in (5, 3503, 72000, 1e7, 1.4e10)] == ["5", "3503", "7.2万", "1000万", "140亿"]
