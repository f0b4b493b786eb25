"""The Chinese font charts and pages use, shipped inside the package (SIL OFL 1.1, see OFL.txt beside it).

`use_cjk_font()` registers the bundled Noto Sans CJK SC subset with matplotlib by path and puts it first
in `font.sans-serif`, so Chinese labels render on a machine with no CJK system font and matplotlib's
font cache (which may predate any installed font) is never relied on. Nothing is written anywhere.
"""
from __future__ import annotations

from pathlib import Path

import dangxiao

__all__ = ["FONT_PATH", "FONT_FAMILY", "use_cjk_font"]

# One copy for charts and pages: Voila serves a template's files only from the template's own static
# folder (and refuses links leading out of it), so the font lives there. `dangxiao.__file__` rather than
# this file's path, because an editable install maps widgets/ from outside the `dangxiao` folder.
FONT_PATH = (Path(dangxiao.__file__).resolve().parent / "publishing" / "templates" / "voila" / "templates"
             / "dangxiao" / "static" / "fonts" / "NotoSansCJKsc-Regular-subset.otf")
FONT_FAMILY = "Noto Sans CJK SC Subset"


def use_cjk_font() -> str:
    """Register the shipped font and make it matplotlib's sans-serif font; return its family name.

    Idempotent: calling it from every chart (and from reports) registers the file once.
    """
    import matplotlib
    from matplotlib import font_manager

    if not any(Path(entry.fname) == FONT_PATH for entry in font_manager.fontManager.ttflist):
        font_manager.fontManager.addfont(str(FONT_PATH))
    families = [FONT_FAMILY] + [f for f in matplotlib.rcParams["font.sans-serif"] if f != FONT_FAMILY]
    matplotlib.rcParams["font.sans-serif"] = families
    matplotlib.rcParams["font.family"] = ["sans-serif"]
    # The shipped font has U+2212, but keep ASCII '-' on ticks so a fallback font never needs it.
    matplotlib.rcParams["axes.unicode_minus"] = False
    return FONT_FAMILY
