"""Make the Chinese font the widgets ship (run by hand; not imported at runtime).

    .venv/bin/python widgets/fonts/make_subset.py [/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc]

Takes the Simplified Chinese face of Noto Sans CJK (SIL Open Font License 1.1; Debian package
fonts-noto-cjk), keeps GB2312 levels 1 and 2, ASCII, general/CJK punctuation, full-width forms and every
character found in the project's datasets and seed articles, renames the family (a Modified Version
must not use the Reserved Font Name "Source"; we also avoid clashing with an installed full Noto), and
writes `NotoSansCJKsc-Regular-subset.otf` and `OFL.txt` where `FONT_PATH` says (the Voila template's
static folder, which serves it to browsers). Needs fontTools (a
matplotlib dependency). Afterwards put the new file's version (first 12 hex digits of its SHA-256) in the
font URL's `?v=` in `dangxiao_page.macro.html.j2`: browsers keep that URL for good (a test checks it).
"""
from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DEFAULT_SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
DEBIAN_COPYRIGHT = Path("/usr/share/doc/fonts-noto-cjk/copyright")
OUTPUT = ROOT / "dangxiao" / "publishing" / "templates" / "voila" / "templates" / "dangxiao" / "static" / "fonts" / "NotoSansCJKsc-Regular-subset.otf"
FAMILY = "Noto Sans CJK SC Subset"
POSTSCRIPT = "NotoSansCJKsc-Subset-Regular"


def gb2312_characters() -> set[str]:
    """Every character of GB2312 (symbols, level-1 and level-2 hanzi)."""
    chars = set()
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                chars.add(bytes([high, low]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return chars


def project_characters() -> set[str]:
    """Characters of the committed data and seed articles (simplified), so no label misses a glyph."""
    texts = []
    for pattern in ("datasets/**/*.csv", "datasets/**/*.yaml", "widgets/scenarios/*.yaml"):
        texts += [p.read_text(encoding="utf-8-sig") for p in ROOT.glob(pattern)]
    seeds = Path("/work/shared/seeds")
    if seeds.is_dir():
        try:
            import opencc

            to_simplified = opencc.OpenCC("t2s")
        except ImportError:  # the seeds are a bonus; GB2312 covers the curriculum's text
            to_simplified = None
        for path in seeds.glob("*.txt"):
            text = path.read_text(encoding="utf-8")
            texts.append(to_simplified.convert(text) if to_simplified else text)
    return {c for text in texts for c in text if ord(c) >= 0x80}


def ranges(*spans: tuple[int, int]) -> set[str]:
    return {chr(c) for start, end in spans for c in range(start, end + 1)}


def main(source: Path) -> None:
    collection = TTCollection(str(source))
    face = next(f for f in collection.fonts if f["name"].getDebugName(1).endswith(" SC"))
    characters = gb2312_characters() | project_characters() | ranges(
        (0x20, 0x7E),      # ASCII
        (0xA0, 0xFF),      # Latin-1 (°, ×, ·)
        (0x2000, 0x206F),  # general punctuation: “ ” ‘ ’ — …
        (0x2150, 0x218F),  # number forms (Ⅰ Ⅱ)
        (0x2190, 0x21FF),  # arrows (→)
        (0x2212, 0x2212),  # minus sign used by matplotlib's tick labels
        (0x2460, 0x24FF),  # enclosed numbers ① ②
        (0x3000, 0x303F),  # CJK symbols and punctuation
        (0xFF00, 0xFFEF),  # full-width forms
    )
    cmap = face.getBestCmap()
    unicodes = sorted(ord(c) for c in characters if ord(c) in cmap)
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.hinting = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=unicodes)
    subsetter.subset(face)

    names = face["name"]
    for record in list(names.names):
        if record.nameID in (1, 16):
            names.setName(FAMILY, record.nameID, record.platformID, record.platEncID, record.langID)
        elif record.nameID == 4:
            names.setName(f"{FAMILY} Regular", 4, record.platformID, record.platEncID, record.langID)
        elif record.nameID == 6:
            names.setName(POSTSCRIPT, 6, record.platformID, record.platEncID, record.langID)
        elif record.nameID == 3:
            names.setName(f"{POSTSCRIPT};dangxiao subset", 3, record.platformID, record.platEncID, record.langID)
    if "CFF " in face:
        cff = face["CFF "].cff
        cff.fontNames = [POSTSCRIPT]
        cff.topDictIndex[0].FullName = f"{FAMILY} Regular"
        cff.topDictIndex[0].FamilyName = FAMILY
    face.save(str(OUTPUT))

    copyright_line = face["name"].getDebugName(0)
    license_text = DEBIAN_COPYRIGHT.read_text(encoding="utf-8").split("License: SIL-1.1\n", 2)[-1]
    license_text = license_text.split("\nLicense: ", 1)[0]
    license_text = "\n".join(line[1:] if line.startswith(" ") else line for line in license_text.splitlines())
    license_text = "\n".join("" if line == "." else line for line in license_text.splitlines())
    (OUTPUT.parent / "OFL.txt").write_text(
        f"{copyright_line}\n"
        f"This file set is a Modified Version (subset, renamed \"{FAMILY}\") of Noto Sans CJK SC,\n"
        f"made by widgets/fonts/make_subset.py from the Debian package fonts-noto-cjk.\n\n"
        f"This Font Software is licensed under the SIL Open Font License, Version 1.1.\n\n"
        f"{license_text.strip()}\n",
        encoding="utf-8",
    )
    print(f"{OUTPUT.name}: {len(unicodes)} characters, {OUTPUT.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SOURCE)
