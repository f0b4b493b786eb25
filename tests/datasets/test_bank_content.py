"""The bank's wording against the five articles: no copied prose, formulations exact, proposals as proposals,
Chinese punctuation, hotline facts true of the 模拟数据, and the ids the lessons embed still there."""
from __future__ import annotations

import csv
import json
import re

import pytest

from dangxiao import data
from dangxiao.questions import load_bank

from .conftest import DATASETS, REPO

BANK = DATASETS / "questions"
COPY_RUN = 20
QUOTED = re.compile(r"“[^“”]*”|‘[^‘’]*’|《[^《》]*》")
PUNCTUATION = re.compile(r"[\W_]+")  # everything but letters and digits: the check ignores punctuation entirely


def _texts(question) -> list[tuple[str, str]]:
    """(field, text) for every piece of a question a trainee or grader reads."""
    texts = [("stem", question.stem), ("explanation", question.explanation)]
    texts += [("options", o) for o in question.options] + [("items", i) for i in question.items]
    texts += [("pairs", f"{left}\u2028{right}") for left, right in question.pairs]
    texts += [("rubric", criterion) for criterion, _ in question.rubric]
    texts += [("key_points", text) for text, _ in question.key_points]
    return texts


def copied_runs(text: str, articles: dict[str, str], length: int = COPY_RUN) -> list[tuple[str, str]]:
    """Runs of ≥ `length` letters shared with an article, outside quotation marks, ignoring all punctuation."""
    found = []
    for chunk in QUOTED.sub("\u2028", text).split("\u2028"):
        letters = PUNCTUATION.sub("", chunk)
        start = 0
        while start + length <= len(letters):
            run = letters[start:start + length]
            source = next((key for key, article in articles.items() if run in article), None)
            if source is None:
                start += 1
                continue
            end = start + length
            while end < len(letters) and letters[start:end + 1] in articles[source]:
                end += 1
            found.append((source, letters[start:end]))
            start = end
    return found


@pytest.fixture(scope="module")
def bank():
    return load_bank(BANK)


@pytest.fixture(scope="module")
def articles():
    from dangxiao.datasets.build import normalised_sources

    from .conftest import SEEDS

    if not (SEEDS / "SOURCES.md").is_file():
        pytest.skip(f"source articles not found at {SEEDS}")
    with (DATASETS / "sources.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {key: PUNCTUATION.sub("", text) for key, text in normalised_sources(SEEDS, rows).items()}


def test_the_copy_check_ignores_punctuation_and_spares_quotations():
    articles = {"a": PUNCTUATION.sub("", "基层治理必须要在宪法和法律的框架内进行，充分发挥法治的保障作用。")}
    assert copied_runs("基层治理必须要在宪法、和法律的框架内进行；充分发挥", articles) == [
        ("a", "基层治理必须要在宪法和法律的框架内进行充分发挥")]
    assert copied_runs("文章说“基层治理必须要在宪法和法律的框架内进行，充分发挥”。", articles) == []
    assert copied_runs("基层治理要在宪法和法律框架内进行，用法治方式破解难题。", articles) == []


def test_no_item_copies_twenty_characters_of_an_article(bank, articles):
    copied = [f"{q.file}: {q.id}: {field}: {source}: {run}"
              for q in bank.values() for field, text in _texts(q) for source, run in copied_runs(text, articles)]
    assert copied == []


def test_every_quoted_formulation_of_more_than_eight_characters_is_in_an_article(bank, articles):
    """A long span in quotation marks presents itself as the source's words: it must be them."""
    misquoted = []
    for q in bank.values():
        for field, text in _texts(q):
            for span in re.findall(r"“([^“”]*)”", text):
                letters = PUNCTUATION.sub("", span)
                if len(letters) > 8 and not any(letters in article for article in articles.values()):
                    misquoted.append(f"{q.id}: {field}: “{span}”")
    assert misquoted == []


# Official formulations and names of mechanisms, exactly as the sources give them (punctuation aside).
FORMULATIONS = [
    "权随责走、费随事转，人随事走",      # yinchuan; issue 14: a debrief had reversed it as 事随费走
    "组织联建、工作联抓、资源联享、力量联强",  # yangquan
    "党建统领、制度支撑、链接产业、抱团发展",  # shenyang (the authors' proposal)
    "精细管理、共建发展、服务群众",        # faku (a countermeasure)
    "自治、法治、德治",
    "街乡吹哨、部门报到",
    "四议两公开一监督",                # yinchuan
    "四议一审两公开",                  # faku
]


@pytest.mark.parametrize("formulation", FORMULATIONS)
def test_formulations_are_exact_wherever_they_are_used(bank, articles, formulation):
    letters = PUNCTUATION.sub("", formulation)
    assert any(letters in article for article in articles.values()), formulation
    head = letters[:4]
    for q in bank.values():
        for field, text in _texts(q):
            flat = PUNCTUATION.sub("", text)
            for match in re.finditer(re.escape(head), flat):
                assert flat.startswith(letters, match.start()), f"{q.id}: {field}: {text}"


def test_altered_formulations_named_in_the_issue_are_gone(bank):
    for q in bank.values():
        for field, text in _texts(q):
            assert "事随费走" not in text and "事随人办" not in text, f"{q.id}: {field}"


def test_no_half_width_brackets_or_commas_in_chinese_text(bank):
    half_width = re.compile(r"[\u4e00-\u9fff][(),;:?!]|[(),;:?!][\u4e00-\u9fff]")
    bad = [f"{q.id}: {field}: {text}" for q in bank.values() for field, text in _texts(q) if half_width.search(text)]
    assert bad == []


def test_proposals_are_worded_as_proposals(bank):
    """Items tagged 建议 say so: 建议 / 对策 / 主张 / 提出 in the stem, the answer or the explanation."""
    tagged = [q for q in bank.values() if "建议" in q.tags]
    assert len(tagged) >= 8
    for q in tagged:
        said = q.stem + q.explanation + str(q.answer)
        assert re.search("建议|对策|主张|提出", said), q.id
    # The Faku countermeasure m3-q06 used to present as practice is no longer paired with Faku.
    assert "法库县" not in dict(bank["m3-q06"].pairs) and "对策建议" in bank["m3-q06"].explanation


def test_hotline_facts_in_the_stems_are_true_of_the_simulated_data(bank):
    frame = data.hotline()
    hours = (frame["closed_at"] - frame["received_at"]).dt.total_seconds() / 3600
    liuan = hours[frame["district"] == "柳岸区"]
    assert round(liuan.mean()) == 87 and round(liuan.median()) == 51  # m4-q12
    assert "约为87小时" in bank["m4-q12"].stem and "约为51小时" in bank["m4-q12"].stem
    counts = frame["district"].value_counts()
    assert counts.idxmax() == "晓岚区" and counts.idxmin() == "听涛区"  # m4-q11, m4-q14
    satisfaction = frame.groupby(["district", "category"])["satisfaction"].mean()
    assert satisfaction.idxmin() == ("柳岸区", "物业管理")  # m4-q17, m4-q19, m4-q31
    slow = frame.loc[liuan[liuan > liuan.quantile(0.9)].index, "category"].value_counts()
    assert slow.idxmax() == "物业管理" and slow.iloc[0] > slow.iloc[1:].sum()  # m4-q12: the slow tail is 物业管理
    for qid, question in bank.items():
        if question.module == "m4" and "模拟数据" in question.tags:
            assert "模拟数据" in question.stem, qid


# The ids and types the lessons were written for: a lesson embedding one must keep working.
LESSON_TYPES = {
    "m1-q01": "single", "m1-q02": "multiple", "m1-q03": "truefalse", "m1-q04": "matching", "m1-q05": "ordering",
    "m1-q06": "numeric", "m1-q07": "fill", "m1-q08": "single", "m1-q09": "truefalse", "m1-q10": "single",
    "m1-q11": "multiple", "m2-q01": "single", "m2-q02": "truefalse", "m2-q03": "multiple", "m2-q04": "fill",
    "m2-q05": "matching", "m2-q06": "numeric", "m2-q07": "single", "m2-q08": "ordering", "m2-q09": "truefalse",
    "m2-q10": "single", "m2-q11": "fill", "m3-q01": "numeric", "m3-q02": "numeric", "m3-q03": "numeric",
    "m3-q04": "single", "m3-q05": "multiple", "m3-q06": "matching", "m3-q07": "ordering", "m3-q08": "truefalse",
    "m3-q09": "fill", "m3-q10": "numeric", "m3-q11": "single", "m3-q12": "multiple", "m4-q01": "single",
    "m4-q02": "truefalse", "m4-q03": "numeric", "m4-q04": "single", "m4-q05": "multiple", "m4-q06": "ordering",
    "m4-q07": "matching", "m4-q08": "fill", "m4-q09": "numeric", "m4-q10": "truefalse",
}


def test_ids_the_lessons_embed_exist_with_their_types(bank):
    for qid, qtype in LESSON_TYPES.items():
        assert bank[qid].type == qtype and bank[qid].auto_graded, qid
    embedded = set()
    for path in sorted((REPO / "courses").glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        embedded |= set(re.findall(r"\bm[1-4]-q\d+\b", code))
    assert embedded, "no lesson embeds a bank question"
    for qid in sorted(embedded):
        assert qid in bank and bank[qid].auto_graded, f"{qid}: embedded in a lesson but missing or an essay"
