"""`dangxiao validate`: passes on the committed datasets, fails on each kind of damage."""
import csv

import pytest

from dangxiao.cli import main
from dangxiao.errors import DangxiaoError
from dangxiao.data import load_table
from dangxiao.questions import QuestionBankError, load_question_file


def validate(capsys, *args):
    code = main(["validate", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out + out.err


def rewrite(path, change):
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    fields = list(rows[0])
    rows = change(rows)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def set_cell(rows, row_id, column, value):
    hits = [row for row in rows if row["id"] == row_id]
    assert hits, row_id
    hits[0][column] = value
    return rows


def test_committed_datasets_pass_against_the_sources(capsys, seeds, no_courses):
    code, out = validate(capsys, "--sources", seeds, "--courses", no_courses)
    assert code == 0, out
    assert "全部通过" in out and "原文中每个数字都有着落" in out


def test_tampered_quotation_fails(capsys, seeds, datasets_copy, no_courses):
    rewrite(datasets_copy / "quotations.csv",
            lambda rows: set_cell(rows, "wuhan-q05", "text", "社区是城市治理体系的基础单元"))
    code, out = validate(capsys, "--sources", seeds, "--datasets", datasets_copy, "--courses", no_courses)
    assert code == 1
    assert "quotations.csv: wuhan-q05" in out


def test_wrong_indicator_value_fails(capsys, seeds, datasets_copy, no_courses):
    rewrite(datasets_copy / "indicators.csv", lambda rows: set_cell(rows, "wuhan-12", "value", "15600"))
    code, out = validate(capsys, "--sources", seeds, "--datasets", datasets_copy, "--courses", no_courses)
    assert code == 1
    assert "indicators.csv: wuhan-12" in out and "15.6万名" in out


def test_wrong_baseline_fails(capsys, seeds, datasets_copy, no_courses):
    rewrite(datasets_copy / "indicators.csv", lambda rows: set_cell(rows, "wuhan-11", "baseline", ""))
    code, out = validate(capsys, "--sources", seeds, "--datasets", datasets_copy, "--courses", no_courses)
    assert code == 1 and "wuhan-11" in out and "baseline" in out


def test_missing_figure_fails(capsys, seeds, datasets_copy, no_courses):
    rewrite(datasets_copy / "indicators.csv", lambda rows: [row for row in rows if row["text"] != "1094个"])
    code, out = validate(capsys, "--sources", seeds, "--datasets", datasets_copy, "--courses", no_courses)
    assert code == 1
    assert "数字“1094”" in out and "wuhan" in out


def test_unknown_source_and_duplicate_id_fail_without_sources(capsys, datasets_copy, no_courses):
    def damage(rows):
        rows[1]["source"] = "beijing"
        rows[2]["id"] = rows[3]["id"]
        return rows
    rewrite(datasets_copy / "measures.csv", damage)
    code, out = validate(capsys, "--datasets", datasets_copy, "--courses", no_courses)
    assert code == 1
    assert "未知来源 'beijing'" in out and "重复" in out and "measures.csv" in out


def test_missing_dataset_file_is_named(capsys, datasets_copy, no_courses):
    (datasets_copy / "glossary.csv").unlink()
    code, out = validate(capsys, "--datasets", datasets_copy, "--courses", no_courses)
    assert code == 1 and "glossary.csv" in out and "不存在" in out
    with pytest.raises(DangxiaoError, match="glossary.csv"):
        load_table("glossary.csv", datasets_copy)


def test_malformed_csv_value_is_named(datasets_copy):
    rewrite(datasets_copy / "indicators.csv", lambda rows: set_cell(rows, "wuhan-01", "value", "五"))
    with pytest.raises(DangxiaoError, match=r"indicators.csv.*'value'.*五"):
        load_table("indicators.csv", datasets_copy)


GOOD = """\
module: m9
questions:
  - id: m9-q01
    type: single
    level: 记忆
    difficulty: 易
    stem: 题干
    options: [甲, 乙]
    answer: 甲
    explanation: 解析
    source: wuhan
"""


@pytest.mark.parametrize("broken, field", [
    (GOOD.replace("    answer: 甲\n", ""), "answer"),
    (GOOD.replace("type: single", "type: puzzle"), "type"),
    (GOOD.replace("answer: 甲", "answer: 丙"), "answer"),
    (GOOD.replace("source: wuhan", "source: beijing"), "source"),
])
def test_malformed_question_file_names_file_id_and_field(capsys, tmp_path, datasets_copy, no_courses, broken, field):
    path = datasets_copy / "questions" / "m9.yaml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(QuestionBankError) as caught:
        load_question_file(path, {"wuhan"})
    assert (caught.value.question_id, caught.value.field) == ("m9-q01", field)
    code, out = validate(capsys, "--datasets", datasets_copy, "--courses", no_courses)
    assert code == 1
    line = next(line for line in out.splitlines() if "m9.yaml" in line)
    assert "m9-q01" in line and f"'{field}'" in line


def test_question_figure_must_match_its_indicator(capsys, datasets_copy, no_courses):
    path = datasets_copy / "questions" / "m3.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("answer: 15.6\n", "answer: 15.7\n"), encoding="utf-8")
    code, out = validate(capsys, "--datasets", datasets_copy, "--courses", no_courses)
    assert code == 1 and "m3-q02" in out and "wuhan-12" in out


def test_catalog_problems_are_reported(capsys, datasets_copy, tmp_path):
    courses = tmp_path / "with_catalog"
    courses.mkdir()
    (courses / "catalog.yaml").write_text(
        "title: 测试\nmodules:\n  - id: m1\n    lessons:\n      - {id: m1-l1, title: 甲, notebook: a.ipynb, minutes: 10}\n",
        encoding="utf-8")
    (courses / "b.ipynb").write_text("{}", encoding="utf-8")
    code, out = validate(capsys, "--datasets", datasets_copy, "--courses", courses)
    assert code == 1 and "a.ipynb" in out and "b.ipynb" in out


def test_missing_source_article_is_reported_once_and_the_rest_goes_on(capsys, seeds, tmp_path, no_courses):
    partial = tmp_path / "seeds"
    partial.mkdir()
    for path in seeds.glob("0*.txt"):
        if not path.name.startswith("002"):
            (partial / path.name).write_bytes(path.read_bytes())
    code, out = validate(capsys, "--sources", partial, "--courses", no_courses)
    assert code == 1
    assert out.count("002_*.txt") == 1 and "✓ 题库" in out


def test_misquotation_in_a_lesson_fails_validate(capsys, datasets_copy, tmp_path):
    import nbformat

    courses = tmp_path / "courses"
    courses.mkdir()
    (courses / "catalog.yaml").write_text(
        "title: 测试\nmodules:\n  - id: m1\n    lessons:\n      - {id: m1-l1, title: 甲, notebook: a.ipynb, minutes: 10}\n",
        encoding="utf-8")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("习近平总书记指出：“这是一句来源中没有的话。”")]
    nbformat.write(notebook, courses / "a.ipynb")
    code, out = validate(capsys, "--datasets", datasets_copy, "--courses", courses)
    assert code == 1 and "a.ipynb" in out and "这是一句来源中没有的话" in out
